"""Sources `run` polls: RSS/Atom feeds, folders where article files are dropped, files of URLs.

Kept in the index (`sources`, `source_items`): operational state, never rebuilt from sidecars.
An item stays `pending` until its article is archived, so a failed fetch is tried again on the
next run even when the feed itself answers 304.
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clock import iso, utcnow
from ..config import Settings
from ..errors import InputError, NetworkError, UsageError
from ..keeping.index import Index
from ..reading.urls import redact
from .itemcheck import CONTROL_RE, file_problem, shown, url_problem
from .retries import next_attempt

if TYPE_CHECKING:  # `status` reads sources without loading the HTTP stack
    from ..network.net import Net

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".text"}
MAX_FEED = 32 * 1024 * 1024
MAX_LIST = 32 * 1024 * 1024  # a file of URLs, read whole at each poll


class SourceKind(enum.StrEnum):
    FEED = "feed"
    FOLDER = "folder"
    LIST = "list"


class ItemState(enum.StrEnum):
    """Where an item a source gave stands (the `source_items` table)."""

    PENDING = "pending"  # to be read (again, at next_attempt)
    ARCHIVED = "archived"
    REJECTED = "rejected"  # not an article to read: a local path, a bad line, gone for good
    FAILED_PERMANENTLY = "failed_permanently"  # --max-attempts runs failed on it


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

    @property
    def shown(self) -> str:
        """The location as messages show it: a feed URL's password left out."""
        return redact(self.location)

    def as_dict(self) -> dict[str, Any]:
        found = {k: (str(v) if isinstance(v, enum.Enum) else v) for k, v in self.__dict__.items()}
        return {**found, "location": self.shown}


@dataclass(frozen=True)
class Item:
    """Something a source offered: an article URL or a file, to archive once.

    Where it came from decides what it may be: a feed's or a list's item is only ever fetched
    as an http(s) URL, and only a folder's item is a local file (one directly in that folder).
    """

    source_id: int
    key: str
    target: str
    kind: SourceKind
    location: str  # the source's: the folder a file item must stay inside
    attempts: int = 0  # runs that failed on it so far (afresh for `run --retry-failed`)

    @property
    def is_file(self) -> bool:
        return self.kind is SourceKind.FOLDER


@dataclass(frozen=True)
class Rejected:
    """An item refused for good, with the reason, shown once by the run that refused it."""

    source: str
    item: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.item}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "item": self.item, "reason": self.reason}


@dataclass(frozen=True)
class Poll:
    """What one poll of a source found."""

    new: int = 0
    error: str | None = None
    rejected: tuple[Rejected, ...] = ()


def problem(item: Item) -> str | None:
    """Why an item must not be archived (then it is rejected), or None."""
    if item.is_file:
        return file_problem(item.location, item.target)
    return url_problem(item.target)


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


def _read_list(path: Path) -> bytes:
    """A URL list's bytes; InputError when it is too large to be one."""
    with path.open("rb") as f:
        raw = f.read(MAX_LIST + 1)
    if len(raw) > MAX_LIST:
        raise InputError(f"{path}: larger than {MAX_LIST // 2**20} MB; not a list of URLs")
    return raw


def _check_list(path: Path) -> None:
    """Refuse, up front, a file that is no text list of URLs (an image, an archive, …)."""
    try:
        raw = _read_list(path)
    except OSError as e:
        raise UsageError(f"{path}: cannot be read ({e.strerror})") from None
    if b"\x00" in raw:
        raise UsageError(f"{path}: a binary file, not a list of URLs (one a line)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text, not a list of URLs (one a line)") from None


def add(index: Index, location: str) -> Source:
    kind, where = classify(location)
    if kind is SourceKind.LIST:
        _check_list(Path(where))
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

# What a source offers: (key, target, None) for an item to archive, (key, target, reason) for
# one to refuse.
Offer = tuple[str, str, str | None]


def _offered(net: Net, source: Source, known: set[str]) -> tuple[list[Offer], dict[str, Any]]:
    """What a source offers now, and the updates to its poll state.

    A folder's files already `known` as items are left out before they are checked: a folder
    that has collected thousands of articles is polled at the cost of listing it.
    """
    if source.kind is SourceKind.FOLDER:
        with os.scandir(source.location) as entries:
            files = sorted(
                Path(entry.path)
                for entry in entries
                if entry.name not in known
                and entry.is_file()
                and Path(entry.name).suffix.lower() in ARTICLE_SUFFIXES
            )
        offers = [
            (p.name, str(p), file_problem(source.location, str(p)))
            for p in files
            if not p.name.startswith(".")
        ]
        return offers, {"last_status": "ok"}
    if source.kind is SourceKind.LIST:
        return _list_offers(_read_list(Path(source.location))), {"last_status": "ok"}
    return _poll_feed(net, source)


def _list_offers(raw: bytes) -> list[Offer]:
    """One offer per line that is neither blank nor a `#` comment; a bad line is one refusal."""
    offers: list[Offer] = []
    for number, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = line.decode("utf-8", "replace").strip()
            offers.append((shown(text), text, f"line {number} is not UTF-8 text"))
            continue
        if text and not text.startswith("#"):
            offers.append((text, text, url_problem(text)))
    return offers


def _poll_feed(net: Net, source: Source) -> tuple[list[Offer], dict[str, Any]]:
    import feedparser

    from ..network.net import read_limited

    headers = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    with net.open(source.location, headers=headers, follow_redirects=True) as response:
        if response.status_code == 304:
            return [], {"last_status": "304 not modified"}
        if response.status_code >= 400:
            raise NetworkError(f"HTTP {response.status_code}")
        body = read_limited(response, MAX_FEED)
        state = {
            "last_status": f"{response.status_code}",
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
    feed = feedparser.parse(body)
    if feed.bozo and not any(entry.get("link") for entry in feed.entries):
        raise NetworkError(f"not a feed ({feed.bozo_exception})")
    offered: list[Offer] = []
    for entry in feed.entries:
        link = entry.get("link")
        if isinstance(link, str) and link:
            # The feed's own words: a link that is a local path is refused, never read.
            offered.append((str(entry.get("id") or link), link, url_problem(link)))
    return offered, state


def poll(net: Net, index: Index, source: Source) -> Poll:
    """Record what is new at a source: pending items, and refused ones with their reason."""
    now = iso(utcnow())
    items = index.db.table("source_items")
    # one query for the keys seen before, not one per item offered
    sql = "select key from source_items where source_id = ?"
    known = {row[0] for row in index.db.execute(sql, [source.id])}
    try:
        offered, state = _offered(net, source, known)
        error = None
    except (NetworkError, InputError, OSError) as e:
        offered, state, error = [], {"last_status": "error"}, str(e)
    new = 0
    rejected = []
    with index.write():
        for raw_key, target, reason in offered:
            key = shown(raw_key) if reason or CONTROL_RE.search(raw_key) else raw_key
            if key in known:
                continue
            known.add(key)
            items.insert(
                {
                    "source_id": source.id,
                    "key": key,
                    "target": shown(target) if reason else target,
                    "first_seen": now,
                    "state": ItemState.REJECTED if reason else ItemState.PENDING,
                    "last_error": reason,
                    "attempts": 0,
                }
            )
            if reason:
                rejected.append(Rejected(source.shown, key, reason))
                log.info("source %s: rejected %s: %s", source.shown, key, reason)
            else:
                new += 1
        updates = {"last_polled": now, "last_error": error, **state}
        index.db.table("sources").update(source.id, updates)
    if error:
        log.warning("source %s: %s", source.shown, error)
    return Poll(new, error, tuple(rejected))


def pending(
    index: Index, *, include_permanent: bool = False, now: datetime | None = None
) -> list[Item]:
    """Items to try in this run: pending ones whose time has come (and, if asked, those that
    failed permanently, with a fresh count)."""
    sql = """
        select i.source_id, i.key, i.target, i.state, i.attempts, s.kind, s.location
        from source_items i join sources s on s.id = i.source_id
        where (i.state = 'pending' and (i.next_attempt is null or i.next_attempt <= ?))
           or (i.state = 'failed_permanently' and ?)
        order by i.first_seen
    """
    rows = index.db.query(sql, [iso(now or utcnow()), int(include_permanent)])
    return [
        Item(
            row["source_id"],
            row["key"],
            row["target"],
            SourceKind(row["kind"]),
            row["location"],
            0 if row["state"] == ItemState.FAILED_PERMANENTLY else int(row["attempts"] or 0),
        )
        for row in rows
    ]


def settle(
    index: Index,
    item: Item,
    settings: Settings,
    *,
    article_id: str | None,
    error: str | None,
    final: bool = False,
    hint: str | None = None,
) -> None:
    """Record how an item's attempt went.

    Archived: done. An error that will never change (a 404, not a page, an empty or binary
    file, an address refused): rejected, not asked again. Any other error: tried again on the
    links' schedule (the server's hint, else backoff), and `failed_permanently` after
    `--max-attempts` runs.
    """
    now = utcnow()
    attempts = item.attempts + 1
    retry_at = None
    if error is None:
        state = ItemState.ARCHIVED
    elif final:
        state = ItemState.REJECTED
    else:
        retry_at = next_attempt(settings, attempts, hint, now)
        state = ItemState.PENDING if retry_at is not None else ItemState.FAILED_PERMANENTLY
    with index.write():
        index.db.table("source_items").update(
            (item.source_id, item.key),
            {
                "state": state,
                "article_id": article_id,
                "last_error": error,
                "attempts": attempts,
                "last_attempt": iso(now),
                "next_attempt": iso(retry_at) if retry_at is not None else None,
            },
        )
