"""Bulk and incremental: many articles of tweet links, archived by the installed CLI.

    uv run python -m benchmarks.bench_bulk [--articles 200] [--links 600] [--latency 50]

The corpus: `--articles` text articles holding `--links` bare `pic.twitter.com/…` links in
all, to tweets with one video (two in three) or one photo; a fifth of the links lead to footage
another article links too. Every answer of the simulated web waits `--latency` ms.

Measured: a third of the articles, then all of them, into fresh archives (is wall time linear in
the links?), then all of them again into the same archive (nothing new: no request should be
made); the lower bound of the full batch from the requests it needs (a short link, the tweet's
syndication answer, its file: three requests that wait for each other) and the default limits;
and `yt-dlp -a` over the first `--ytdlp-links` links through the same proxy (yt-dlp works one
link at a time, so its time is scaled to the whole list; it gets no photos).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.simweb import Gif, Photo, SimWeb, TweetSpec, Video, snowflake

from embedarc.config import Settings

from .harness import cli_env, lower_bound, program, run

WHEN = datetime(2024, 5, 1, tzinfo=UTC)
HOSTS = {"video": "video.twimg.com", "photo": "pbs.twimg.com"}


@dataclass(frozen=True)
class Corpus:
    articles: list[Path]  # text files, one article each
    links: list[str]  # every link of every article, in order (with the shared ones again)
    tweets: list[TweetSpec]  # the distinct tweets
    chains: list[list[str]]  # per distinct link: the hosts asked one after the other


def build_corpus(
    web: SimWeb, folder: Path, *, articles: int, links: int, shared: float = 0.2, first: int = 0
) -> Corpus:
    """Register the tweets with the simulated web and write the articles that link them."""
    distinct = max(1, links - round(links * shared))
    tweets = []
    for n in range(distinct):
        media: list[Photo | Video | Gif] = (
            [Photo(64, 48)] if n % 3 == 2 else [Video(64, 48, 1.0, hls=False)]
        )
        tweets.append(
            web.tweet(
                snowflake(WHEN, seq=first + n), f"user{n % 50}", f"User {n}", f"Footage {n}",
                WHEN, media=media,
            )
        )  # fmt: skip
    per_article = -(-links // articles)
    slots: list[list[str]] = [[] for _ in range(articles)]
    order = list(range(distinct)) + [(5 * r) % distinct for r in range(links - distinct)]
    for slot, n in enumerate(order):
        held = slots[min(slot // per_article, articles - 1)]
        while tweets[n].pic_text in held and len(held) < distinct:
            n = (n + 1) % distinct  # an article links a tweet once
        held.append(tweets[n].pic_text)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, held in enumerate(slots):
        path = folder / f"article-{number:05d}.txt"
        lines = [f"Article {number}", ""]
        lines += [f"Footage from the scene. {link} — User (@user) May 1, 2024" for link in held]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    chains = [
        ["pic.twitter.com", "cdn.syndication.twimg.com", HOSTS[t.items[0].kind]] for t in tweets
    ]
    return Corpus(paths, [link for held in slots for link in held], tweets, chains)


def _archive(web: SimWeb, archive: Path, articles: list[Path]) -> dict[str, Any]:
    web.clear_requests()
    command = [program("embedarc"), "archive", "--quiet", "--archive-dir", str(archive)]
    measured = run([*command, *map(str, articles)], env=cli_env(web.env())).check("archive")
    media = archive / "media"
    size = sum(p.stat().st_size for p in media.rglob("*") if p.is_file()) if media.is_dir() else 0
    return {
        "articles": len(articles),
        "wall_s": round(measured.wall, 3),
        "cpu_s": round(measured.cpu, 3),
        "requests": len(web.requests),
        "footage_bytes": size,
        "max_rss_mb": round(measured.max_rss_mb, 1),
    }


def _ytdlp(web: SimWeb, folder: Path, links: list[str]) -> dict[str, Any]:
    listing = folder / "links.txt"
    listing.write_text("".join(f"https://{link}\n" for link in links), encoding="utf-8")
    web.clear_requests()
    command = [program("yt-dlp"), "-a", str(listing), "-P", str(folder / "ytdlp")]
    command += ["-o", "%(display_id)s-%(id)s.%(ext)s", "--no-progress", "-q", "--no-warnings"]
    command += ["--compat-options", "no-certifi"]  # trust SSL_CERT_FILE (the test CA)
    measured = run(command, env=cli_env(web.env()))  # exits 1: photo tweets have no video
    got = [p for p in (folder / "ytdlp").glob("*") if p.is_file()]
    return {
        "links": len(links),
        "wall_s": round(measured.wall, 3),
        "cpu_s": round(measured.cpu, 3),
        "requests": len(web.requests),
        "files": len(got),
    }


def bench(
    folder: Path, *, articles: int, links: int, latency_ms: float, ytdlp_links: int
) -> dict[str, Any]:
    latency = latency_ms / 1000
    defaults = Settings(archive_dir=folder)
    with SimWeb(media_dir=folder / "simweb-media", latency=0) as web:
        corpus = build_corpus(web, folder / "articles", articles=articles, links=links)
        web.latency = latency
        third = corpus.articles[: max(1, len(corpus.articles) // 3)]
        part = _archive(web, folder / "archive-third", third)
        part["links"] = sum(len(p.read_text().splitlines()) - 2 for p in third)
        full = _archive(web, folder / "archive", corpus.articles)
        full["links"] = len(corpus.links)
        again = _archive(web, folder / "archive", corpus.articles)
        reference = _ytdlp(web, folder, corpus.links[:ytdlp_links])
    bound = lower_bound(
        corpus.chains,
        latency=latency,
        concurrency=defaults.concurrency,
        per_host=defaults.per_host,
    )
    scaled = reference["wall_s"] * len(corpus.links) / max(1, reference["links"])
    per_link_third = part["wall_s"] / max(1, part["links"])
    per_link_full = full["wall_s"] / max(1, full["links"])
    return {
        "latency_ms": latency_ms,
        "concurrency": defaults.concurrency,
        "per_host": defaults.per_host,
        "articles": len(corpus.articles),
        "links": len(corpus.links),
        "distinct_links": len(corpus.tweets),
        "needed_requests": sum(len(chain) for chain in corpus.chains),
        "first_third": part,
        "full": full,
        "again": again,
        "lower_bound": bound.as_dict(),
        "ratio_to_lower_bound": round(full["wall_s"] / bound.seconds, 2) if bound.seconds else None,
        "per_link_ms": {
            "third": round(per_link_third * 1000, 2),
            "full": round(per_link_full * 1000, 2),
        },
        "ytdlp": {**reference, "scaled_to_all_links_s": round(scaled, 2)},
        "ratio_to_ytdlp": round(full["wall_s"] / scaled, 3) if scaled else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--links", type=int, default=600)
    parser.add_argument("--latency", type=float, default=50.0, help="milliseconds per answer")
    parser.add_argument("--ytdlp-links", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = bench(
            Path(tmp),
            articles=args.articles,
            links=args.links,
            latency_ms=args.latency,
            ytdlp_links=args.ytdlp_links,
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
