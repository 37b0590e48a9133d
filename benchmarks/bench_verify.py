"""Does `verify` run at disk speed? Time it against `sha256sum` over the same files.

    uv run python -m benchmarks.bench_verify [--gigabytes 1] [--files 200] [--articles 4]

Builds an archive of random-bytes files in a temporary folder (written through the store, so
every name is the file's real SHA-256), gives a few articles a sidecar, hard-linked media and
index rows, then times `verify` over the whole archive and `sha256sum` over the store's files.
Both read the files once, so the page cache is dropped first when possible (root on Linux);
otherwise both read from memory and the figures compare hashing speed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from embedarc.keeping import sidecar
from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.store import Store
from embedarc.upkeep.verify import verify

from .harness import drop_caches

CHUNK = 1024 * 1024


def random_chunks(size: int) -> Any:
    left = size
    while left > 0:
        n = min(CHUNK, left)
        yield os.urandom(n)
        left -= n


def build(root: Path, *, total: int, files: int, articles: int) -> list[Path]:
    store = Store(root)
    store.ensure()
    stored = []
    for _ in range(files):
        received = store.receive(random_chunks(total // files), max_size=total)
        stored.append(store.commit(received, "bin"))
    index = Index(root / INDEX_NAME)
    per_article = len(stored) // articles
    for n in range(articles):
        raw = f"Article {n}\n".encode()
        article_id = sidecar.short_hash(f"sha256:{hashlib.sha256(raw).hexdigest()}")
        folder_name = f"articles/2024-01-01-article-{n}-{article_id[:8]}"
        folder = root / folder_name
        store.write_file(folder / "article.txt", raw)
        media = []
        for path in stored[n * per_article : (n + 1) * per_article]:
            linked = store.link_media(folder, path)
            media.append(
                {
                    "sha256": path.name.split(".")[0],
                    "size": path.stat().st_size,
                    "mime": "application/octet-stream",
                    "path": store.relative(path),
                    "article_path": store.relative(linked),
                    "source_url": f"https://media.example.org/{path.name}",
                    "fetched_at": "2024-01-01T00:00:00Z",
                }
            )
        data = {
            "schema": sidecar.SCHEMA,
            "article": {
                "id": article_id,
                "identity": f"sha256:{hashlib.sha256(raw).hexdigest()}",
                "folder": folder_name,
                "source": f"article-{n}.txt",
                "title": f"Article {n}",
                "media_type": "text/plain",
                "content_sha256": hashlib.sha256(raw).hexdigest(),
                "original": "article.txt",
                "archived_at": "2024-01-01T00:00:00Z",
            },
            "links": [],
            "tweets": [],
            "media": media,
        }
        record = sidecar.parse(data)
        store.write_file(folder / sidecar.SIDECAR, sidecar.dumps(record))
        index.write_article(record)
    index.close()
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--articles", type=int, default=4)
    args = parser.parse_args()
    total = int(args.gigabytes * 1024**3)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        root = Path(tmp) / "archive"
        stored = build(root, total=total, files=args.files, articles=args.articles)
        size = sum(p.stat().st_size for p in stored)
        print(f"{len(stored)} files, {size / 1e6:.0f} MB, {args.articles} articles in {root}")

        cold = drop_caches()
        started = time.perf_counter()
        report = verify(root)
        t_verify = time.perf_counter() - started
        assert report.sound, report.as_dict()

        drop_caches()
        started = time.perf_counter()
        verify(root, workers=1)
        t_single = time.perf_counter() - started

        drop_caches()
        started = time.perf_counter()
        subprocess.run(["sha256sum", *map(str, stored)], check=True, stdout=subprocess.DEVNULL)
        t_sum = time.perf_counter() - started

    cache = "cold cache" if cold else "warm cache (cannot drop it without root)"
    print(f"{cache}, {os.cpu_count()} CPUs")
    checked = report.bytes_checked / 1e6
    print(f"  embedarc verify:            {t_verify:6.2f} s  {checked / t_verify:7.0f} MB/s")
    print(f"  embedarc verify, 1 thread:  {t_single:6.2f} s  {checked / t_single:7.0f} MB/s")
    print(f"  sha256sum:                  {t_sum:6.2f} s  {size / 1e6 / t_sum:7.0f} MB/s")


if __name__ == "__main__":
    main()
