"""The benchmark suite: every figure of the README's Performance section in one command.

    uv run python -m benchmarks [--smoke] [--latency 50] [--out benchmarks/results.json]

Runs the installed `embedarc` against the simulated web (a loopback TLS proxy; every answer
waits `--latency` ms, as a distant server's would), each figure beside a reference measured in
the same run, and writes them all as JSON:

1. bulk: 200 articles, 600 tweet links (a fifth of the footage shared between articles): wall
   time, requests, bytes; against the lower bound and `yt-dlp -a` over the same links;
2. incremental: the same corpus again, and `run` and `status` over a 10,000-article archive;
3. large file: 2 GB, peak memory and throughput against `curl | sha256sum`;
4. start-up: `embedarc --help` and `embedarc status` on the large archive;
5. verify: against `openssl dgst -sha256` on the same files.

--smoke runs each at a tiny size without latency: it checks that the suite still works (the
tests run it), not how fast anything is.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from embedarc import __version__

from . import bench_bulk, bench_incremental, bench_large
from .harness import machine

RESULTS = Path(__file__).parent / "results.json"
FULL = {"articles": 200, "links": 600, "ytdlp_links": 60, "archive": 10_000, "megabytes": 2048}
SMOKE = {"articles": 4, "links": 12, "ytdlp_links": 3, "archive": 12, "megabytes": 8}


def suite(folder: Path, *, sizes: dict[str, int], latency_ms: float) -> dict[str, Any]:
    started = time.perf_counter()
    bulk = bench_bulk.bench(
        folder / "bulk",
        articles=sizes["articles"],
        links=sizes["links"],
        latency_ms=latency_ms,
        ytdlp_links=sizes["ytdlp_links"],
    )
    incremental = bench_incremental.bench(
        folder / "incremental", articles=sizes["archive"], latency_ms=latency_ms
    )
    large = bench_large.bench(folder / "large", megabytes=sizes["megabytes"])
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "embedarc": __version__,
        "machine": machine(),
        "sizes": sizes,
        "bulk": bulk,
        "incremental": incremental,
        "large": large,
        "suite_s": round(time.perf_counter() - started, 1),
    }


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, reference, target) for the table."""
    bulk, inc, large = r["bulk"], r["incremental"], r["large"]
    bound = bulk["lower_bound"]["seconds"]
    yt = bulk["ytdlp"]
    return [
        (
            f"bulk: {bulk['articles']} articles, {bulk['links']} links",
            f"{bulk['full']['wall_s']:.2f} s ({bulk['full']['cpu_s']:.1f} s CPU), "
            f"{bulk['full']['requests']} requests, {bulk['full']['footage_bytes'] / 1e6:.1f} MB",
            f"bound {bound:.2f} s ({bulk['ratio_to_lower_bound']}x); yt-dlp "
            f"{yt['scaled_to_all_links_s']:.1f} s ({bulk['ratio_to_ytdlp']}x)",
            "<= 1.5x bound",
        ),
        (
            "bulk: per link, a third / all",
            f"{bulk['per_link_ms']['third']:.1f} / {bulk['per_link_ms']['full']:.1f} ms",
            "",
            "linear",
        ),
        (
            "incremental: same corpus again",
            f"{bulk['again']['wall_s']:.2f} s, {bulk['again']['requests']} requests",
            "",
            "0 requests",
        ),
        (
            f"incremental: build {inc['build']['articles']} articles",
            f"{inc['build']['wall_s']:.2f} s, {inc['build']['requests']} requests",
            f"{inc['build']['distinct_links']} distinct links",
            "",
        ),
        (
            "incremental: idle run / status",
            f"{inc['idle_run_s']:.2f} s ({inc['idle_run_requests']} requests) / "
            f"{inc['status_s']:.2f} s",
            "",
            "0 requests, < 0.5 s",
        ),
        (
            f"large file: {large['megabytes']} MB",
            f"{large['archive']['mb_per_s']:.0f} MB/s, peak RSS "
            f"{large['archive']['max_rss_mb']:.0f} MB",
            f"curl \\| sha256sum {large['curl_sha256sum']['mb_per_s']:.0f} MB/s "
            f"({large['throughput_ratio']}x); curl -o + sync "
            f"{large['curl_to_disk']['mb_per_s']:.0f} MB/s ({large['ratio_to_curl_to_disk']}x)",
            ">= 0.9x, < 150 MB",
        ),
        (
            "start-up: --help / status",
            f"{inc['startup']['help_s']:.3f} / {inc['startup']['status_s']:.3f} s",
            f"yt-dlp --version {inc['startup']['ytdlp_version_s']:.3f} s",
            "< 0.2 s",
        ),
        (
            "verify",
            f"{large['verify']['embedarc_mb_per_s']:.0f} MB/s",
            f"openssl dgst {large['verify']['openssl_mb_per_s']:.0f} MB/s "
            f"({large['verify']['ratio']}x)",
            ">= 1x",
        ),
    ]


def table(r: dict[str, Any]) -> str:
    lines = ["| benchmark | embedarc | reference | target |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(r)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no latency")
    parser.add_argument("--latency", type=float, help="ms per answer (default 50; 0 with --smoke)")
    parser.add_argument("--out", type=Path, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args(argv)
    latency = args.latency if args.latency is not None else (0.0 if args.smoke else 50.0)
    out = args.out or (None if args.smoke else RESULTS)
    with tempfile.TemporaryDirectory(prefix="embedarc-bench-") as tmp:
        result = suite(Path(tmp), sizes=SMOKE if args.smoke else FULL, latency_ms=latency)
    if out is not None:
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result))
    m = result["machine"]
    print(f"\n{m['cpus']} CPUs ({m['cpu_model']}), {latency:g} ms per answer, "
          f"suite {result['suite_s']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
