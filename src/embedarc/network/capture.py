"""Every HTTP exchange of a run, as received: the raw material of an article's WARC.

`Net` hands each answer to a `Recorder` before anything reads it (redirects httpx follows
included), so the record holds the status line and header fields exactly as they came and
a SHA-256 of the body bytes as they came over the wire (content-encoding not undone). A body
is only ever hashed while it streams; bodies of pages and API answers (not media, at most
`KEEP_LIMIT` bytes) are also written to a spool folder, to be kept with the article. A media
body is not kept twice: the store's file is it, when its SHA-256 is the body's. Nor is it
hashed twice: read through `raw_body`, its hash is the store's too (see `RawBody`).

Which article an exchange belongs to is told by scopes: the worker that prepares an article
or follows a link names what it works for, and each exchange made under that name carries it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..clock import now
from ..reading.urls import redact
from .capture_record import FORMAT

# Bodies of pages and API answers up to this size are kept whole; past it, only their hash.
KEEP_LIMIT = 16 * 1024 * 1024
# A request body (a POST form, a JSON query) is recorded up to this size.
REQUEST_BODY_LIMIT = 64 * 1024
# Media types whose bodies are footage: hashed while streaming, never held (the store keeps them).
MEDIA_PREFIXES = ("video/", "audio/", "image/", "application/octet-stream", "application/mp4")
# Where an answer's recorded body stream is found among the response's extensions.
RECORDED = "embedarc.recorded_body"

# Credentials never reach the archive: request fields that carry the reader's session or a
# proxy's password, and cookies a server sets, keep their name with the value replaced.
SECRET_REQUEST_FIELDS = frozenset(
    {"cookie", "authorization", "proxy-authorization", "x-csrf-token", "x-guest-token"}
)
SECRET_RESPONSE_FIELDS = frozenset({"set-cookie"})
REDACTED = "[redacted]"


def _text(raw: bytes) -> str:
    """Header bytes as a string that gives the same bytes back (latin-1 maps each byte)."""
    return raw.decode("latin-1")


def _fields(
    raw: list[tuple[bytes, bytes]], secret: frozenset[str], redacted: list[str]
) -> list[tuple[str, str]]:
    """Header fields as received, but for the values of `secret` ones (named in `redacted`)."""
    fields = []
    for name, value in raw:
        key, text = _text(name), _text(value)
        if key.lower() in secret:
            cookie, sep, rest = text.partition(";")
            if key.lower() == "set-cookie":  # its name and attributes say what was set
                # A cookie without "=" is all value (RFC 6265 5.2): it has no name to keep.
                named = cookie.partition("=")[0] if "=" in cookie else ""
                text = f"{named}={REDACTED}{sep}{rest}"
            else:
                text = REDACTED
            if key not in redacted:
                redacted.append(key)
        fields.append((key, text))
    return fields


@dataclass
class Exchange:
    """One request and its answer as they went over the wire; the body by its hash."""

    time: str
    method: str
    url: str
    target: str  # the request line's target: path and query as sent
    http_version: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    peer: str | None = None  # the address the connection went to (the proxy's, through one)
    redacted: list[str] = field(default_factory=list)  # header fields whose values are not kept
    request_body: bytes | None = None
    scopes: set[str] = field(default_factory=set)
    body_sha256: str | None = None  # of the raw body read (None while it is being read)
    body_size: int = 0
    complete: bool = False  # the whole body was read (else it was cut short by its reader)
    kept: bool = False  # its bytes are in the spool folder
    seq: int = -1  # its place among the run's exchanges (not part of the record)

    @property
    def id(self) -> str:
        """A name that depends only on what the exchange was: same exchange, same name."""
        data = json.dumps(self._core(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(data).hexdigest()[:32]

    def _core(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "method": self.method,
            "url": self.url,
            "target": self.target,
            "http_version": self.http_version,
            "request_headers": [list(h) for h in self.request_headers],
            "request_body": base64.b64encode(self.request_body).decode()
            if self.request_body is not None
            else None,
            "status": self.status,
            "reason": self.reason,
            "response_headers": [list(h) for h in self.response_headers],
            "peer": self.peer,
            "redacted": self.redacted,
            "body": {
                "sha256": self.body_sha256,
                "size": self.body_size,
                "complete": self.complete,
            },
        }

    def as_dict(self, *, stored: str) -> dict[str, Any]:
        """The record kept in the article folder; `stored` says where the body is: `store`,
        `folder:<name>`, `capture` (capture/bodies/<sha256>) or `none`."""
        data = {"format": FORMAT, "id": self.id, **self._core()}
        data["body"]["stored"] = stored
        return data


class _Tee(httpx.SyncByteStream):
    """The raw body stream of one answer, hashed (and spooled when kept) as it is read."""

    def __init__(
        self, inner: httpx.SyncByteStream, recorder: Recorder, exchange: Exchange, keep: bool
    ) -> None:
        self._inner = inner
        self._recorder = recorder
        self._exchange = exchange
        self._keep = keep
        self._hash = hashlib.sha256()
        self._size = 0
        self._chunks: list[bytes] | None = [] if keep else None
        self._done = False

    @property
    def size(self) -> int:
        """The body's bytes read (and hashed) so far."""
        return self._size

    def sha256(self) -> str | None:
        """The SHA-256 of the whole body once it was read to its end; None before that, and
        for a body cut short."""
        return self._exchange.body_sha256 if self._exchange.complete else None

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._hash.update(chunk)
            self._size += len(chunk)
            if self._chunks is not None:
                if self._size > KEEP_LIMIT:
                    self._chunks = None  # too large to keep: its hash will have to do
                else:
                    self._chunks.append(chunk)
            yield chunk
        self._exchange.complete = True
        self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        exchange = self._exchange
        sha = self._hash.hexdigest()
        exchange.body_size = self._size
        if self._chunks is not None:
            exchange.kept = self._recorder.spool(sha, self._chunks)
        self._chunks = None
        exchange.body_sha256 = sha  # last: a finished exchange is one with its hash
        self._recorder.finished(exchange)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish()


class RawBody:
    """An answer's body as it came over the wire (content-encoding not undone), read through its
    record, which hashes it as it is read: once it has been read to its end, `sha256()` is the
    SHA-256 of exactly the bytes this yielded (when all of them came through here: `size`
    counts every byte the record hashed, read through here or not)."""

    def __init__(self, response: httpx.Response, tee: _Tee) -> None:
        self._response = response
        self._tee = tee

    def __iter__(self) -> Iterator[bytes]:
        return self._response.iter_raw()

    @property
    def size(self) -> int:
        return self._tee.size

    def sha256(self) -> str | None:
        return self._tee.sha256()


def raw_body(response: httpx.Response) -> RawBody | None:
    """The body of a recorded answer, to be read raw with the record's hash of it; None when
    the answer is not recorded (no recorder, or one without a body)."""
    tee = response.extensions.get(RECORDED)
    return RawBody(response, tee) if isinstance(tee, _Tee) else None


class Recorder:
    """The exchanges of one run, each tagged with the scopes it was made under."""

    def __init__(self, spool: Path) -> None:
        spool.mkdir(parents=True, exist_ok=True)
        self.spool_dir = spool
        self._lock = threading.Lock()
        self._local = threading.local()
        self.exchanges: list[Exchange] = []
        # Each article asks for its exchanges by scope, URL and body: looked up, not scanned,
        # so a run of many articles does not cost the square of their number.
        self._by_scope: dict[str, list[Exchange]] = {}
        self._by_url: dict[str, list[Exchange]] = {}
        self._by_body: dict[str, list[Exchange]] = {}

    @contextlib.contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Tag the exchanges this thread makes inside the block with `name`."""
        names: list[str] = getattr(self._local, "names", [])
        self._local.names = [*names, name]
        try:
            yield
        finally:
            self._local.names = names

    def answer(self, response: httpx.Response) -> None:
        """Record an answer before anything reads its body (a response hook)."""
        request = response.request
        ext = response.extensions
        peer = None
        stream = ext.get("network_stream")
        if stream is not None:
            with contextlib.suppress(Exception):  # what the socket knows, if it says
                address = stream.get_extra_info("server_addr")
                if isinstance(address, tuple) and len(address) >= 2:
                    peer = f"{address[0]}:{address[1]}"
        content = None
        with contextlib.suppress(httpx.RequestNotRead):
            content = request.content
        redacted: list[str] = []
        exchange = Exchange(
            time=now(),
            method=request.method,
            url=redact(str(request.url)),
            target=_text(request.url.raw_path),
            http_version=_text(ext.get("http_version", b"HTTP/1.1")),
            request_headers=_fields(request.headers.raw, SECRET_REQUEST_FIELDS, redacted),
            status=response.status_code,
            reason=_text(ext.get("reason_phrase", b"")),
            response_headers=_fields(response.headers.raw, SECRET_RESPONSE_FIELDS, redacted),
            peer=peer,
            redacted=redacted,
            request_body=content if content and len(content) <= REQUEST_BODY_LIMIT else None,
            scopes=set(getattr(self._local, "names", [])),
        )
        no_body = request.method == "HEAD" or response.status_code in (204, 304)
        with self._lock:
            exchange.seq = len(self.exchanges)
            self.exchanges.append(exchange)
            for scope in exchange.scopes:
                self._by_scope.setdefault(scope, []).append(exchange)
            self._by_url.setdefault(exchange.url, []).append(exchange)
        if no_body:
            exchange.complete, exchange.body_sha256 = True, hashlib.sha256().hexdigest()
            self.finished(exchange)
        else:
            kind = response.headers.get("content-type", "").strip().lower()
            keep = not kind.startswith(MEDIA_PREFIXES)
            tee = _Tee(response.stream, self, exchange, keep)  # type: ignore[arg-type]
            response.stream = tee
            response.extensions[RECORDED] = tee  # where `raw_body` finds it

    def finished(self, exchange: Exchange) -> None:
        """An exchange's body is read (or cut short): it can be found by its hash."""
        if exchange.complete and exchange.body_sha256 is not None:
            with self._lock:
                self._by_body.setdefault(exchange.body_sha256, []).append(exchange)

    def spool(self, sha256: str, chunks: list[bytes]) -> bool:
        """Keep a body in the spool folder under its hash; False when it cannot be written."""
        path = self.spool_dir / sha256
        try:
            # The folder is not made again: gone, the run is over (a worker outliving Ctrl-C).
            if not path.exists():
                part = path.with_name(f".{sha256}.{threading.get_ident()}.part")
                with part.open("wb") as out:
                    out.writelines(chunks)
                os.replace(part, path)
        except OSError:
            return False  # a full disk costs this body's copy, not the run
        return True

    def spooled(self, sha256: str) -> Path | None:
        path = self.spool_dir / sha256
        return path if path.is_file() else None

    def select(
        self, scopes: Iterable[str], urls: Iterable[str], bodies: Iterable[str]
    ) -> list[Exchange]:
        """The finished exchanges made under one of `scopes`, for one of `urls` (a media file
        fetched once for several links), or whose body hashes to one of `bodies` (a service's
        answer kept as evidence, asked once for several links)."""
        found: dict[int, Exchange] = {}
        with self._lock:
            for index, keys in (
                (self._by_scope, set(scopes)),
                (self._by_url, set(urls)),
                (self._by_body, set(bodies)),
            ):
                for key in keys:
                    for e in index.get(key, ()):
                        if e.body_sha256 is not None:
                            found[e.seq] = e
        return [found[seq] for seq in sorted(found)]
