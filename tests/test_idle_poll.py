"""Polling a source that has nothing new costs one look at it, not one per item it ever gave."""

from __future__ import annotations

from pathlib import Path

from embedarc.config import Settings
from embedarc.job import sources
from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.store import Store
from embedarc.network.net import Net


def folder_of_articles(folder: Path, count: int) -> Path:
    folder.mkdir()
    for n in range(count):
        (folder / f"article-{n:03d}.txt").write_text(f"Article {n}\n\nNothing linked.\n")
    return folder


def test_an_unchanged_folder_is_polled_with_one_query_however_many_items(
    tmp_path: Path,
) -> None:
    root = tmp_path / "archive"
    Store(root).ensure()
    drop = folder_of_articles(tmp_path / "drop", 60)
    with Index(root / INDEX_NAME) as index, Net(Settings(archive_dir=root)) as net:
        source = sources.add(index, str(drop))
        assert sources.poll(net, index, source).new == 60
        statements: list[str] = []
        index.db.conn.set_trace_callback(statements.append)
        (drop / "article-new.txt").write_text("A new one\n\nNothing linked.\n")

        polled = sources.poll(net, index, source)

        index.db.conn.set_trace_callback(None)
        waiting = [item.key for item in sources.pending(index)]
    assert polled.new == 1
    reads = [s for s in statements if s.lower().lstrip().startswith("select")]
    assert len([s for s in reads if "source_items" in s]) == 1
    assert waiting.count("article-new.txt") == 1 and len(waiting) == 61


def test_an_item_offered_twice_in_one_poll_is_recorded_once(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Store(root).ensure()
    listing = tmp_path / "links.txt"
    listing.write_text("https://news.example/a\nhttps://news.example/a\nhttps://news.example/b\n")
    with Index(root / INDEX_NAME) as index, Net(Settings(archive_dir=root)) as net:
        source = sources.add(index, str(listing))
        assert sources.poll(net, index, source).new == 2
        assert sources.poll(net, index, source).new == 0
