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

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ArchiveError, TooLarge


@dataclass(frozen=True)
class Received:
    """A file streamed into tmp/ and hashed on the way."""

    tmp_path: Path
    sha256: str
    size: int


def slugify(text: str, limit: int = 60) -> str:
    """ASCII, lower-case, dash-separated; never empty, never a path."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "article"


class Store:
    """Files under one archive folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.media_dir = root / "media"
        self.articles_dir = root / "articles"
        self.tmp_dir = root / "tmp"

    def ensure(self) -> None:
        try:
            for folder in (self.root, self.media_dir, self.articles_dir, self.tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ArchiveError(f"cannot create the archive folder {self.root}: {e.strerror}") from e

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def media_path(self, sha256: str, ext: str) -> Path:
        return self.media_dir / sha256[:2] / f"{sha256}.{ext}"

    def receive(self, chunks: Iterable[bytes], *, max_size: int) -> Received:
        """Stream chunks to a temporary file, hashing as they arrive."""
        digest = hashlib.sha256()
        size = 0
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=".part")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge(f"larger than the maximum of {max_size} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Received(tmp, digest.hexdigest(), size)

    def adopt(self, path: Path) -> Received:
        """Hash a file another tool wrote (yt-dlp) so it can be committed like a download."""
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                digest.update(block)
        return Received(path, digest.hexdigest(), path.stat().st_size)

    def commit(self, received: Received, ext: str) -> Path:
        """Move a received file to its content address; a copy already there wins."""
        target = self.media_path(received.sha256, ext)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            received.tmp_path.unlink(missing_ok=True)
        else:
            os.replace(received.tmp_path, target)
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
