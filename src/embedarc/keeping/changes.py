"""Undo for one article write: what it created is removed, what it replaced is put back.

An article write touches several files (the original, the origin page, evidence, links to
stored media, the sidecar) before its index rows are committed; when any step fails, the
folder must be left as it was, or `verify` finds half an article.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from pathlib import Path

from .store import write_error

log = logging.getLogger(__name__)


class Changes:
    """What one article write added or replaced in the archive, so a failed write can be undone.

    A replaced file's old bytes are kept under a second hard link name (no space needed) until
    the write is kept, so an undo puts them back as they were.
    """

    def __init__(self) -> None:
        self._created: list[Path] = []  # files and folders, each after its folder
        self._saved: list[tuple[Path, Path]] = []  # (path, its old bytes under another name)

    def created(self, path: Path) -> None:
        self._created.append(path)

    def replacing(self, path: Path) -> None:
        """Call before `path` is replaced (or created)."""
        if not os.path.lexists(path):
            self._created.append(path)
            return
        saved = path.with_name(f".{path.name}.{secrets.token_hex(4)}.old")
        try:
            try:
                os.link(path, saved, follow_symlinks=False)
            except OSError:  # no hard links on this file system: a copy
                shutil.copy2(path, saved, follow_symlinks=False)
        except OSError as e:
            raise write_error(saved, e) from None
        self._saved.append((path, saved))

    def undo(self) -> None:
        """Put back what was replaced and remove what was created; best effort, never raises."""
        for path, saved in reversed(self._saved):
            try:
                os.replace(saved, path)
            except OSError as e:
                log.warning("could not put back %s (its old bytes are in %s): %s", path, saved, e)
        for path in reversed(self._created):
            try:
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink(missing_ok=True)
            except OSError as e:
                log.warning("could not remove %s after a failed write: %s", path, e)
        self._saved.clear()
        self._created.clear()

    def keep(self) -> None:
        """The write went through: drop the old bytes kept for an undo."""
        for _, saved in self._saved:
            with contextlib.suppress(OSError):
                saved.unlink()
        self._saved.clear()
        self._created.clear()
