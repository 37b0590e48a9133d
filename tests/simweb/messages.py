"""HTTP messages exchanged between the proxy and the world model, and small response helpers."""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Request:
    """One request as the simulated web saw it (status is filled in once it was answered)."""

    method: str
    url: str  # full URL: scheme://host/path?query
    host: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    status: int = 0  # 0 = no HTTP answer (connection reset)
    body: bytes = b""
    scheme: str = "https"

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def cookies(self) -> dict[str, str]:
        jar: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                jar[name] = value
        return jar


@dataclass
class Response:
    """What to answer. `fault` names a misbehaviour the proxy performs instead of a clean answer
    (see proxy.FAULT_WRITERS); `fault_args` parameterises it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    fault: str | None = None
    fault_args: Mapping[str, Any] = field(default_factory=dict)
    file: Path | None = None  # a body too large to hold in memory: streamed from this file


def html_response(
    body: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, body.encode()
    )


def json_response(
    obj: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(
        status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body
    )


def redirect_response(location: str, status: int = 301) -> Response:
    return Response(status, {"Location": location, "Content-Type": "text/html; charset=utf-8"})


def meta_refresh_html(location: str, title: str = "Redirecting") -> str:
    """The 200-page-with-meta-refresh form of a redirect some shorteners use."""
    loc = html.escape(location, quote=True)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta http-equiv="refresh" content="0;URL={loc}"></head>'
        f'<body><a href="{loc}">{loc}</a></body></html>'
    )


def login_wall_html(title: str = "Log in to continue") -> str:
    """The page a site serves instead of its media to a visitor it wants signed in."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '</head><body><main><h1>Log in to continue</h1><form action="/login" method="post">'
        '<input name="username"><input name="password" type="password">'
        "<button>Log in</button></form></main></body></html>"
    )


# Inflates to more than 100 MB while the wire carries about 130 KB.
GZIP_BOMB_SIZE = 128 * 1024 * 1024
_bombs: dict[int, bytes] = {}
_bombs_lock = threading.Lock()


def gzip_bomb(size: int = GZIP_BOMB_SIZE) -> bytes:
    """A gzip stream of `size` zero bytes; compressed once per size (level 9), then cached."""
    with _bombs_lock:  # held while compressing, so concurrent requests build it only once
        if size not in _bombs:
            packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = bytes(1 << 20)
            parts = [packer.compress(zeros[: size - start]) for start in range(0, size, len(zeros))]
            _bombs[size] = b"".join([*parts, packer.flush()])
        return _bombs[size]


def not_found() -> Response:
    return html_response("<!DOCTYPE html><title>404 Not Found</title><h1>Not Found</h1>", 404)


# Every file gets the same plausible modification time; a fixed value keeps runs reproducible.
FILE_MTIME = datetime(2022, 1, 4, 10, 12, 44, tzinfo=UTC)

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_for(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def file_response(
    request: Request, data: bytes, content_type: str, extra_headers: Mapping[str, str] | None = None
) -> Response:
    """Serve bytes the way a CDN does: ETag, Last-Modified, Accept-Ranges and Range support."""
    etag = etag_for(data)
    headers = {
        "Content-Type": content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": format_datetime(FILE_MTIME, usegmt=True),
        "Cache-Control": "max-age=604800, must-revalidate",
        **(extra_headers or {}),
    }
    if request.headers.get("if-none-match") == etag:
        return Response(304, headers)
    spec = request.headers.get("range", "").strip()
    if_range = request.headers.get("if-range")
    match = _RANGE_RE.match(spec) if spec else None
    # A stale If-Range or a multi-range request gets the whole file, which RFC 9110 allows.
    if match is None or (if_range is not None and if_range != etag):
        return Response(200, headers, data)
    first, last, size = match.group(1), match.group(2), len(data)
    if first == "" and last == "":
        return Response(200, headers, data)
    if first == "":  # suffix range: the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end or size == 0:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(416, headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(206, headers, data[start : end + 1])
