"""Sources `run` polls: RSS/Atom feeds, folders where article files are dropped, files of URLs.

Kept in the index (`sources`, `source_items`): operational state, never rebuilt from sidecars.
An item stays `pending` until its article is archived, so a failed fetch is tried again on the
next run even when the feed itself answers 304.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clock import iso, utcnow
from .errors import UsageError
from .index import Index
from .net import Net, NetworkError, read_limited

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".text"}
MAX_FEED = 32 * 1024 * 1024


class SourceKind(enum.StrEnum):
    FEED = "feed"
    FOLDER = "folder"
    LIST = "list"


@dataclass(frozen=True)
class Source:
    id: int
    kind: SourceKind
    location: str
    added_at: str
    last_polled: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Source:
        return cls(**{**row, "kind": SourceKind(row["kind"])})

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, enum.Enum) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Item:
    """Something a source offered: an article URL or a file, to archive once."""

    source_id: int
    key: str
    target: str

    @property
    def is_url(self) -> bool:
        return self.target.lower().startswith(("http://", "https://"))


def classify(location: str) -> tuple[SourceKind, str]:
    """A URL is a feed, a folder is a drop folder, a file is a list of article URLs."""
    if location.lower().startswith(("http://", "https://")):
        return SourceKind.FEED, location
    path = Path(location).expanduser()
    if path.is_dir():
        return SourceKind.FOLDER, str(path.resolve())
    if path.is_file():
        return SourceKind.LIST, str(path.resolve())
    raise UsageError(f"{location}: not a feed URL, a folder or a file of URLs")


def all_sources(index: Index) -> list[Source]:
    return [Source.from_row(row) for row in index.db.table("sources").rows_where(order_by="id")]


def add(index: Index, location: str) -> Source:
    kind, where = classify(location)
    table = index.db.table("sources")
    if list(table.rows_where("location = ?", [where])):
        raise UsageError(f"{where} is already a source")
    with index.write():
        table.insert({"kind": str(kind), "location": where, "added_at": iso(utcnow())})
    return next(s for s in all_sources(index) if s.location == where)


def find(index: Index, location_or_id: str) -> Source:
    candidates = {location_or_id}
    if not location_or_id.lower().startswith(("http://", "https://")):
        candidates.add(str(Path(location_or_id).expanduser().resolve()))
    for source in all_sources(index):
        if source.location in candidates or str(source.id) == location_or_id.removeprefix("#"):
            return source
    raise UsageError(f"{location_or_id}: no such source (see `embedarc sources list`)")


def remove(index: Index, location_or_id: str) -> Source:
    source = find(index, location_or_id)
    with index.write():
        index.db.table("source_items").delete_where("source_id = ?", [source.id])
        index.db.table("sources").delete_where("id = ?", [source.id])
    return source


# -- polling ---------------------------------------------------------------------------------


def _offered(net: Net, source: Source) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(key, target) pairs a source offers now, and the updates to its poll state."""
    if source.kind is SourceKind.FOLDER:
        folder = Path(source.location)
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
        )
        return [(p.name, str(p)) for p in files if not p.name.startswith(".")], {
            "last_status": "ok"
        }
    if source.kind is SourceKind.LIST:
        lines = Path(source.location).read_text(encoding="utf-8", errors="replace").splitlines()
        urls = [
            line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
        ]
        return [(url, url) for url in urls], {"last_status": "ok"}
    return _poll_feed(net, source)


def _poll_feed(net: Net, source: Source) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    import feedparser

    headers = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    with net.open(source.location, headers=headers, follow_redirects=True) as response:
        if response.status_code == 304:
            return [], {"last_status": "304 not modified"}
        if response.status_code >= 400:
            raise NetworkError(f"{source.location}: HTTP {response.status_code}")
        body = read_limited(response, MAX_FEED)
        state = {
            "last_status": f"{response.status_code}",
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
    feed = feedparser.parse(body)
    if feed.bozo and not any(entry.get("link") for entry in feed.entries):
        raise NetworkError(f"{source.location}: not a feed ({feed.bozo_exception})")
    offered = []
    for entry in feed.entries:
        link = entry.get("link")
        if link:
            offered.append((entry.get("id") or link, link))
    return offered, state


def poll(net: Net, index: Index, source: Source) -> tuple[int, str | None]:
    """Record what is new at a source as pending items; (new items, error or None)."""
    now = iso(utcnow())
    try:
        offered, state = _offered(net, source)
        error = None
    except (NetworkError, OSError) as e:
        offered, state, error = [], {"last_status": "error"}, str(e)
    items = index.db.table("source_items")
    new = 0
    with index.write():
        for key, target in offered:
            if not list(items.rows_where("source_id = ? and key = ?", [source.id, key], limit=1)):
                items.insert(
                    {
                        "source_id": source.id,
                        "key": key,
                        "target": target,
                        "first_seen": now,
                        "state": "pending",
                    }
                )
                new += 1
        updates = {"last_polled": now, "last_error": error, **state}
        index.db.table("sources").update(source.id, updates)
    if error:
        log.warning("source %s: %s", source.location, error)
    return new, error


def pending(index: Index) -> list[Item]:
    rows = index.db.table("source_items").rows_where("state = 'pending'", order_by="first_seen")
    return [Item(row["source_id"], row["key"], row["target"]) for row in rows]


def settle(
    index: Index, item: Item, *, article_id: str | None, error: str | None, final: bool = False
) -> None:
    """An item is done once its article is archived; until then it stays pending, unless its
    error will never change (a 404, not a page, an empty or binary file): then it is rejected
    and not asked again."""
    state = "archived" if error is None else ("rejected" if final else "pending")
    with index.write():
        index.db.table("source_items").update(
            (item.source_id, item.key),
            {"state": state, "article_id": article_id, "last_error": error},
        )
