"""One writer-job at a time per archive: `run`, `remove` and `rebuild-index` take this lock."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import ArchiveError

log = logging.getLogger(__name__)

LOCK_NAME = "run.lock"


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
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
def exclusive(root: Path, doing: str) -> Iterator[None]:
    """Hold the archive's lock for `doing`, or say which run holds it (an ArchiveError)."""
    with run_lock(root) as busy:
        if busy is not None:
            raise ArchiveError(f"cannot {doing}: run {busy} is working on {root}; try later")
        yield
