"""Large downloads are written on a thread of their own; what is stored is still exactly what
arrived, a transfer broken off keeps what arrived, and a disk that fails leaves nothing."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedarc.errors import ArchiveError, NetworkError
from embedarc.keeping import spool, store
from embedarc.keeping.store import Store


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spool after 64 KiB and sync every 256 KiB, so a few MB exercise every path."""
    monkeypatch.setattr(store, "SPOOL_AFTER", 64 * 1024)
    monkeypatch.setattr(spool, "SYNC_EVERY", 256 * 1024)


def chunks(count: int, size: int = 16 * 1024, fail_after: int | None = None) -> Iterator[bytes]:
    for n in range(count):
        if fail_after is not None and n == fail_after:
            raise NetworkError("the server hung up")
        yield hashlib.sha256(str(n).encode()).digest() * (size // 32)


def test_a_large_download_is_stored_byte_for_byte(tmp_path: Path) -> None:
    archive = Store(tmp_path / "archive")
    archive.ensure()
    data = b"".join(chunks(300))  # 4.8 MB: spooled, synced many times

    received = archive.receive(chunks(300), max_size=len(data))

    assert received.size == len(data)
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.tmp_path.read_bytes() == data


def test_a_large_download_is_synced_while_it_arrives_by_the_spooling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[str] = []
    real = os.fdatasync

    def noted(fd: int) -> None:
        syncs.append(threading.current_thread().name)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", noted)
    archive = Store(tmp_path / "archive")
    archive.ensure()
    archive.receive(chunks(100), max_size=10**9)  # 1.6 MB: six syncs of 256 KiB
    assert syncs and set(syncs) == {"spool"}


def test_a_broken_off_large_download_keeps_exactly_what_arrived(tmp_path: Path) -> None:
    archive = Store(tmp_path / "archive")
    archive.ensure()
    partial = archive.tmp_dir / "resume.part"
    with pytest.raises(NetworkError):
        archive.receive(
            chunks(100, fail_after=60), max_size=10**9, partial=partial, keep_on=(NetworkError,)
        )
    assert partial.read_bytes() == b"".join(chunks(60))


def test_a_disk_that_fails_while_spooling_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk cannot be made on demand here: the write itself is made to fail as one would.
    real = os.fdatasync
    calls = {"n": 0}

    def full(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fdatasync", full)
    archive = Store(tmp_path / "archive")
    archive.ensure()
    with pytest.raises(ArchiveError, match="the disk is full"):
        archive.receive(chunks(300), max_size=10**9)
    assert not list(archive.tmp_dir.glob("*.part"))
