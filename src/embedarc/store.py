"""The archive on disk: content-addressed media, article folders, atomic writes.

archive/
  index.db
  media/<sha256[:2]>/<sha256>.<ext>
  articles/<date>-<slug>-<id>/
    article.txt | article.html   the article's original bytes
    origin.html                  the original page the article came from, when resolved
    article.json                 the sidecar: everything known about the folder
    evidence/                    raw answers of the services (tweet lookups)
    media/<sha256>.<ext>         links to the store (hard links where possible)
  tmp/                           partial downloads; safe to delete when nothing runs
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ArchiveError, TooLarge, UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, one process at a time
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Received:
    """A file streamed into tmp/ and hashed on the way."""

    tmp_path: Path
    sha256: str
    size: int


def write_error(path: Path, error: OSError) -> ArchiveError:
    """A one-line ArchiveError for a failed write (full disk, read-only folder, ...)."""
    if error.errno == errno.ENOSPC:
        why = "the disk is full"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is read-only"
    else:
        why = error.strerror or str(error)
    return ArchiveError(f"cannot write to the archive ({path}): {why}")


def require_archive(root: Path) -> None:
    """Raise a usage error unless `root` holds an archive: only commands that archive make one,
    so a mistyped --archive-dir is reported instead of becoming a new, empty archive."""
    if (root / "index.db").is_file() or (root / "articles").is_dir():
        return
    raise UsageError(
        f"there is no archive at {root} (`embedarc archive`, `run` or `sources add` makes one);"
        " check --archive-dir or $EMBEDARC_ARCHIVE"
    )


def slugify(text: str, limit: int = 60) -> str:
    """ASCII, lower-case, dash-separated; never empty, never a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "article"


BLOCK = 1024 * 1024


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
    """SHA-256 and size of a file, streamed (constant memory)."""
    digest = hashlib.sha256()
    with path.open("rb", buffering=0) as f:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        size = hash_into(digest, f)
    return digest.hexdigest(), size


class Store:
    """Files under one archive folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media_dir = root / "media"
        self.articles_dir = root / "articles"
        self.tmp_dir = root / "tmp"

    def ensure(self) -> None:
        """Create the folders and make sure each can be written, before any download starts."""
        try:
            for folder in (self.root, self.media_dir, self.articles_dir, self.tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ArchiveError(f"cannot create the archive folder {self.root}: {e.strerror}") from e
        for folder in (self.root, self.media_dir, self.articles_dir, self.tmp_dir):
            try:
                with tempfile.TemporaryFile(dir=folder, prefix=".write-test-"):
                    pass
            except OSError as e:
                raise write_error(folder, e) from None

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
        try:
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
        except OSError as e:
            raise write_error(path, e) from None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield None
                    return
            yield path
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_size == 0:  # nothing worth resuming
                    path.unlink()
                if not path.is_file():
                    self.etag_path(path).unlink(missing_ok=True)

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
        """
        digest = hashlib.sha256()
        size = 0
        out: io.BufferedIOBase
        try:
            if partial is None:
                fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
                tmp = Path(name)
                out = os.fdopen(fd, "wb")
            else:
                tmp = partial
                out = tmp.open("r+b") if resume else tmp.open("wb")
        except OSError as e:
            raise write_error(self.tmp_dir, e) from None
        try:
            with out:
                if resume:
                    size = hash_into(digest, out)  # the part kept from the last attempt
                    out.seek(size)
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge(f"larger than the maximum of {max_size} bytes")
                    digest.update(chunk)
                    out.write(chunk)
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
        return Received(tmp, digest.hexdigest(), size)

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
            target.parent.mkdir(parents=True, exist_ok=True)
            existing = next(target.parent.glob(f"{received.sha256}.*"), None)
            if existing is not None:
                target = existing
                received.tmp_path.unlink(missing_ok=True)
            else:
                os.replace(received.tmp_path, target)
        except OSError as e:
            received.tmp_path.unlink(missing_ok=True)
            raise write_error(target.parent, e) from None
        return target

    def link_media(self, folder: Path, media: Path) -> Path:
        """Give an article folder its own name for a stored file (hard link, else a copy)."""
        dest = folder / "media" / media.name
        if dest.exists():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(media, dest)
        except OSError:
            tmp = dest.with_name(dest.name + ".part")
            shutil.copyfile(media, tmp)
            os.replace(tmp, dest)
        return dest

    def write_file(self, path: Path, data: bytes) -> None:
        """Write all of `data` or nothing: a temporary sibling, then a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
