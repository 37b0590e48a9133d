"""Keeping an archive in order: rebuild the index from the sidecars, take an article out."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArchiveError, UsageError
from ..keeping import sidecar
from ..keeping.index import INDEX_NAME, Index
from ..keeping.lock import exclusive
from ..keeping.sidecar import SIDECAR
from ..keeping.sidecar_record import Record, Sidecar
from ..keeping.store import HASHED_NAME, Store, is_stored_name, require_archive
from ..reading.links import normalise
from .verify import article_folders, inside

log = logging.getLogger(__name__)

Skipped = Callable[[Path, str], None]
"""Told about each sidecar left out of a rebuild: (its path, why)."""

_ARTICLE_KEYS = ("id", "identity", "title", "source", "media_type", "content_sha256", "folder")


def _given(record: Record, key: str) -> bool:
    """Whether the file gives the record this key (of whatever type: the index takes it)."""
    return record.keys is None or key in record.keys


def _unusable(data: Sidecar) -> str | None:
    """Why `Index.write_article` could not take this sidecar, or None when it can."""
    article = data.article
    for key in (*_ARTICLE_KEYS, "archived_at"):
        if not _given(article, key):
            return f"the article has no {key}"
    if "links" in data.extra or "posts" in data.extra:  # kept as read: not lists
        return "links or posts are not lists"
    for media in data.media:
        if not all(_given(media, k) for k in ("sha256", "source_url", "fetched_at")):
            return "a media entry lacks sha256, source_url or fetched_at"
    for link in data.links:
        if not all(_given(link, k) for k in ("id", "url", "kind")):
            return "a link lacks id, url or kind"
        if not _given(link, "outcome"):
            return f"link {link.url} has no outcome"
    return None


def rebuild_index(root: Path, *, on_skipped: Skipped | None = None) -> int:
    """Rebuild every table derived from the sidecars; return how many articles were indexed.

    Tables not derived from sidecars (sources, retries, ...) are kept as they are. A sidecar
    that cannot be read or used is reported through `on_skipped` (and the log) and left out.
    Waits for no one: while a run holds the archive, it refuses.
    """
    require_archive(root)
    with exclusive(root, "rebuild the index"):
        return _rebuild_index(root, on_skipped)


def _rebuild_index(root: Path, on_skipped: Skipped | None) -> int:
    def skip(path: Path, why: str) -> None:
        if on_skipped is not None:
            on_skipped(path, why)
        else:
            log.warning("skipped %s: %s", path, why)

    sidecars: list[Sidecar] = []
    for folder in article_folders(root):
        data, why = sidecar.load(folder)
        why = why if data is None else _unusable(data)
        if data is None or why is not None:
            skip(folder / SIDECAR, why or "unusable")
        else:
            sidecars.append(data)

    store = Store(root)
    store.refuse_links(root / INDEX_NAME)
    store.write_metadata()
    index = Index(root / INDEX_NAME)
    try:
        # The search tables are made again at the end, in one go: faster than row by row
        # through their triggers, and right even if they had drifted.
        index.drop_search()
        index.clear_derived()
        written = 0
        for data in sidecars:
            try:
                index.write_article(data)
            except (KeyError, TypeError, ValueError, AttributeError, sqlite3.Error) as e:
                index.delete_article(data.article.id)  # no half-written article
                skip(root / data.article.folder / SIDECAR, f"cannot be indexed: {e}")
            else:
                written += 1
        index.create_search()
        return written
    finally:
        index.close()


@dataclass(frozen=True)
class Removal:
    """What `remove_article` took out (or, on a dry run, would take out)."""

    article_id: str
    folder: str
    title: str | None
    removed_media: tuple[str, ...]  # store paths deleted: nothing else referred to them
    kept_media: tuple[str, ...]  # store paths other articles still refer to
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "folder": self.folder,
            "title": self.title,
            "removed_media": list(self.removed_media),
            "kept_media": list(self.kept_media),
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class FoundArticle:
    """An article folder named on the command line, and its sidecar (None if unreadable)."""

    folder: Path
    data: Sidecar | None


SHORT_ID = 8  # characters of an article's id at the end of its folder name


def _matches(folder: Path, data: Sidecar | None, wanted: str) -> bool:
    names = {folder.name, f"articles/{folder.name}", str(folder), str(folder.resolve())}
    if wanted.rstrip("/") in names:
        return True
    short = wanted.lower()
    # The short id that ends every folder name, or a longer prefix of the id.
    if len(short) == SHORT_ID and folder.name.endswith(f"-{short}"):
        return True
    if data is None:
        return False
    article = data.article
    if wanted in (article.id, article.identity):
        return True
    if len(short) >= SHORT_ID and article.id.startswith(short):
        return True
    canonical = article.canonical_url
    if canonical and wanted.lower().startswith(("http://", "https://")):
        return wanted == canonical or normalise(wanted) == normalise(canonical)
    return False


def find_article(root: Path, wanted: str) -> FoundArticle:
    """The one article `wanted` names: its id, the 8 characters that end its folder name (or a
    longer prefix of its id), its folder name, or its canonical URL; UsageError otherwise."""
    found = [
        FoundArticle(folder, data)
        for folder in article_folders(root)
        for data in [sidecar.load(folder)[0]]
        if _matches(folder, data, wanted)
    ]
    if not found:
        raise UsageError(
            f"no article in {root} is {wanted!r} (an id, its first 8 characters,"
            " a folder or a canonical URL)"
        )
    if len(found) > 1:
        folders = ", ".join(f.folder.name for f in found)
        raise UsageError(f"{wanted!r} matches more than one article: {folders}")
    return found[0]


def _media_of(folder: Path, data: Sidecar | None) -> dict[str, str]:
    """sha256 -> store path of every file the folder holds or its sidecar lists."""
    media: dict[str, str] = {}
    for entry in data.media if data else ():
        sha, path = entry.sha256, entry.path
        # Only the store's own name for that sha256: a sidecar edited to give another file's
        # path must not get that file deleted with this article.
        if is_stored_name(sha, path):
            media[sha] = path
    folder_media = folder / "media"
    if folder_media.is_dir():
        for item in folder_media.iterdir():
            match = HASHED_NAME.match(item.name)
            if match and match.group(1) not in media:
                media[match.group(1)] = f"media/{item.name[:2]}/{item.name}"
    return media


def remove_article(root: Path, article: str, *, dry_run: bool = False) -> Removal:
    """Take an article out: its folder, its index rows, and stored files nothing else cites.

    `article` is an article id, a folder name, or a canonical URL. Other articles are known
    by their sidecars, the files in their folders, and the index's links, so a file any of
    them refers to is kept.
    """
    require_archive(root)
    if dry_run:
        return _remove_article(root, article, dry_run=True)
    with exclusive(root, "remove an article"):
        return _remove_article(root, article, dry_run=False)


def _remove_article(root: Path, article: str, *, dry_run: bool) -> Removal:
    target = find_article(root, article)
    data = target.data
    article_id = data.article.id if data else ""
    mine = _media_of(target.folder, data)

    other_media: set[str] = set()
    for folder in article_folders(root):
        if folder == target.folder:
            continue
        other, _ = sidecar.load(folder)
        other_media |= set(_media_of(folder, other))
    index = Index.for_reading(root / INDEX_NAME) if dry_run else Index(root / INDEX_NAME)
    try:
        if not article_id:  # a folder without a usable sidecar may still have index rows
            folder_name = target.folder.relative_to(root).as_posix()
            rows = index.db.table("articles").rows_where("folder = ?", [folder_name], limit=1)
            article_id = next((str(row["id"]) for row in rows), "")
        other_media |= index.referenced_elsewhere(article_id)
        gone = {sha: path for sha, path in mine.items() if sha not in other_media}
        removal = Removal(
            article_id=article_id,
            folder=target.folder.relative_to(root).as_posix(),
            title=data.article.title if data and data.article.has("title") else None,
            removed_media=tuple(sorted(gone.values())),
            kept_media=tuple(sorted(p for sha, p in mine.items() if sha not in gone)),
            dry_run=dry_run,
        )
        if dry_run:
            return removal
        # Everything it will move or delete must be inside the archive, not behind a link.
        store = Store(root)
        for doomed in [root / INDEX_NAME, root / "tmp", target.folder]:
            store.refuse_links(doomed)
        for stored_path in removal.removed_media:
            store.refuse_links(root / stored_path)
        # The index first: interrupted after it, the folder is still there to remove again.
        if article_id:
            index.delete_article(article_id, media=tuple(sorted(gone)))
    finally:
        index.close()
    _delete_folder(root, target.folder)
    for path in removal.removed_media:
        stored = inside(root, path)
        if stored is not None and stored.is_relative_to(root / "media"):
            stored.unlink(missing_ok=True)
    return removal


def _delete_folder(root: Path, folder: Path) -> None:
    """Make the folder vanish at once (a rename into tmp/), then delete it at leisure."""
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    doomed = Path(tempfile.mkdtemp(prefix=f"removing-{folder.name}-", dir=tmp))
    try:
        os.replace(folder, doomed / folder.name)
    except OSError as e:
        raise ArchiveError(f"cannot remove {folder}: {e.strerror}") from e
    shutil.rmtree(doomed, ignore_errors=True)
