"""Write a large download on a thread of its own, so the disk works while the network does.

Written on the receiving thread, a download reaches the page cache only; the kernel keeps
gigabytes of it there and the final fsync writes it all while nothing else happens, so a file
takes the network's time plus the disk's. The spooler's thread writes what arrives and syncs
every `SYNC_EVERY` bytes, so the two overlap and the final fsync has little left to do.
"""

from __future__ import annotations

import io
import os
import queue
import threading

SYNC_EVERY = 64 * 1024 * 1024
QUEUED = 256  # chunks waiting to be written (tens of KB each): memory stays bounded


class Spooler:
    """Chunks handed to `write` reach `out` in order; `close` waits until they all have.

    An error of the writing thread (a full disk) is raised by the next `write` or by `close`.
    """

    def __init__(self, out: io.BufferedIOBase) -> None:
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)  # None: the end
        self._error: BaseException | None = None
        # A daemon: a disk that hangs must not keep the process from exiting on Ctrl-C.
        self._thread = threading.Thread(target=self._run, name="spool", daemon=True)
        self._thread.start()

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        if chunk:
            self._queue.put(chunk)

    def close(self) -> None:
        """Wait for every chunk to be written (and synced up to the last `SYNC_EVERY`)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        unsynced = 0
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue  # failed already: only take chunks off the queue until the end
            try:
                self._out.write(chunk)
                unsynced += len(chunk)
                if unsynced >= SYNC_EVERY:
                    self._out.flush()
                    os.fdatasync(self._out.fileno())
                    unsynced = 0
            except BaseException as e:  # handed to the receiving thread, which raises it
                self._error = e
