"""Memento archives (RFC 7089): archive.today, and a TimeMap aggregator at a host of the test's.

    today = memento.install_archive_today(web)
    today.capture(status_url, page_html, "text/html", when=datetime(2022, 1, 4, 10, 12, 44))
    today.capture(photo_url, jpeg, "image/jpeg")
    aggregator = memento.install_aggregator(web, "https://timetravel.example/timemap/link/")
    aggregator.timemap(url, "<https://…>; rel=\"memento\"; datetime=\"…\"")   # any body

archive.today's TimeMap (`https://archive.ph/timemap/<url>`) answers application/link-format in
the shape its real TimeMaps have: the original, the TimeGate, the mementos (the first and the
last with rel="first memento" / "last memento", a single one with rel="first last memento"),
then "self" with from/until. Mementos are `https://archive.ph/<YYYYMMDDhhmmss>/<url>`; a URL
never captured answers 404. archive.today does not replay raw bytes: a captured page comes back
rewritten (scripts dropped, images pointing at its own copies); a captured image comes back as
a page around its own copy, `https://archive.ph/<code>/<sha1>.<ext>`, which serves the bytes.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import unquote

from .messages import Request, Response, html_response
from .web import SimWeb

ARCHIVE_TODAY_HOSTS = ("archive.ph", "archive.today", "archive.is")
_REPLAY_RE = re.compile(r"^/(\d{14})/(.+)$")
_COPY_RE = re.compile(r"^/([A-Za-z0-9]{5})/([0-9a-f]{40})\.(\w+)$")
_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")', re.IGNORECASE)
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "video/mp4": "mp4"}


@dataclass(frozen=True)
class SimMemento:
    original: str
    moment: datetime
    data: bytes = field(repr=False)
    content_type: str

    @property
    def stamp(self) -> str:
        return self.moment.strftime("%Y%m%d%H%M%S")

    @property
    def uri(self) -> str:
        return f"https://archive.ph/{self.stamp}/{self.original}"

    @property
    def http_date(self) -> str:
        return format_datetime(self.moment, usegmt=True)


class ArchiveTodaySim:
    """archive.today's TimeMaps and replays, from captures registered by tests."""

    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self._lock = threading.Lock()
        self._held: dict[str, list[SimMemento]] = {}
        self._copies: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        for host in ARCHIVE_TODAY_HOSTS:
            web.host(host, self._answer)

    def capture(
        self,
        url: str,
        data: bytes,
        content_type: str,
        when: datetime = datetime(2022, 1, 4, 10, 12, 44, tzinfo=UTC),
    ) -> SimMemento:
        held = SimMemento(url, when.astimezone(UTC), data, content_type)
        with self._lock:
            self._held.setdefault(url, []).append(held)
            self._held[url].sort(key=lambda m: m.moment)
        return held

    def copy_url(self, data: bytes, content_type: str) -> str:
        """archive.today's own copy of a file: registered, and its URL returned."""
        digest = hashlib.sha1(data).hexdigest()
        path = f"/{digest[:5].upper()}/{digest}.{_EXT.get(content_type, 'bin')}"
        with self._lock:
            self._copies[path] = (data, content_type)
        return f"https://archive.ph{path}"

    def _answer(self, request: Request) -> Response | None:
        path = request.path
        if path.startswith("/timemap/"):
            return self._timemap(request, path.removeprefix("/timemap/"))
        with self._lock:
            copy = self._copies.get(path)
        if copy is not None:
            return Response(200, {"Content-Type": copy[1]}, copy[0])
        match = _REPLAY_RE.match(path)
        if match is None:
            return None
        url = _rebuilt(match[2], request.query)
        with self._lock:
            held = [m for m in self._held.get(url, []) if m.stamp == match[1]]
        if not held:
            return html_response("<title>archive.today</title><p>No results</p>", 404)
        return self._replay(held[0])

    def _timemap(self, request: Request, rest: str) -> Response:
        url = _rebuilt(rest, request.query)
        with self._lock:
            held = list(self._held.get(url, []))
        if not held:
            return Response(404, {"Content-Type": "text/plain; charset=utf-8"}, b"")
        lines = [f'<{url}>; rel="original"', f'<https://archive.ph/timegate/{url}>; rel="timegate"']
        for n, m in enumerate(held):
            rel = "memento"
            if n == 0:
                rel = "first memento" if len(held) > 1 else "first last memento"
            elif n == len(held) - 1:
                rel = "last memento"
            lines.append(f'<{m.uri}>; rel="{rel}"; datetime="{m.http_date}"')
        lines.append(
            f'<https://archive.ph/timemap/{url}>; rel="self"; type="application/link-format"; '
            f'from="{held[0].http_date}"; until="{held[-1].http_date}"'
        )
        body = (",\n".join(lines) + "\n").encode()
        return Response(200, {"Content-Type": "application/link-format"}, body)

    def _replay(self, held: SimMemento) -> Response:
        headers = {"Memento-Datetime": held.http_date, "Link": f'<{held.original}>; rel="original"'}
        if held.content_type.startswith("text/html"):
            page = held.data.decode("utf-8", "replace")
            page = re.sub(r"<script\b.*?</script>", "", page, flags=re.IGNORECASE | re.DOTALL)
            # Images point at archive.today's own copies; meta tags keep the original text.
            page = _SRC_RE.sub(lambda m: m[1] + self._copy_of(m[2]) + m[3], page)
            return html_response(page, headers=headers)
        copy = self.copy_url(held.data, held.content_type.split(";")[0].strip())
        page = (
            "<!DOCTYPE html><html><head><title>archive.today</title></head><body>"
            f'<div id="HEADER">{html.escape(held.original)}</div>'
            f'<div id="CONTENT"><img src="{copy}" style="max-width:100%"></div></body></html>'
        )
        return html_response(page, headers=headers)

    def _copy_of(self, src: str) -> str:
        # Only images the archive itself holds become copies; others are dropped from the page.
        with self._lock:
            held = self._held.get(html.unescape(src))
        if not held:
            return "data:,"
        return self.copy_url(held[-1].data, held[-1].content_type)


def _rebuilt(rest: str, query: str) -> str:
    rest = re.sub(r"^(https?):/+", r"\1://", unquote(rest))
    return rest + (f"?{query}" if query else "")


class AggregatorSim:
    """A TimeMap aggregator at `prefix`: answers the TimeMap body a test registers per URL."""

    def __init__(self, web: SimWeb, prefix: str) -> None:
        match = re.match(r"^https://([^/]+)(/.*)$", prefix)
        if match is None:
            raise ValueError(f"an https URL prefix, not {prefix!r}")
        self.prefix = prefix
        self._path = match[2]
        self._maps: dict[str, tuple[int, bytes]] = {}
        web.host(match[1], self._answer)

    def timemap(self, url: str, body: str | bytes, status: int = 200) -> None:
        self._maps[url] = (status, body.encode() if isinstance(body, str) else body)

    def _answer(self, request: Request) -> Response | None:
        if not request.path.startswith(self._path):
            return None
        url = _rebuilt(request.path.removeprefix(self._path), request.query)
        status, body = self._maps.get(url, (404, b""))
        return Response(status, {"Content-Type": "application/link-format"}, body)


def install_archive_today(web: SimWeb) -> ArchiveTodaySim:
    return ArchiveTodaySim(web)


def install_aggregator(web: SimWeb, prefix: str) -> AggregatorSim:
    return AggregatorSim(web, prefix)
