"""--max-download-time over a whole exchange: from sending a request to its answer's last byte.

httpx's timeouts bound each read only: a server that sends its headers (or its body) a byte
at a time, each byte inside --timeout, would hold the request and its slot for as long as it
likes. Every connection embedarc opens, direct or through a proxy, goes through
`DeadlineBackend`, whose streams wait on each read, write and TLS handshake at most until the
deadline of the exchange being sent or read. Which exchange that is, is set per thread
(`Exchange.active`) around the sending and around each read of the body: a connection kept
alive serves many requests, each with its own deadline.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import httpcore

from ..errors import Cancelled, NetworkError
from ..reading.urls import redact

T = TypeVar("T")


class Exchange:
    """One request and its answer, and the time they may take in all."""

    def __init__(self, url: str, seconds: float, cancelled: threading.Event) -> None:
        self.url = url
        self.seconds = seconds
        self.cancelled = cancelled
        self.deadline = time.monotonic() + seconds

    def expired(self) -> NetworkError:
        return NetworkError(
            f"{redact(self.url)}: gave up after {self.seconds:g} s"
            " (the server is too slow; see --max-download-time)"
        )

    def check(self) -> None:
        """Raise if the run is being interrupted or the exchange has taken too long."""
        if self.cancelled.is_set():  # Ctrl-C
            raise Cancelled(f"{redact(self.url)}: interrupted")
        if time.monotonic() >= self.deadline:
            raise self.expired()

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Bound what the network streams do on this thread meanwhile by this exchange."""
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)


# The exchange whose bytes this thread is sending or reading; None outside Net.open (nothing
# else uses the backend, but a stream must still work without one).
_current: ContextVar[Exchange | None] = ContextVar("embedarc_exchange", default=None)


def _bounded(
    operation: Callable[[float | None], T], timeout: float | None, timed_out: type[Exception]
) -> T:
    """Run `operation` with its timeout cut to the time left to the current exchange; when
    that cut is what ran out, say it was the exchange's limit, not a plain timeout."""
    exchange = _current.get()
    if exchange is None:
        return operation(timeout)
    exchange.check()
    left = exchange.deadline - time.monotonic()
    cut = timeout is None or left < timeout
    try:
        return operation(left if cut else timeout)
    except timed_out:
        if cut:
            raise exchange.expired() from None
        raise


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(lambda t: self._inner.read(max_bytes, t), timeout, httpcore.ReadTimeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda t: self._inner.write(buffer, t), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # Through an HTTPS proxy this is TLS inside the tunnel's TLS: wrapped again, so the
        # streams of every layer keep to the deadline.
        inner = _bounded(
            lambda t: self._inner.start_tls(ssl_context, server_hostname, t),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose connections keep to the current exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda t: self.inner.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda t: self.inner.connect_unix_socket(path, t, socket_options),
            timeout,
            httpcore.ConnectTimeout,
        )
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)
