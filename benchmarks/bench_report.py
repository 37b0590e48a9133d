"""How long does the HTML view take for a large archive, and how large is it?

    uv run python -m benchmarks.bench_report [--articles 10000] [--images 2000] [--videos 100]

Builds a synthetic archive quickly in a temporary folder: real stored files (JPEG images made
with Pillow, H.264 MP4s made with the bundled ffmpeg), and for each article a sidecar, hard
links to two of the files and its index rows, written directly (no network, no pipeline),
with a year of `check` history for the link-rot curve. Then it times:

  1. `embedarc report` on the archive with no view yet (pages and every thumbnail made);
  2. `embedarc report` again (thumbnails already there: the pages alone);
  3. what `archive` and `run` pay after writing one article: its page and the archive page;

and prints the size of the view: the archive page, the article pages, the thumbnails.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from embedarc.keeping import sidecar
from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.store import Store
from embedarc.report import update_view

SITES = [f"news{n}.example.org" for n in range(40)]
OUTCOMES = ["archived"] * 12 + ["gone", "login_required", "no_media", "failed"]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def jpeg(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 360), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        box = (
            sorted(rng.randrange(640) for _ in range(2)),
            sorted(rng.randrange(360) for _ in range(2)),
        )
        draw.rectangle((box[0][0], box[1][0], box[0][1], box[1][1]), fill=rng.randrange(1 << 24))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def mp4(seed: int, folder: Path) -> bytes:
    import imageio_ffmpeg

    out = folder / f"v{seed}.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration=2,hue=h={seed % 360}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast",
            "-metadata", f"comment={seed}", "-movflags", "+faststart", str(out),
        ],
        check=True,
    )  # fmt: skip
    data = out.read_bytes()
    out.unlink()
    return data


def store_files(store: Store, images: int, videos: int) -> list[dict[str, Any]]:
    """Stored files, as sidecar media entries (without their article paths)."""
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        blobs: list[tuple[bytes, str, str, int, int, float | None]] = [
            (jpeg(n), "image/jpeg", "jpg", 640, 360, None) for n in range(images)
        ]
        blobs += [(mp4(n, Path(tmp)), "video/mp4", "mp4", 640, 360, 2.0) for n in range(videos)]
    for data, mime, ext, width, height, duration in blobs:
        sha = hashlib.sha256(data).hexdigest()
        path = store.media_path(sha, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append(
            {
                "sha256": sha,
                "size": len(data),
                "mime": mime,
                "path": store.relative(path),
                "source_url": f"https://cdn.example.org/{sha[:16]}.{ext}",
                "fetched_at": "",
                "method": "http",
                "width": width,
                "height": height,
                "duration": duration,
                "headers": {},
            }
        )
    return entries


def build(root: Path, *, articles: int, images: int, videos: int) -> None:
    rng = random.Random(1)
    store = Store(root)
    store.ensure()
    files = store_files(store, images, videos)
    now = datetime.now(UTC)
    index = Index(root / INDEX_NAME)
    index.db.execute("PRAGMA synchronous=OFF")  # a benchmark's archive: no need to survive a crash
    checks = []
    for n in range(articles):
        when = now - timedelta(days=365 * (articles - n) / articles, minutes=rng.randrange(60))
        stamp = iso(when)
        site = rng.choice(SITES)
        url = f"https://{site}/story/{n}"
        article_id = sidecar.short_hash(url)
        folder_name = f"articles/{stamp[:10]}-story-number-{n}-{article_id[:8]}"
        folder = root / folder_name
        (folder / "media").mkdir(parents=True)
        raw = f"Story number {n} <b>about things</b>\n{url}\n".encode()
        (folder / "article.txt").write_bytes(raw)
        media = []
        for item in rng.sample(files, 2):
            linked = folder / "media" / Path(item["path"]).name
            linked.hardlink_to(root / item["path"])
            media.append({**item, "article_path": store.relative(linked), "fetched_at": stamp})
        links = []
        for k in range(3):
            outcome = rng.choice(OUTCOMES)
            link_url = f"https://t.example/{n}-{k}"
            links.append(
                {
                    "id": sidecar.short_hash(article_id, link_url),
                    "url": link_url,
                    "raw": link_url,
                    "kind": "url",
                    "found_in": "article",
                    "attribution": None,
                    "post": f"bluesky:{n}-{k}",
                    "tweet_id": None,
                    "outcome": outcome,
                    "reason": None if outcome == "archived" else "HTTP 503",
                    "resolved_at": stamp,
                    "resolution": {
                        "hops": [
                            {"url": link_url, "status": 301, "location": url, "time": stamp},
                            {"url": url, "status": 200, "location": None, "time": stamp},
                        ],
                        "final_url": url,
                        "stop": "final",
                    },
                    "media": [{"sha256": media[k]["sha256"]}]
                    if k < 2 and outcome == "archived"
                    else [],
                    "evidence": [],
                }
            )
            if outcome == "archived":
                # About a third of the originals die, within 200 days of being archived.
                died = when + timedelta(days=rng.randrange(1, 200))
                dead_now = rng.random() < 0.3 and died < now
                checks.append(
                    {
                        "link_id": links[-1]["id"],
                        "article_id": article_id,
                        "url": link_url,
                        "last_checked": iso(now),
                        "last_alive": iso(died - timedelta(days=1)) if dead_now else iso(now),
                        "first_dead": iso(died) if dead_now else None,
                        "alive": 0 if dead_now else 1,
                        "detail": "{}",
                    }
                )
        posts: list[dict[str, Any]] = [
            {
                "key": f"bluesky:{n}-{k}",
                "site": "bluesky",
                "id": f"{n}-{k}",
                "url": f"https://bsky.app/profile/someone.example/post/{n}{k}",
                "author": "someone.example",
                "author_name": "Some One",
                "text": f"What I saw, part {k} of story {n}.",
                "created_at": stamp,
                "source": "appview",
                "origin_url": None,
                "quoted": None,
                "reposted": None,
                "media": [],
            }
            for k in range(3)
        ]
        data = {
            "schema": sidecar.SCHEMA,
            "embedarc": "bench",
            "yt_dlp": None,
            "article": {
                "id": article_id,
                "identity": url,
                "folder": folder_name,
                "source": url,
                "title": f"Story number {n}: what happened in the square, and after",
                "canonical_url": url,
                "published": stamp,
                "origin_name": None,
                "origin_url": None,
                "media_type": "text/plain",
                "content_sha256": hashlib.sha256(raw).hexdigest(),
                "original": "article.txt",
                "earlier_originals": [],
                "origin_page": None,
                "archived_at": stamp,
                "links_skipped": 0,
            },
            "links": links,
            "tweets": [],
            "posts": posts,
            "media": media,
        }
        record = sidecar.parse(data)
        (folder / sidecar.SIDECAR).write_bytes(sidecar.dumps(record))
        index.write_article(record)
    with index.write():
        index.db.table("link_checks").insert_all(checks, pk="link_id")
    index.close()


def size_of(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--videos", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp) / "archive"
        started = time.monotonic()
        build(root, articles=args.articles, images=args.images, videos=args.videos)
        print(f"built {args.articles} articles, {args.images + args.videos} files in "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

        first = update_view(root)
        print(f"report, no view yet:         {first.seconds:6.2f} s "
              f"({first.pages} pages, {first.thumbnails} thumbnails made)")  # fmt: skip
        again = update_view(root)
        print(f"report again (pages only):   {again.seconds:6.2f} s ({again.pages} pages)")
        one_id = next(iter(Index.reader(root / INDEX_NAME).db.query("select id from articles")))
        after = update_view(root, article_ids=[one_id["id"]])
        print(f"after archiving one article: {after.seconds:6.2f} s "
              f"(its page and the archive page)")  # fmt: skip

        home = root / "index.html"
        pages = list(root.glob("articles/*/index.html"))
        thumbs = [p for p in (root / "thumbs").rglob("*.jpg")]
        print(f"archive page: {home.stat().st_size / 1e6:.1f} MB")
        print(f"article pages: {len(pages)}, {size_of(pages) / 1e6:.1f} MB "
              f"({size_of(pages) / max(len(pages), 1) / 1e3:.1f} KB each)")  # fmt: skip
        print(f"thumbnails: {len(thumbs)}, {size_of(thumbs) / 1e6:.1f} MB")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
