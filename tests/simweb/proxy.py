"""A loopback HTTP proxy that answers every request itself.

Clients under test are pointed at it with HTTP(S)_PROXY. Plain-HTTP requests arrive in absolute
form; HTTPS arrives as CONNECT, after which the proxy terminates TLS with a certificate for the
requested host (issued by a test CA the client is told to trust) and serves HTTP/1.1 inside the
tunnel. Nothing is ever forwarded: no outgoing connection, no DNS lookup, so a test cannot reach
the internet through it even by accident.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import trustme

from .messages import Request, Response

Responder = Callable[[Request], Response]
# Errors a client can cause by hanging up or refusing our certificate; never worth a traceback.
_CLIENT_GONE = (ConnectionError, TimeoutError, ssl.SSLError, OSError)


def _reset(handler: _Handler, response: Response, head: bytes) -> None:
    """Close without answering; SO_LINGER 0 makes it a TCP RST, as a crashed server would."""
    with contextlib.suppress(OSError):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.close()


def _hang_up(handler: _Handler) -> None:
    """End the connection cleanly (FIN, not RST) in the middle of whatever was being sent."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _body(handler: _Handler, response: Response) -> bytes:
    return b"" if handler.command == "HEAD" else response.body


def _truncate(handler: _Handler, response: Response, head: bytes) -> None:
    """Promise the whole body in Content-Length, send only part of it, then hang up."""
    keep = response.fault_args.get("keep")
    if keep is None:
        keep = len(response.body) // 2
    handler.wfile.write(head + _body(handler, response)[: int(keep)])
    _hang_up(handler)


# A trickling answer hangs up after this long at most, so a client without a timeout cannot
# keep a test waiting for ever.
TRICKLE_LIMIT = 60.0


def _trickle(handler: _Handler, response: Response, head: bytes) -> None:
    """Send the head at once, then the body `chunk` bytes at a time with `interval` s between.

    After `limit` seconds (at most TRICKLE_LIMIT) or when the proxy stops, it hangs up.
    """
    args = response.fault_args
    chunk = max(1, int(args.get("chunk", 16)))
    interval = max(0.0, float(args.get("interval", 0.05)))
    deadline = time.monotonic() + min(float(args.get("limit", TRICKLE_LIMIT)), TRICKLE_LIMIT)
    body = _body(handler, response)
    handler.wfile.write(head)
    for start in range(0, len(body), chunk):
        if start:
            pause = min(interval, max(0.0, deadline - time.monotonic()))
            if handler.server.stopping.wait(pause) or time.monotonic() >= deadline:
                _hang_up(handler)
                return
        handler.wfile.write(body[start : start + chunk])


# How each fault kind is performed on the wire; web.SimWeb.fault lists the kinds that instead
# change what is answered. Each gets the handler, the prepared response and its head, and
# touches nothing but its own connection.
FAULT_WRITERS: dict[str, Callable[[_Handler, Response, bytes], None]] = {
    "reset": _reset,
    "truncate": _truncate,
    "trickle": _trickle,
}

_NO_BODY_STATUSES = {204, 304}
FILE_BLOCK = 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: several requests per connection / tunnel
    timeout = 30  # an idle keep-alive connection is dropped after this many seconds
    server: ProxyServer
    tunnel_host: str | None = None  # set inside a CONNECT tunnel

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read web.requests
        pass

    def handle(self) -> None:
        with contextlib.suppress(*_CLIENT_GONE):
            super().handle()

    # --- plain proxying and requests inside a tunnel

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _target(self) -> tuple[str, str, str, str]:
        """(scheme, host, path, query) from an absolute-form target or the Host header."""
        if not self.path.startswith("/"):  # absolute form; origin form may hold "://" in its path
            parts = urlsplit(self.path)
            scheme, netloc, path, query = parts.scheme, parts.netloc, parts.path, parts.query
        else:
            scheme = "https" if self.tunnel_host else "http"
            netloc = self.tunnel_host or self.headers.get("Host") or ""
            path, _, query = self.path.partition("?")
        host = netloc.rsplit("@", 1)[-1].lower()
        if host.endswith((":80", ":443")):
            host = host.rsplit(":", 1)[0]
        return scheme, host, path or "/", query

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        scheme, host, path, query = self._target()
        url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, url, host, path, query, headers, 0, body, scheme)
        response = self.server.responder(request)
        self._write(response)

    def _write(self, response: Response) -> None:
        if response.file is not None:
            self._write_file(response)
            return
        body = response.body
        no_body = response.status in _NO_BODY_STATUSES or response.status < 200
        lines = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        names = {name.lower() for name in response.headers}
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if "content-length" not in names and not no_body:
            lines.append(f"Content-Length: {len(body)}")
        if "date" not in names:
            lines.append(f"Date: {self.date_time_string()}")
        if self.close_connection or response.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if response.fault:
            FAULT_WRITERS[response.fault](self, response, head)
            return
        self.wfile.write(head if self.command == "HEAD" or no_body else head + body)

    def _write_file(self, response: Response) -> None:
        """Stream a body from disk, a block at a time, so a 2 GB answer costs no memory."""
        assert response.file is not None
        size = response.file.stat().st_size
        lines = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines += [f"Content-Length: {size}", f"Date: {self.date_time_string()}"]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if self.command == "HEAD":
            return
        with response.file.open("rb") as source:
            while block := source.read(FILE_BLOCK):
                self.wfile.write(block)

    # --- HTTPS: CONNECT, then TLS with a certificate for the requested host

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0].strip("[]").lower()
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.close_connection = True  # the tunnel owns the socket from here on
        try:
            tls = self.server.tls_context(host).wrap_socket(self.connection, server_side=True)
        except _CLIENT_GONE:
            return
        try:
            _TunnelHandler(tls, self.client_address, self.server, host)
        finally:
            with contextlib.suppress(OSError):
                tls.close()


class _TunnelHandler(_Handler):
    def __init__(self, sock: ssl.SSLSocket, address: Any, server: ProxyServer, host: str) -> None:
        self.tunnel_host = host  # before super().__init__, which handles requests right away
        super().__init__(sock, address, server)

    def do_CONNECT(self) -> None:  # no tunnels within tunnels
        self.send_error(405)


class ProxyServer(ThreadingHTTPServer):
    """The proxy, bound to an ephemeral loopback port and served from a daemon thread."""

    daemon_threads = True
    block_on_close = False  # close() must not wait for idle keep-alive connections

    def __init__(self, responder: Responder, ca: trustme.CA) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responder = responder
        self.ca = ca
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._contexts_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()  # wakes handlers that pause on purpose (trickle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def tls_context(self, host: str) -> ssl.SSLContext:
        with self._contexts_lock:
            context = self._contexts.get(host)
            if context is None:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.set_alpn_protocols(["http/1.1"])  # we speak HTTP/1.1 only
                self.ca.issue_cert(host).configure_cert(context)
                self._contexts[host] = context
            return context

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client hang-ups are normal in fault tests; keep stderr clean

    def start(self) -> None:
        # A short poll: shutdown() waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.02,), name="simweb-proxy", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
