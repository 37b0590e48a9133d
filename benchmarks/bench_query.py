"""How long do `list` and `search` take on a large archive?

    uv run python -m benchmarks.bench_query [--articles 10000] [--repeat 5]

Builds a synthetic index (no folders, no files: `list` and `search` read the index alone) with
`--articles` articles, each with 3 links (one to a post with a photo and a video), through
`Index.write_article` so the search tables are filled by their triggers as in real use; then
times the library calls the commands make, and the installed command end to end.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.sidecar import parse
from embedarc.upkeep.query import Filters, list_articles
from embedarc.upkeep.search import search

WORDS = [
    "strike",
    "convoy",
    "airbase",
    "drone",
    "port",
    "bridge",
    "flood",
    "storm",
    "rocket",
    "border",
    "tanks",
    "refinery",
    "ceasefire",
    "protest",
    "harbour",
    "missile",
    "frontline",
    "pipeline",
    "blackout",
    "evacuation",
]
OUTCOMES = ("archived", "archived", "archived", "gone", "failed", "no_media")


def sidecar(n: int, rng: random.Random) -> dict[str, Any]:
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + f" {n}"
    article_id = hashlib.sha256(f"article {n}".encode()).hexdigest()[:16]
    stamp = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.{n % 1000:03d}Z"
    post_key = f"mastodon:social.example/{n}"
    media = []
    for kind, mime in (("photo", "image/jpeg"), ("video", "video/mp4")):
        sha = hashlib.sha256(f"{kind} {n}".encode()).hexdigest()
        media.append(
            {
                "sha256": sha,
                "path": f"media/{sha[:2]}/{sha}.{mime.split('/')[1]}",
                "size": 1000 + n,
                "mime": mime,
                "width": 640,
                "height": 360,
                "duration": 12.0 if kind == "video" else None,
                "source_url": f"https://files.social.example/{n}/{kind}",
                "fetched_at": stamp,
                "post": post_key,
                "kind": kind,
            }
        )
    links = [
        {
            "id": f"{article_id}-{k}",
            "url": url,
            "kind": "link",
            "outcome": rng.choice(OUTCOMES) if k else "archived",
            "post": post_key if k == 0 else None,
            "resolution": {"hops": [{"url": url, "status": 200}], "final_url": url},
            "media": [{"sha256": m["sha256"], "post": post_key} for m in media] if k == 0 else [],
        }
        for k, url in enumerate(
            [
                f"https://social.example/@user{n % 500}/{n}",
                f"https://t.co/{hashlib.sha256(str(n).encode()).hexdigest()[:10]}",
                f"https://news.example.org/{rng.choice(WORDS)}/{n}",
            ]
        )
    ]
    text = " ".join(rng.choice(WORDS) for _ in range(30))
    return {
        "article": {
            "id": article_id,
            "identity": f"https://news.example.org/story/{n}",
            "folder": f"articles/2024-01-01-story-{n}-{article_id[:8]}",
            "source": f"https://news.example.org/story/{n}",
            "title": title,
            "canonical_url": f"https://news.example.org/story/{n}",
            "media_type": "text/html",
            "content_sha256": hashlib.sha256(title.encode()).hexdigest(),
            "archived_at": stamp,
        },
        "links": links,
        "posts": [
            {
                "key": post_key,
                "site": "mastodon",
                "id": str(n),
                "url": links[0]["url"],
                "author": f"@user{n % 500}@social.example",
                "author_name": f"User {n % 500}",
                "text": text,
            }
        ],
        "media": media,
    }


def timed(label: str, repeat: int, call: Any) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    count = len(result) if hasattr(result, "__len__") else len(result.hits)
    print(
        f"{label:<48} {min(times) * 1000:8.1f} ms best, {max(times) * 1000:8.1f} ms worst"
        f"  ({count} rows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-query-"))
    try:
        rng = random.Random(1)
        start = time.perf_counter()
        with Index(root / INDEX_NAME) as index:
            index.db.execute("PRAGMA synchronous=OFF")  # a throwaway index: build it quickly
            for n in range(args.articles):
                index.write_article(parse(sidecar(n, rng)))
        print(f"built {args.articles} articles in {time.perf_counter() - start:.1f} s")
        (root / "articles").mkdir()
        with Index.for_reading(root / INDEX_NAME) as index:
            timed("list (newest 100)", args.repeat, lambda: list_articles(index))
            timed(
                "list --limit 0 (all)", args.repeat, lambda: list_articles(index, Filters(limit=0))
            )
            timed(
                "list --outcome failed --site mastodon",
                args.repeat,
                lambda: list_articles(index, Filters(outcomes=("failed",), site="mastodon")),
            )
            timed("search convoy (a common word)", args.repeat, lambda: search(index, "convoy"))
            timed(
                "search convoy --limit 0 (every match)",
                args.repeat,
                lambda: search(index, "convoy", limit=0),
            )
            timed(
                "search 'convoy airbase tanks'",
                args.repeat,
                lambda: search(index, "convoy airbase tanks"),
            )
            timed(
                "search @user42@social.example (an author)",
                args.repeat,
                lambda: search(index, "@user42@social.example"),
            )
            timed("search a rare title word ('4242')", args.repeat, lambda: search(index, "4242"))
        embedarc = str(Path(sys.executable).with_name("embedarc"))
        for command in (["list"], ["search", "convoy"]):
            best = float("inf")
            for _ in range(args.repeat):
                begin = time.perf_counter()
                subprocess.run(
                    [embedarc, *command, "--archive-dir", str(root)],
                    check=True,
                    capture_output=True,
                )
                best = min(best, time.perf_counter() - begin)
            label = f"embedarc {' '.join(command)} (the whole command)"
            print(f"{label:<48} {best * 1000:8.1f} ms best")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
