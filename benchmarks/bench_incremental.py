"""A large archive kept up to date: what `run` and `status` cost when there is nothing new.

    uv run python -m benchmarks.bench_incremental [--articles 10000] [--latency 50]

Builds an archive of `--articles` articles the way a person would (a drop folder as a source,
then `embedarc run`), each article linking one of three tweets behind `pic.twitter.com`, as
syndicated copies of the same story do. Building it is measured too: the three short links need
resolving once each. Then `embedarc run` again (nothing new: no request) and `embedarc status`,
and the start-up of `embedarc --help`, `embedarc status` and `yt-dlp --version` (best of 5).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from tests.simweb import SimWeb

from .bench_bulk import build_corpus
from .harness import best_of, cli_env, program, run


def build(web: SimWeb, folder: Path, *, articles: int) -> tuple[Path, dict[str, Any]]:
    """An archive of `articles` articles over three tweets; the figures of building it."""
    drop = folder / "drop"
    corpus = build_corpus(web, drop, articles=articles, links=articles, shared=1 - 3 / articles)
    archive = folder / "archive"
    env = cli_env(web.env())
    embedarc = program("embedarc")
    # `sources add` needs an archive: the first article makes it
    first = [embedarc, "archive", "--quiet", "--archive-dir", str(archive)]
    run([*first, str(corpus.articles[0])], env=env).check("archive")
    add = [embedarc, "sources", "add", "--archive-dir", str(archive), str(drop)]
    run(add, env=env).check("sources add")
    web.clear_requests()
    built = run([embedarc, "run", "--quiet", "--archive-dir", str(archive)], env=env)
    built.check("run")
    return archive, {
        "articles": articles,
        "distinct_links": len(corpus.tweets),
        "wall_s": round(built.wall, 3),
        "requests": len(web.requests),
        "max_rss_mb": round(built.max_rss_mb, 1),
    }


def idle(web: SimWeb, archive: Path) -> dict[str, Any]:
    env = cli_env(web.env())
    embedarc = program("embedarc")
    run([embedarc, "status", "--archive-dir", str(archive)], env=env)  # bytecode written
    web.clear_requests()
    again = run([embedarc, "run", "--quiet", "--archive-dir", str(archive)], env=env).check("run")
    run_requests = len(web.requests)
    status = best_of(3, [embedarc, "status", "--archive-dir", str(archive)], env=env)
    return {
        "idle_run_s": round(again.wall, 3),
        "idle_run_requests": run_requests,
        "status_s": round(status.wall, 3),
        "requests_after_status": len(web.requests),
    }


def startup(web: SimWeb, archive: Path) -> dict[str, Any]:
    env = cli_env(web.env())
    embedarc = program("embedarc")
    status = [embedarc, "status", "--archive-dir", str(archive)]
    run([program("yt-dlp"), "--version"], env=env)  # its first start writes its bytecode
    return {
        "help_s": round(best_of(5, [embedarc, "--help"], env=env).wall, 3),
        "status_s": round(best_of(5, status, env=env).wall, 3),
        "ytdlp_version_s": round(best_of(5, [program("yt-dlp"), "--version"], env=env).wall, 3),
    }


def bench(folder: Path, *, articles: int, latency_ms: float) -> dict[str, Any]:
    with SimWeb(media_dir=folder / "simweb-media") as web:
        web.latency = latency_ms / 1000
        archive, built = build(web, folder, articles=articles)
        return {
            "latency_ms": latency_ms,
            "build": built,
            **idle(web, archive),
            "startup": startup(web, archive),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=50.0, help="milliseconds per answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = bench(Path(tmp), articles=args.articles, latency_ms=args.latency)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
