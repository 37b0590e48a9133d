"""Locks that let several `embedarc` processes share one archive.

- `run.lock`: one `run` at a time per archive (a second one has nothing to do).
- `write.lock`: every command that adds to the archive (`archive`, `run`) holds it shared;
  commands that take things out or rewrite what others rely on (`remove`, `rebuild-index`)
  hold it exclusively. So `remove` never deletes a file that an article being written right
  now refers to before its rows reach the index.

Both are flock(2) locks: the kernel drops them when their process dies, so a lock left by a
killed process is free at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import ArchiveError
from .store import open_nofollow

log = logging.getLogger(__name__)

LOCK_NAME = "run.lock"
WRITE_LOCK_NAME = "write.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(root: Path) -> Iterator[int | None]:
    """Hold the archive's run lock; yield None when taken, else the pid of the run holding it.

    The kernel drops the lock when its process dies, so a lock left by a killed run is free
    and is simply taken over.
    """
    path = root / LOCK_NAME
    fd = open_nofollow(path, os.O_RDWR | os.O_CREAT)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            yield int(holder) if holder.isdigit() else -1
            return
        previous = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if previous.isdigit() and int(previous) != os.getpid() and not _pid_alive(int(previous)):
            log.info("taking over the lock left by run %s, which is gone", previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield None
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(path: Path, mode: int, *, waiting: str | None = None) -> Iterator[bool]:
    """The lock file at `path` held in `mode` (shared or exclusive); yields whether it was
    taken. Taken at once or not at all, unless `waiting` says why to wait for it."""
    fd = open_nofollow(path, os.O_RDWR | os.O_CREAT)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is None:
                yield False
                return
            log.info("%s", waiting)
            fcntl.flock(fd, mode)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writing(root: Path) -> Iterator[None]:
    """Hold the write lock shared, as every command that adds to the archive does.

    Many writers at once are fine (SQLite and the store cope); while `remove` or
    `rebuild-index` holds the lock, wait for it: they are short.
    """
    waiting = f"waiting for a remove or rebuild-index on {root} to finish"
    with _locked(root / WRITE_LOCK_NAME, fcntl.LOCK_SH, waiting=waiting):
        yield


@contextlib.contextmanager
def exclusive(root: Path, doing: str) -> Iterator[None]:
    """Hold the write lock alone for `doing`, or say who is writing (an ArchiveError).

    Refuses rather than waits: a run may take minutes, and a person is waiting for an answer.
    """
    with run_lock(root) as busy:
        if busy is not None:
            raise ArchiveError(f"cannot {doing}: run {busy} is working on {root}; try later")
        with _locked(root / WRITE_LOCK_NAME, fcntl.LOCK_EX) as taken:
            if not taken:
                raise ArchiveError(
                    f"cannot {doing}: an `embedarc archive` is writing to {root}; try when it"
                    " has finished"
                )
            yield
