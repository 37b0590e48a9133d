"""What recording every exchange costs: disk per article, and time per article.

    uv run python -m benchmarks.bench_evidence [--articles 30] [--latency 0.02] [--page-kb 40]

Each article is a page fetched by URL (served gzip-encoded, `--page-kb` of HTML before
compression) that links a tweet (t.co → tweet → one photo) and a direct MP4 behind a
redirect: about eight exchanges. The batch is archived twice into fresh archives, once as
embedarc runs (every exchange recorded) and once with the recorder's hook made a no-op,
and the article folders are measured: what capture/ adds against what the article costs
(its folder and its media files). Then one article is exported as a WACZ and a bag.
Last, the bundled example article (a text post whose ift.tt link leads to the original page,
which embeds a video tweet and a two-photo tweet) is archived once and measured the same way.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tests.simweb import Photo, Request, Response, SimWeb, scenarios, snowflake
from tests.simweb.media import make_mp4

from embedarc.config import Settings
from embedarc.evidence.export import choose, export_bags, export_wacz
from embedarc.job.pipeline import Input, archive
from embedarc.network import capture
from embedarc.reading.articles import read_text


class SlowWeb(SimWeb):
    """The simulated web, with a fixed delay before every answer."""

    latency = 0.02

    def handle(self, request: Request) -> Response:
        time.sleep(self.latency)
        return super().handle(request)


def batch(web: SimWeb, count: int, page_kb: int, cache: Path) -> list[Input]:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    filler = "<p>" + "The strike was reported by several outlets overnight. " * 18 + "</p>\n"
    inputs = []
    for n in range(count):
        tweet = web.tweet(
            snowflake(when, seq=n), f"user{n}", f"User {n}", f"t{n}", when, media=[Photo(640, 480)]
        )
        clip = f"https://cdn.example.net/clips/{n}.mp4"
        web.file(clip, make_mp4(160, 120, 2.0, seed=n, cache_dir=cache), "video/mp4")
        web.redirect(f"https://sho.rt/{n}", clip, 302)
        url = f"https://news.example.org/2024/05/story-{n}"
        body = "".join(filler for _ in range(max(1, page_kb * 1024 // len(filler))))
        page = (
            f"<html><head><title>Story {n}</title><link rel=canonical href='{url}'></head>"
            f"<body>{body}<a href='{tweet.tco_url}'>tweet</a> "
            f"<a href='https://sho.rt/{n}'>clip</a></body></html>"
        ).encode()
        web.page(url, gzip.compress(page, mtime=0), headers={"Content-Encoding": "gzip"})
        inputs.append(Input(url, url=url))
    return inputs


@contextmanager
def recording(on: bool) -> Iterator[None]:
    real = capture.Recorder.answer
    if not on:
        capture.Recorder.answer = lambda self, response: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        capture.Recorder.answer = real  # type: ignore[method-assign]


def timed(settings: Settings, inputs: list[Input], *, record: bool) -> float:
    with recording(record):
        started = time.perf_counter()
        reports = archive(inputs=inputs, settings=settings)
        elapsed = time.perf_counter() - started
    assert not any(r.failed for r in reports), [r.summary() for r in reports if r.failed]
    return elapsed


def size(paths: Iterator[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink())


def measure(root: Path) -> tuple[int, int, int]:
    """(article folders without media/ and capture/, media files, capture/), in bytes."""
    folders = [f for f in (root / "articles").iterdir() if f.is_dir()]
    own = sum(
        size(p for p in f.rglob("*") if p.relative_to(f).parts[0] not in ("media", "capture"))
        for f in folders
    )
    return (
        own,
        size((root / "media").rglob("*")),
        sum(size((f / "capture").rglob("*")) for f in folders),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--page-kb", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; medians shown")
    args = parser.parse_args()
    SlowWeb.latency = args.latency
    with tempfile.TemporaryDirectory() as tmp, SlowWeb(media_dir=Path(tmp) / "media") as web:
        os.environ.update(web.env())
        inputs = batch(web, args.articles, args.page_kb, Path(tmp) / "mp4")
        timed(Settings(archive_dir=Path(tmp) / "warm"), inputs[:2], record=True)  # imports
        plain_times, recorded_times = [], []
        for run in range(args.repeat):  # alternated, each into a fresh archive
            plain = Settings(archive_dir=Path(tmp) / f"plain{run}")
            recorded = Settings(archive_dir=Path(tmp) / f"recorded{run}")
            plain_times.append(timed(plain, inputs, record=False))
            recorded_times.append(timed(recorded, inputs, record=True))
        t_plain, t_recorded = statistics.median(plain_times), statistics.median(recorded_times)
        own, media, kept = measure(recorded.archive_dir)
        n = args.articles
        chosen = choose(recorded.archive_dir, [], every=True)[:1]
        started = time.perf_counter()
        export_wacz(recorded.archive_dir, chosen, Path(tmp) / "one.wacz")
        t_wacz = time.perf_counter() - started
        started = time.perf_counter()
        export_bags(recorded.archive_dir, chosen, Path(tmp) / "bags", organization="bench")
        t_bag = time.perf_counter() - started
        wacz_size = (Path(tmp) / "one.wacz").stat().st_size
        text = Path(scenarios.example(web)["text_file"])
        example = Settings(archive_dir=Path(tmp) / "example")
        article = Input(text.name, article=read_text(text.read_bytes(), source=text.name))
        timed(example, [article], record=True)
        e_own, e_media, e_kept = measure(example.archive_dir)
    per = 1000 / n
    print(f"{n} articles, {args.latency * 1000:.0f} ms per request, {args.page_kb} KB pages")
    print(f"  archive without recording: {t_plain:6.2f} s ({t_plain * per:6.1f} ms/article)")
    print(f"  archive with recording:    {t_recorded:6.2f} s ({t_recorded * per:6.1f} ms/article)")
    print(f"  recording adds:            {(t_recorded - t_plain) * per:6.1f} ms/article")
    print(
        f"  per article: folder {own / n / 1024:7.1f} KB, media {media / n / 1024:7.1f} KB, "
        f"capture/ {kept / n / 1024:6.1f} KB ({kept / (own + media) * 100:.1f}% more disk)"
    )
    print(f"  one article's WACZ: {wacz_size / 1024:.1f} KB, {t_wacz:.2f} s; its bag {t_bag:.2f} s")
    print(
        f"the bundled example: folder {e_own / 1024:.1f} KB, media {e_media / 1024:.1f} KB, "
        f"capture/ {e_kept / 1024:.1f} KB ({e_kept / (e_own + e_media) * 100:.1f}% more disk)"
    )


if __name__ == "__main__":
    main()
