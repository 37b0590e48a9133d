"""How batch-wide concurrency pays: archive N articles through a simulated web with latency.

    uv run python -m benchmarks.bench_archive [--articles 40] [--latency 0.05]

Each article links one tweet (t.co → tweet → one photo), so each costs three requests to
three hosts. Every request to the simulated web waits `--latency` seconds before its answer,
as a distant server would. The same batch is archived with one request in flight at a time,
then with the default limits, then once more into the same archive (nothing to download).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.simweb import Photo, Request, Response, SimWeb, snowflake

from embedarc.config import Settings
from embedarc.job.pipeline import Input, archive
from embedarc.reading.articles import read_text


class SlowWeb(SimWeb):
    """The simulated web, with a fixed delay before every answer."""

    latency = 0.05

    def handle(self, request: Request) -> Response:
        time.sleep(self.latency)
        return super().handle(request)


def batch(web: SimWeb, count: int) -> list[Input]:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    inputs = []
    for n in range(count):
        tweet = web.tweet(
            snowflake(when, seq=n), f"user{n}", f"User {n}", f"t{n}", when, media=[Photo(64, 48)]
        )
        text = f"Article {n}\nFootage: {tweet.tco_url}\n"
        inputs.append(Input(f"a{n}.txt", article=read_text(text.encode(), source=f"a{n}.txt")))
    return inputs


def timed(settings: Settings, inputs: list[Input]) -> float:
    started = time.perf_counter()
    reports = archive(inputs=inputs, settings=settings)
    elapsed = time.perf_counter() - started
    assert not any(r.failed for r in reports), [r.summary() for r in reports if r.failed]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    SlowWeb.latency = args.latency
    with tempfile.TemporaryDirectory() as tmp, SlowWeb(media_dir=Path(tmp) / "media") as web:
        os.environ.update(web.env())
        inputs = batch(web, args.articles)
        serial = Settings(archive_dir=Path(tmp) / "serial", concurrency=1, per_host=1)
        default = Settings(archive_dir=Path(tmp) / "default")
        requests = len(web.requests)
        t_serial = timed(serial, inputs)
        per_run = len(web.requests) - requests
        t_default = timed(default, inputs)
        web.clear_requests()
        t_again = timed(default, inputs)
        again = len(web.requests)
    latency_ms = args.latency * 1000
    print(f"{args.articles} articles, {per_run} requests per run, {latency_ms:.0f} ms latency each")
    print(f"  one request at a time:            {t_serial:6.2f} s")
    speedup = t_serial / t_default
    print(f"  default limits (8 total, 4/host): {t_default:6.2f} s  ({speedup:.1f}x faster)")
    print(f"  second run, same archive:         {t_again:6.2f} s  ({again} requests)")


if __name__ == "__main__":
    main()
