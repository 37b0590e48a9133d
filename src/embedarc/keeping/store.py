"""The archive on disk: content-addressed media, article folders, atomic writes.

archive/
  index.db
  media/<sha256[:2]>/<sha256>.<ext>
  articles/<date>-<slug>-<id>/
    article.txt | article.html   the article's original bytes
    origin.html                  the original page the article came from, when resolved
    article.json                 the sidecar: everything known about the folder
    evidence/                    raw answers of the services asked about posts
    media/<sha256>.<ext>         links to the store (hard links where possible)
    index.html                   the article's page (derived: `embedarc report` writes it)
  index.html                     the archive's page; thumbs/ its thumbnails (derived)
  tmp/                           partial downloads; safe to delete when nothing runs

No write goes through a symbolic link inside the archive (a link there could send it anywhere);
the archive folder itself may be a link, as where it lives is the user's choice.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ArchiveError, TooLarge, UsageError
from .catalog import METADATA_NAME, metadata_json
from .spool import Spooler

if TYPE_CHECKING:
    from .changes import Changes

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, one process at a time
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# Opens that refuse a symbolic link as the last component (ELOOP) where the system has it.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# The page the view writes in each article folder: derived, so no sidecar names it.
ARTICLE_VIEW = "index.html"


@dataclass(frozen=True)
class Received:
    """A file streamed into tmp/ and hashed on the way."""

    tmp_path: Path
    sha256: str
    size: int


@runtime_checkable
class Hashed(Protocol):
    """Chunks whose source hashes them as it yields them (an answer's body as its capture
    record reads it): a file that is exactly what it yielded has that hash, and the store need
    not compute the same SHA-256 of the same bytes a second time."""

    def __iter__(self) -> Iterator[bytes]: ...

    @property
    def size(self) -> int:
        """Every byte hashed so far (whether or not it was yielded to this reader)."""
        ...

    def sha256(self) -> str | None:
        """The SHA-256 of every byte hashed, once the last one was; else None."""
        ...


# A stored file's name: its SHA-256, then its extension.
HASHED_NAME = re.compile(r"^([0-9a-f]{64})(?:\.[A-Za-z0-9]+)?$")


def is_stored_name(sha256: object, path: object) -> bool:
    """Whether `path` is media/<sha256[:2]>/<sha256>.<ext>, the store's own name for that
    file. A sidecar or an index row is a file anyone could have edited: a path it gives for a
    file is read, linked or deleted only when it is this."""
    if not isinstance(sha256, str) or not isinstance(path, str):
        return False
    folder, _, name = path.rpartition("/")
    found = HASHED_NAME.match(name)
    return found is not None and found[1] == sha256 and folder == f"media/{sha256[:2]}"


def stored_file(root: Path, sha256: object, path: object) -> Path | None:
    """The store's file a sidecar or index row names for `sha256`: under the store's own name
    for it (is_stored_name), a regular file and no link; else None."""
    if not is_stored_name(sha256, path):
        return None
    candidate = root / str(path)
    return candidate if candidate.is_file() and not candidate.is_symlink() else None


def symlink_error(path: Path) -> ArchiveError:
    return ArchiveError(f"refusing to write through a symlink: {path}")


def write_error(path: Path, error: OSError) -> ArchiveError:
    """A one-line ArchiveError for a failed write (full disk, read-only folder, ...)."""
    if error.errno == errno.ELOOP:  # an O_NOFOLLOW open met a link
        return symlink_error(path)
    if error.errno == errno.ENOSPC:
        why = "the disk is full"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is read-only"
    else:
        why = error.strerror or str(error)
    return ArchiveError(f"cannot write to the archive ({path}): {why}")


def require_archive(root: Path, *, hint: str | None = None) -> None:
    """Raise a usage error unless `root` holds an archive: only `archive` and `sources add`
    make one, so a mistyped --archive-dir is reported instead of becoming a new, empty archive."""
    if (root / "index.db").is_file() or (root / "articles").is_dir():
        return
    made_by = hint or "`embedarc archive` or `sources add` makes one"
    raise UsageError(
        f"there is no archive at {root} ({made_by}); check --archive-dir or $EMBEDARC_ARCHIVE"
    )


def slugify(text: str, limit: int = 60) -> str:
    """ASCII, lower-case, dash-separated; never empty, never a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "article"


BLOCK = 1024 * 1024
# Past this many bytes a download is written on a thread of its own (see spool.py).
SPOOL_AFTER = 8 * 1024 * 1024


def hash_into(digest: Any, f: io.RawIOBase | io.BufferedIOBase) -> int:
    """Feed what is left of an open file to `digest`, 1 MiB at a time into one buffer."""
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    size = 0
    while n := f.readinto(buffer):
        digest.update(view[:n])
        size += n
    return size


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a regular file, streamed (constant memory).

    A symbolic link, a pipe or a device is no file of the archive: OSError, before anything is
    read (a link to /dev/zero would never end, a pipe would wait for ever)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb", buffering=0) as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        size = hash_into(digest, f)
    return digest.hexdigest(), size


def open_nofollow(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open that will not follow a link at `path` itself (ArchiveError instead)."""
    try:
        return os.open(path, flags | NOFOLLOW, mode)
    except OSError as e:
        raise write_error(path, e) from None


def write_nofollow(path: Path, data: bytes) -> None:
    """Write a small file (an ETag, ...) in place, never through a link at `path`."""
    fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


class Store:
    """Files under one archive folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media_dir = root / "media"
        self.articles_dir = root / "articles"
        self.tmp_dir = root / "tmp"
        self._committed: dict[str, Path] = {}  # sha256 -> stored file this Store put there
        self._lock = threading.Lock()

    def refuse_links(self, path: Path) -> None:
        """ArchiveError if `path`, or a folder between the archive folder and it, is a link.

        What does not exist yet is fine: it will be created as a real file or folder.
        """
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            raise ArchiveError(f"refusing to write outside the archive: {path}") from None
        if ".." in parts:
            raise ArchiveError(f"refusing to write outside the archive: {path}")
        current = self.root
        for part in parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                return
            except OSError:
                return  # unreadable: the write itself reports it
            if stat.S_ISLNK(mode):
                raise symlink_error(current)

    def make_folder(self, folder: Path, changes: Changes | None = None) -> None:
        """Create `folder` and its missing parents under the archive, none through a link."""
        self.refuse_links(folder)
        missing: list[Path] = []
        current = folder
        while current != self.root and not os.path.lexists(current):
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except FileExistsError:
                self.refuse_links(path)  # made meanwhile by someone else: still no link
                continue
            if changes is not None:
                changes.created(path)

    def ensure(self) -> None:
        """Create the folders and make sure each can be written, before any download starts."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ArchiveError(f"cannot create the archive folder {self.root}: {e.strerror}") from e
        for name in ("index.db", "run.lock"):
            self.refuse_links(self.root / name)
        try:
            for folder in (self.media_dir, self.articles_dir, self.tmp_dir):
                self.make_folder(folder)
        except OSError as e:
            raise ArchiveError(f"cannot create the archive folder {self.root}: {e.strerror}") from e
        for folder in (self.root, self.media_dir, self.articles_dir, self.tmp_dir):
            try:
                with tempfile.TemporaryFile(dir=folder, prefix=".write-test-"):
                    pass
            except OSError as e:
                raise write_error(folder, e) from None
        self.write_metadata()

    def write_metadata(self) -> None:
        """The index's description for Datasette, beside it; rewritten only when it changed."""
        path = self.root / METADATA_NAME
        wanted = metadata_json()
        try:
            if not path.is_symlink() and path.is_file() and path.read_bytes() == wanted:
                return
            self.write_file(path, wanted)
        except OSError as e:
            raise write_error(path, e) from None

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def is_article_folder(self, name: str) -> bool:
        """Whether a folder name read back from the index names a folder under articles/."""
        candidate = (self.root / name).resolve()
        return candidate.parent == self.articles_dir.resolve() and not Path(name).is_absolute()

    def media_path(self, sha256: str, ext: str) -> Path:
        return self.media_dir / sha256[:2] / f"{sha256}.{ext}"

    @staticmethod
    def etag_path(partial: Path) -> Path:
        """Where the ETag of a partial download is kept, for `If-Range` when it resumes."""
        return partial.with_name(partial.name + ".etag")

    def has_partial(self, url: str) -> bool:
        """Whether an earlier attempt left part of this URL's file to resume."""
        part = self.partial_path(url)
        return part.is_file() and part.stat().st_size > 0

    def partial_path(self, url: str) -> Path:
        """Where a download of `url` is kept between attempts, so it can resume."""
        return self.tmp_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.part"

    @contextlib.contextmanager
    def partial(self, url: str) -> Iterator[Path | None]:
        """The resumable file for `url`, locked for this process; None if another one has it."""
        path = self.partial_path(url)
        self.refuse_links(self.tmp_dir)
        fd = self._lock_partial(path)
        if fd is None:
            yield None
            return
        try:
            yield path
        finally:
            # Tidied while still locked: once the lock is let go the file may be another's.
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_size == 0:  # nothing worth resuming
                    path.unlink()
                if not path.is_file():
                    self.etag_path(path).unlink(missing_ok=True)
            os.close(fd)

    @staticmethod
    def _lock_partial(path: Path) -> int | None:
        """An open, locked descriptor of the file at `path`; None if another process has it.

        The lock is taken on what was opened: if the holder removed the file meanwhile (an
        empty part is tidied away), the lock is on a file no longer there, so open again.
        """
        while True:
            fd = open_nofollow(path, os.O_CREAT | os.O_WRONLY)
            if fcntl is None:
                return fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                if os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)

    def receive(
        self,
        chunks: Iterable[bytes],
        *,
        max_size: int,
        partial: Path | None = None,
        resume: bool = False,
        keep_on: tuple[type[BaseException], ...] = (),
    ) -> Received:
        """Stream chunks to a temporary file, hashing as they arrive.

        With `partial`, the file is that one: appended to when `resume` (its bytes are hashed
        first, so the digest covers the whole file), else started over. When the stream fails
        with one of `keep_on` (a dropped connection), it stays for the next attempt; any other
        failure removes it, so nothing half-written is left behind.

        `chunks` that are `Hashed` are not hashed here: the file is named by their source's
        hash when it is the hash of exactly the file (none read before, none appended to, as
        many bytes hashed as written), else the file is hashed once written.
        """
        # A large body costs one SHA-256 pass, not two; only when it provably is all the file.
        hashed = chunks if isinstance(chunks, Hashed) and not resume and chunks.size == 0 else None
        digest = hashlib.sha256()  # fed only when `hashed` is None
        size = 0
        out: io.BufferedIOBase
        self.refuse_links(self.tmp_dir)
        try:
            if partial is None:
                fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
                tmp = Path(name)
                out = os.fdopen(fd, "wb")
            else:
                tmp = partial
                if resume:  # hashed first, then appended to
                    out = os.fdopen(open_nofollow(tmp, os.O_RDWR), "r+b")
                else:
                    out = os.fdopen(open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb")
        except OSError as e:
            raise write_error(self.tmp_dir, e) from None
        try:
            with out:
                if resume:
                    size = hash_into(digest, out)  # the part kept from the last attempt
                    out.seek(size)
                start, spool = size, None
                try:
                    for chunk in chunks:
                        size += len(chunk)
                        if size > max_size:
                            raise TooLarge(f"larger than the maximum of {max_size} bytes")
                        if hashed is None:
                            digest.update(chunk)
                        if spool is not None:
                            spool.write(chunk)
                            continue
                        out.write(chunk)
                        if size - start >= SPOOL_AFTER:  # a large file: the disk works meanwhile
                            out.flush()
                            spool = Spooler(out)
                finally:
                    if spool is not None:
                        spool.close()  # everything received is written, whatever happens
                out.flush()
                os.fsync(out.fileno())
        except keep_on:
            raise
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise write_error(tmp, e) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if tmp.stat().st_size != size:  # written to by someone else meanwhile: not ours
            tmp.unlink(missing_ok=True)
            raise ArchiveError(f"{tmp} changed while it was written; try again")
        if hashed is None:
            return Received(tmp, digest.hexdigest(), size)
        sha256 = hashed.sha256() if hashed.size == size else None
        if sha256 is None:  # its source hashed other bytes than the file's: hash the file
            try:
                sha256, _ = file_sha256(tmp)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise write_error(tmp, e) from None
        return Received(tmp, sha256, size)

    def adopt(self, path: Path) -> Received:
        """Hash a file another tool wrote (yt-dlp) so it can be committed like a download."""
        sha256, size = file_sha256(path)
        return Received(path, sha256, size)

    def commit(self, received: Received, ext: str) -> Path:
        """Move a received file to its content address; a copy already there wins.

        The address is the hash alone: the same bytes served under another type (so another
        extension) are the file already stored.
        """
        target = self.media_path(received.sha256, ext)
        try:
            self.make_folder(target.parent)
            existing = next(target.parent.glob(f"{received.sha256}.*"), None)
            if existing is not None:
                target = existing
                received.tmp_path.unlink(missing_ok=True)
            else:
                os.replace(received.tmp_path, target)
                with self._lock:
                    self._committed[received.sha256] = target
        except ArchiveError:
            received.tmp_path.unlink(missing_ok=True)
            raise
        except OSError as e:
            received.tmp_path.unlink(missing_ok=True)
            raise write_error(target.parent, e) from None
        return target

    def committed(self) -> set[str]:
        """The stored files this Store put there itself (and has not discarded since)."""
        with self._lock:
            return set(self._committed)

    def discard(self, sha256: str) -> bool:
        """Remove a stored file this Store put there itself (one no article could cite after
        all); files stored before, or by another process, are never touched."""
        with self._lock:
            path = self._committed.pop(sha256, None)
        if path is None:
            return False
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            log.warning("could not remove %s, which no article cites: %s", path, e)
            return False
        return True

    def link_media(self, folder: Path, media: Path, changes: Changes | None = None) -> Path:
        """Give an article folder its own name for a stored file (hard link, else a copy)."""
        dest = folder / "media" / media.name
        self.make_folder(dest.parent, changes)
        self.refuse_links(dest)
        if dest.exists():
            return dest
        try:
            os.link(media, dest, follow_symlinks=False)
        except FileExistsError:
            return dest
        except OSError:
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out, media.open("rb") as src:
                    shutil.copyfileobj(src, out)
                os.replace(name, dest)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        if changes is not None:
            changes.created(dest)
        return dest

    def write_file(self, path: Path, data: bytes, changes: Changes | None = None) -> None:
        """Write all of `data` or nothing: a temporary sibling, then a rename."""
        self.make_folder(path.parent, changes)
        self.refuse_links(path)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if changes is not None:
                changes.replacing(path)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
