"""Check an archive against itself: every file's bytes, every sidecar, every index row.

The store names each file by its SHA-256, the sidecars list what each article folder holds,
and the index is derived from the sidecars; `verify` re-reads all three and reports what
disagrees. Files are hashed in 1 MiB blocks (constant memory), a few at a time so hashing
keeps up with the disk, and each inode once: hard links in article folders cost nothing.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchiveError
from ..evidence import timestamps, verify_evidence
from ..keeping import sidecar
from ..keeping.exchanges import capture_problems
from ..keeping.index import INDEX_NAME, Index
from ..keeping.sidecar import SIDECAR
from ..keeping.sidecar_record import Sidecar
from ..keeping.store import ARTICLE_VIEW, HASHED_NAME, file_sha256, require_archive

Progress = Callable[[int, int], None]
"""Called as files are hashed with (bytes done, bytes in all)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, at a path relative to the archive folder."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: sound when the three problem lists are empty."""

    missing: tuple[Problem, ...] = ()
    altered: tuple[Problem, ...] = ()
    unindexed: tuple[Problem, ...] = ()
    # Not proven yet (a manifest no TSA has stamped, a file with no perceptual hash): listed,
    # but the archive is sound without them.
    unproven: tuple[Problem, ...] = ()
    # Sidecar values that do not fit their field (a hand's edit, a later release): read as
    # absent and kept as written; listed, but the archive is sound with them.
    irregular: tuple[Problem, ...] = ()
    files_checked: int = 0
    bytes_checked: int = 0
    articles_checked: int = 0

    @property
    def sound(self) -> bool:
        return not (self.missing or self.altered or self.unindexed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sound": self.sound,
            "articles_checked": self.articles_checked,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "missing": [p.as_dict() for p in self.missing],
            "altered": [p.as_dict() for p in self.altered],
            "unindexed": [p.as_dict() for p in self.unindexed],
            "unproven": [p.as_dict() for p in self.unproven],
            "irregular": [p.as_dict() for p in self.irregular],
        }

    def summary(self) -> str:
        state = "sound" if self.sound else "NOT sound"
        return (
            f"{state}: {self.articles_checked} articles, {self.files_checked} files "
            f"({self.bytes_checked / 1e6:.1f} MB) checked; {len(self.missing)} missing, "
            f"{len(self.altered)} altered, {len(self.unindexed)} unindexed"
            + (f", {len(self.unproven)} not proven yet" if self.unproven else "")
            + (f", {len(self.irregular)} with irregular values" if self.irregular else "")
        )


def inside(root: Path, relative: object) -> Path | None:
    """root/relative when that stays inside root; None for absolute paths, `..` and non-text."""
    if not isinstance(relative, str) or not relative:
        return None
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None
    return root / candidate


def article_folders(root: Path) -> list[Path]:
    articles = root / "articles"
    if not articles.is_dir():
        return []
    return sorted(p for p in articles.iterdir() if p.is_dir())


@dataclass
class _Hashed:
    sha256: str
    size: int


@dataclass
class _Findings:
    missing: dict[str, str] = field(default_factory=dict)
    altered: dict[str, str] = field(default_factory=dict)
    unindexed: dict[str, str] = field(default_factory=dict)
    unproven: dict[str, str] = field(default_factory=dict)
    irregular: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def _add(bucket: dict[str, str], path: str, reason: str) -> None:
        bucket.setdefault(path, reason)  # the first reason found for a path is enough

    def missing_(self, path: str, reason: str) -> None:
        self._add(self.missing, path, reason)

    def altered_(self, path: str, reason: str) -> None:
        self._add(self.altered, path, reason)

    def unindexed_(self, path: str, reason: str) -> None:
        self._add(self.unindexed, path, reason)

    def add(self, kind: str, path: str, reason: str) -> None:
        self._add(getattr(self, kind), path, reason)


class _Hasher:
    """Hashes files a few at a time, each inode once."""

    def __init__(self, on_progress: Progress | None, workers: int) -> None:
        self.on_progress = on_progress
        self.workers = workers
        self.by_inode: dict[tuple[int, int], _Hashed] = {}
        self.files = 0
        self.bytes = 0
        self.total = 0
        self._counted: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def plan(self, paths: Iterable[Path]) -> list[tuple[Path, tuple[int, int]]]:
        """The paths whose inodes are not hashed yet, each inode once; counts them in the total."""
        todo: list[tuple[Path, tuple[int, int]]] = []
        seen: set[tuple[int, int]] = set()
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in self.by_inode or key in seen:
                continue
            seen.add(key)
            todo.append((path, key))
            if key not in self._counted:
                self._counted.add(key)
                self.total += st.st_size
        return todo

    def hash_all(self, todo: list[tuple[Path, tuple[int, int]]]) -> dict[Path, str]:
        """SHA-256 of each planned path; an unreadable file is left out."""

        def one(item: tuple[Path, tuple[int, int]]) -> tuple[Path, tuple[int, int], _Hashed | None]:
            path, key = item
            try:
                sha, size = file_sha256(path)
            except OSError:
                return path, key, None
            with self._lock:
                self.files += 1
                self.bytes += size
                done = self.bytes
            if self.on_progress is not None:
                self.on_progress(done, self.total)
            return path, key, _Hashed(sha, size)

        results: dict[Path, str] = {}
        with ThreadPoolExecutor(self.workers) as pool:
            for path, key, hashed in pool.map(one, todo):
                if hashed is not None:
                    self.by_inode[key] = hashed
                    results[path] = hashed.sha256
        return results

    def digest(self, path: Path) -> str | None:
        """The SHA-256 of a file hashed already (by its inode), hashing it now if need be."""
        try:
            st = path.stat()
        except OSError:
            return None
        known = self.by_inode.get((st.st_dev, st.st_ino))
        if known is not None:
            return known.sha256
        return self.hash_all(self.plan([path])).get(path)


def _walk_files(folder: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(folder):
        for name in sorted(files):
            yield Path(dirpath) / name


def _read_index(path: Path) -> tuple[list[tuple[str, str]], dict[str, str], set[str]]:
    """(media sha256 and path rows, article id -> folder, sha256s with a media row)."""
    if not path.is_file():
        return [], {}, set()
    reader = Index.reader(path)  # read-only, also in a read-only folder
    conn = reader.db.conn
    try:
        media = [(str(s), str(p)) for s, p in conn.execute("select sha256, path from media")]
        articles = {str(i): str(f) for i, f in conn.execute("select id, folder from articles")}
    except sqlite3.OperationalError:
        return [], {}, set()  # an index without its tables yet: nothing is indexed
    except sqlite3.DatabaseError as e:
        raise ArchiveError(f"cannot read the index {path}: {e}") from e
    finally:
        reader.close()
    return media, articles, {sha for sha, _ in media}


def verify(
    root: Path,
    *,
    on_progress: Progress | None = None,
    workers: int | None = None,
    timestamp_ca: Path | None = None,
) -> VerifyReport:
    """Re-hash every stored file and check each article folder and index row against them,
    and the evidence kept with them: timestamp tokens (against `timestamp_ca`'s certificates,
    else certifi's) and perceptual hashes."""
    require_archive(root)
    found = _Findings()
    hasher = _Hasher(on_progress, workers or min(4, os.cpu_count() or 1))

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    # Read the index first: rows written after this point may name files hashed below.
    media_rows, indexed_articles, indexed_media = _read_index(root / INDEX_NAME)

    folders = article_folders(root)
    store_files = list(_walk_files(root / "media"))
    folder_files = [p for folder in folders for p in _walk_files(folder / "media")]
    store_todo = hasher.plan(store_files)
    hasher.plan(folder_files)  # counted in the total now, hashed below unless a hard link
    hasher.hash_all(store_todo)

    stored = _check_store(root, store_files, hasher, found, rel)
    referenced, articles_checked = _check_folders(
        root, folders, hasher, found, rel, indexed_articles, indexed_media, stored
    )
    _check_index(root, media_rows, indexed_articles, found)
    _check_evidence(root, folders, found, rel, timestamp_ca)
    # Stored files nothing refers to.
    for sha, stored_path in stored.items():
        if sha not in referenced:
            found.unindexed_(stored_path, "no article refers to it")

    return VerifyReport(
        missing=tuple(sorted(Problem(p, r) for p, r in found.missing.items())),
        altered=tuple(sorted(Problem(p, r) for p, r in found.altered.items())),
        unindexed=tuple(sorted(Problem(p, r) for p, r in found.unindexed.items())),
        unproven=tuple(sorted(Problem(p, r) for p, r in found.unproven.items())),
        irregular=tuple(sorted(Problem(p, r) for p, r in found.irregular.items())),
        files_checked=hasher.files,
        bytes_checked=hasher.bytes,
        articles_checked=articles_checked,
    )


def _check_store(
    root: Path,
    store_files: list[Path],
    hasher: _Hasher,
    found: _Findings,
    rel: Callable[[Path], str],
) -> dict[str, str]:
    """The store: each file's bytes must hash to its name. sha256 -> relative path."""
    stored: dict[str, str] = {}
    for path in store_files:
        match = HASHED_NAME.match(path.name)
        actual = hasher.digest(path)
        if match is None:
            found.unindexed_(rel(path), "not named by a SHA-256")
            continue
        if actual is None:
            found.missing_(rel(path), "cannot be read")
            continue
        if actual != match.group(1):
            found.altered_(rel(path), f"its bytes hash to {actual}")
            continue
        if path.parent != root / "media" / actual[:2]:
            found.unindexed_(rel(path), f"not in media/{actual[:2]}/")
        stored.setdefault(actual, rel(path))
    return stored


def _check_folders(
    root: Path,
    folders: list[Path],
    hasher: _Hasher,
    found: _Findings,
    rel: Callable[[Path], str],
    indexed_articles: dict[str, str],
    indexed_media: set[str],
    stored: dict[str, str],
) -> tuple[set[str], int]:
    """Each article folder against its sidecar: (sha256s the sidecars list, folders checked)."""
    referenced: set[str] = set()
    articles_checked = 0
    for folder in folders:
        data, why = sidecar.load(folder)
        if data is None:
            target = folder / SIDECAR
            if why == f"no {SIDECAR}":
                found.unindexed_(rel(folder), f"an article folder without {SIDECAR}")
            else:
                found.altered_(rel(target), why or "unusable")
            continue
        articles_checked += 1
        if data.problems:
            shown = "; ".join(data.problems[:3])
            more = f" (and {len(data.problems) - 3} more)" if len(data.problems) > 3 else ""
            found.add("irregular", rel(folder / SIDECAR), f"{shown}{more}: kept as written")
        listed = _check_folder(root, folder, data, hasher, found, rel)
        referenced |= listed
        article_id = data.article.id
        if article_id and article_id not in indexed_articles:
            found.unindexed_(rel(folder / SIDECAR), f"article {article_id} is not in the index")
        for sha in listed:
            if sha not in indexed_media and sha in stored:
                found.unindexed_(stored[sha], "listed in a sidecar but not in the index")
    return referenced, articles_checked


def _check_evidence(
    root: Path,
    folders: list[Path],
    found: _Findings,
    rel: Callable[[Path], str],
    timestamp_ca: Path | None,
) -> None:
    """Timestamps of each folder, perceptual hashes of each stored image and video."""
    roots = None
    if any((folder / timestamps.FOLDER).is_dir() for folder in folders):
        roots = timestamps.load_roots(timestamp_ca)
    for folder in folders:
        for kind, path, reason in verify_evidence.check_folder(folder, roots):
            found.add(kind, rel(folder / path), reason)
    if (root / INDEX_NAME).is_file():
        reader = Index.reader(root / INDEX_NAME)
        try:
            for path, reason in verify_evidence.unhashed_media(reader.db.conn):
                found.add("unproven", path, reason)
        finally:
            reader.close()


def _check_index(
    root: Path,
    media_rows: list[tuple[str, str]],
    indexed_articles: dict[str, str],
    found: _Findings,
) -> None:
    """The index against the files: every row's file and sidecar must be there."""
    for sha, row_path in media_rows:
        row_file = inside(root, row_path)
        if row_file is None:
            found.altered_(row_path, f"the index row for {sha} points outside the archive")
        elif not row_file.is_file():
            found.missing_(row_path, f"the index row for {sha} points at a missing file")
    for article_id, folder_name in indexed_articles.items():
        row_folder = inside(root, folder_name)
        if row_folder is None or not (row_folder / SIDECAR).is_file():
            found.missing_(
                f"{folder_name}/{SIDECAR}", f"the index row for article {article_id} has no sidecar"
            )


def _check_folder(
    root: Path,
    folder: Path,
    data: Sidecar,
    hasher: _Hasher,
    found: _Findings,
    rel: Callable[[Path], str],
) -> set[str]:
    """Check one folder's files against its sidecar; return the sha256s it lists."""
    article = data.article
    original = folder / article.original
    if not article.original or not original.is_file():
        found.missing_(rel(original), "the article's original bytes are missing")
    else:
        sha, _ = file_sha256(original)
        if sha != article.content_sha256:
            found.altered_(rel(original), "does not hash to the sidecar's content_sha256")
    named = {
        SIDECAR,
        ARTICLE_VIEW,  # the folder's page, derived from the sidecar
        article.original,
        article.origin_page or "",
    }
    for earlier in article.earlier_originals:
        name = earlier.name
        path = inside(folder, name) if name else None
        if path is None:
            found.altered_(rel(folder / SIDECAR), f"earlier original {name!r} is not in the folder")
            continue
        named.add(name)
        if not path.is_file():
            found.missing_(rel(path), "an earlier original of the article is missing")
        elif file_sha256(path)[0] != earlier.content_sha256:
            found.altered_(rel(path), "does not hash to the sidecar's content_sha256 for it")
    for path in folder.iterdir():
        # Left alone: media/ and evidence/ (checked on their own) and what a write cut short by
        # a kill leaves hidden: its temporaries (.tmp) and the copies it kept to undo (.old).
        hidden_temporary = path.name.startswith(".") and path.name.endswith((".tmp", ".old"))
        if path.is_file() and path.name not in named and not hidden_temporary:
            found.unindexed_(rel(path), "in the folder but not named by its sidecar")
    for name in [article.origin_page or "", *(n for link in data.links for n in link.evidence)]:
        if name and inside(folder, name) is not None and not (folder / name).is_file():
            found.missing_(rel(folder / name), "listed in the sidecar, not in the folder")

    listed: set[str] = set()
    for entry in data.media:
        sha = entry.sha256
        if not sha:
            found.altered_(rel(folder / SIDECAR), "a media entry without a sha256")
            continue
        listed.add(sha)
        for key, given in (("path", entry.path), ("article_path", entry.article_path)):
            target = inside(root, given)
            if target is None:
                found.altered_(rel(folder / SIDECAR), f"media {sha}: {key} is not in the archive")
                continue
            actual = hasher.digest(target)
            if actual is None:
                found.missing_(rel(target), f"media {sha} of {rel(folder)}")
            elif actual != sha:
                found.altered_(rel(target), f"its bytes hash to {actual}, the sidecar says {sha}")

    for path in _walk_files(folder / "media"):
        match = HASHED_NAME.match(path.name)
        actual = hasher.digest(path)
        if match is None or match.group(1) not in listed:
            found.unindexed_(rel(path), "not listed in the sidecar")
        elif actual is not None and actual != match.group(1):
            found.altered_(rel(path), f"its bytes hash to {actual}")
    for kind, name, reason in capture_problems(folder, listed):  # the exchanges it relied on
        found.add(kind, f"{rel(folder)}/{name}", reason)
    return listed
