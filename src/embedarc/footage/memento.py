"""Memento archives (RFC 7089): archive.today, and any TimeMap aggregator the user names.

A TimeMap lists an archive's captures ("mementos") of one URL in link-format (RFC 6690):

    <https://archive.ph/20220104101244/https://example.com/news/1>; rel="first memento";
        datetime="Tue, 04 Jan 2022 10:12:44 GMT",

Every archive is treated as a hostile server: a TimeMap is read up to a size cap and only its
complete entries count, memento URLs go through the same private-address guard as every other
request (an entry pointing at 127.0.0.1 is refused before any connection), archive.today's
mementos must stay on archive.today's own hosts, and a malformed TimeMap gives the entries
that parse, never an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..clock import iso
from ..errors import FetchFailed
from ..keeping.media import DEFAULT_MAX_PIXELS, may_be_media
from ..keeping.store import Store
from ..model import MediaFile, Method
from ..network.net import Fetched, Net, NetworkError, media_type, redact, retry_hint
from . import wayback
from .direct import save_response

log = logging.getLogger(__name__)

ARCHIVE_TODAY = "archive.today"
ARCHIVE_TODAY_TIMEMAP = "https://archive.ph/timemap/"
# The names archive.today answers under; its mementos and copies live on these only.
ARCHIVE_TODAY_HOSTS = frozenset(
    f"archive.{tld}" for tld in ("today", "ph", "is", "li", "md", "vn", "fo")
)
AGGREGATOR = "TimeMap aggregator"

MAX_TIMEMAP_BYTES = 1024 * 1024  # a TimeMap is read this far; the complete entries in it count
MAX_ENTRIES = 5000  # entries parsed from one TimeMap
MAX_HOPS = 5  # redirects followed inside an archive


class MementoUnavailable(FetchFailed):
    """An archive could not answer now (429, 5xx, network error); try again later."""


@dataclass(frozen=True)
class TimeMapSource:
    """Where to ask for TimeMaps: `prefix` + the URL gives the TimeMap of that URL."""

    name: str
    prefix: str
    hosts: frozenset[str] | None = None  # the hosts its mementos may be on; None: any

    def timemap_url(self, url: str) -> str:
        return self.prefix + url


def sources(aggregator: str | None) -> list[TimeMapSource]:
    """archive.today, then the user's aggregator when one is configured."""
    found = [TimeMapSource(ARCHIVE_TODAY, ARCHIVE_TODAY_TIMEMAP, ARCHIVE_TODAY_HOSTS)]
    if aggregator:
        found.append(TimeMapSource(AGGREGATOR, aggregator))
    return found


@dataclass(frozen=True)
class Memento:
    """One capture listed in a TimeMap."""

    uri: str  # URI-M: the capture, as the archive serves it
    moment: datetime  # when it was captured, UTC
    archive: str  # the archive's name, as a person knows it

    @property
    def captured_at(self) -> str:
        return iso(self.moment)

    def provenance(self, original: str) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "captured_at": self.captured_at,
            "capture_url": self.uri,
            "original_url": original,
        }


def archive_name(uri: str, source: TimeMapSource) -> str:
    """Who holds a memento: archive.today and the Wayback Machine by name, others by host."""
    host = (urlsplit(uri).hostname or "").lower()
    if host in ARCHIVE_TODAY_HOSTS:
        return ARCHIVE_TODAY
    if host == "web.archive.org":
        return wayback.ARCHIVE_NAME
    return host or source.name


# --- link-format -----------------------------------------------------------------------------


def parse_links(text: str, *, limit: int = MAX_ENTRIES) -> Iterator[tuple[str, dict[str, str]]]:
    """(URI, parameters) per link-value of an RFC 6690 document, at most `limit` of them.

    Commas and semicolons inside quoted values or inside <…> do not split. A link-value that
    does not parse (no <…>, an unterminated quote, text where a parameter should be) is
    skipped; an unterminated one at the end (a cut-off answer) ends the document.
    """
    i, n, count = 0, len(text), 0
    while i < n and count < limit:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            return
        if text[i] != "<":
            i = _skip_value(text, i)
            continue
        end = text.find(">", i + 1)
        if end < 0:
            return
        uri, i = text[i + 1 : end].strip(), end + 1
        params: dict[str, str] = {}
        broken = False
        while i < n:
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] == ",":
                break
            if text[i] != ";":
                broken = True
                i = _skip_value(text, i)
                break
            i += 1
            while i < n and text[i].isspace():
                i += 1
            start = i
            while i < n and text[i] not in '=;,"<>' and not text[i].isspace():
                i += 1
            name = text[start:i].lower()
            while i < n and text[i].isspace():
                i += 1
            value = ""
            if i < n and text[i] == "=":
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                if i < n and text[i] == '"':
                    closed, value, i = _quoted(text, i + 1)
                    if not closed:
                        return  # cut off inside a quoted value
                else:
                    start = i
                    while i < n and text[i] not in ";,":
                        i += 1
                    value = text[start:i].strip()
            if name:
                params.setdefault(name, value)
        if not broken and uri:
            count += 1
            yield uri, params


def _quoted(text: str, i: int) -> tuple[bool, str, int]:
    """A quoted string's value from just after its opening quote: (closed, value, next index)."""
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return True, "".join(out), i + 1
        out.append(char)
        i += 1
    return False, "".join(out), i


def _skip_value(text: str, i: int) -> int:
    """The index just past the next comma outside quotes and <…>: the next link-value."""
    quoted = angled = False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            angled = True
        elif char == ">":
            angled = False
        elif char == "," and not angled:
            return i + 1
        i += 1
    return i


def parse_timemap(text: str, base: str, source: TimeMapSource) -> list[Memento]:
    """The mementos a TimeMap lists, newest first; entries that do not add up are left out."""
    found: dict[str, Memento] = {}
    for uri, params in parse_links(text):
        if "memento" not in params.get("rel", "").lower().split():
            continue
        moment = _http_date(params.get("datetime", ""))
        absolute = urljoin(base, uri)
        parts = urlsplit(absolute)
        if moment is None or parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if source.hosts is not None and parts.hostname.lower() not in source.hosts:
            log.info("%s: memento %s is not on the archive's hosts", source.name, redact(uri))
            continue
        found.setdefault(absolute, Memento(absolute, moment, archive_name(absolute, source)))
    return sorted(found.values(), key=lambda m: m.moment, reverse=True)


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


# --- asking an archive -----------------------------------------------------------------------


def timemap(net: Net, source: TimeMapSource, url: str) -> list[Memento]:
    """The mementos `source` holds of `url`, newest first; [] when it has none.

    Raises MementoUnavailable when the archive cannot answer now; Refused / BadURL (final)
    when the TimeMap's address may not be asked.
    """
    url = redact(url)
    timemap_url = source.timemap_url(url)
    try:
        with net.open(
            timemap_url,
            headers={"Accept": "application/link-format, text/plain;q=0.5"},
            follow_redirects=True,
        ) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise MementoUnavailable(
                    f"{source.name}: HTTP {status} for its TimeMap of {url}",
                    status=status,
                    retry_after=retry_hint(response.headers),
                )
            if status >= 300:
                return []  # 404 is how TimeMaps say "no mementos"
            body = _read_capped(response.iter_bytes(), MAX_TIMEMAP_BYTES)
            final = str(response.url)
    except (FetchFailed, wayback.WaybackUnavailable):
        raise
    except NetworkError as e:
        if _final(e):
            raise
        raise MementoUnavailable(f"{source.name} unreachable: {e}") from e
    return parse_timemap(body.decode("utf-8", "replace"), final, source)


def _final(error: NetworkError) -> bool:
    from ..errors import BadURL, Refused, TooLarge

    return isinstance(error, Refused | BadURL | TooLarge)


def _read_capped(chunks: Iterator[bytes], limit: int) -> bytes:
    """At most `limit` bytes of a body; the rest is not read."""
    kept: list[bytes] = []
    size = 0
    for chunk in chunks:
        kept.append(chunk[: limit - size])
        size += len(kept[-1])
        if size >= limit:
            log.info("TimeMap larger than %d bytes: only its first entries are used", limit)
            break
    return b"".join(kept)


def _allowed(url: str, memento: Memento, source: TimeMapSource) -> bool:
    """Whether `url` is still the archive: its known hosts, else the memento's own host."""
    host = (urlsplit(url).hostname or "").lower()
    if source.hosts is not None:
        return host in source.hosts
    return bool(host) and host == (urlsplit(memento.uri).hostname or "").lower()


def fetch_small(net: Net, memento: Memento, source: TimeMapSource, *, max_bytes: int) -> Fetched:
    """A memento read into memory (an API answer, a page), following the archive's redirects.

    A Wayback Machine memento is read raw (`id_`). Raises FetchFailed for an error status or a
    redirect off the archive, MementoUnavailable when it cannot answer now, NetworkError for
    the rest (AnswerTooLarge over `max_bytes`, Refused for a guarded address).
    """
    raw = _wayback_capture(memento.uri)
    if raw is not None:
        return wayback.fetch_small(net, raw, max_bytes=max_bytes)
    url = memento.uri
    for _ in range(MAX_HOPS + 1):
        try:
            got = net.fetch(url, max_bytes=max_bytes)
        except NetworkError as e:
            if _final(e):
                raise
            raise MementoUnavailable(f"{memento.archive} unreachable: {e}") from e
        if got.status in (301, 302, 303, 307, 308):
            url = _next(url, got.headers.get("location"), memento, source)
            continue
        _check(url, got.status, got.headers, memento)
        return got
    raise FetchFailed(f"{memento.uri}: more than {MAX_HOPS} redirects in {memento.archive}")


def _next(url: str, location: str | None, memento: Memento, source: TimeMapSource) -> str:
    target = urljoin(url, location or "")
    if not _allowed(target, memento, source):
        raise FetchFailed(f"{url}: redirected out of {memento.archive}, to {redact(target)}")
    return target


def _check(url: str, status: int, headers: Mapping[str, str], memento: Memento) -> None:
    if status == 429 or status >= 500:
        raise MementoUnavailable(
            f"{url}: HTTP {status}", status=status, retry_after=retry_hint(headers)
        )
    if not 200 <= status < 300:
        raise FetchFailed(f"{url}: HTTP {status}", status=status)


def _wayback_capture(uri: str) -> wayback.Capture | None:
    """A Wayback Machine memento as a Capture, so its raw bytes (`id_`) are what is fetched."""
    parts = urlsplit(uri)
    if (parts.hostname or "").lower() != "web.archive.org" or not parts.path.startswith("/web/"):
        return None
    stamp, _, original = parts.path.removeprefix("/web/").partition("/")
    stamp = stamp.rstrip("abcdefghijklmnopqrstuvwxyz_")
    if len(stamp) != 14 or not stamp.isdigit() or not original:
        return None
    if parts.query:
        original += f"?{parts.query}"
    return wayback.Capture(original, stamp)


def fetch_media(
    net: Net,
    store: Store,
    memento: Memento,
    source: TimeMapSource,
    *,
    max_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    **meta: Any,
) -> MediaFile:
    """Store the file a memento of a media URL holds.

    A Wayback Machine memento gives the bytes as captured (`id_`). Other archives may serve
    the capture itself (method "memento") or, like archive.today, a page around their own copy
    of it: that copy, on the archive's own host, is stored (method "archive_copy") and may be
    re-encoded by the archive. Raises FetchFailed, MementoUnavailable, NetworkError, TooLarge.
    """
    raw = _wayback_capture(memento.uri)
    if raw is not None:
        return wayback.fetch_capture(
            net, store, raw, max_size=max_size, max_pixels=max_pixels, **meta
        )
    url, method = memento.uri, Method.MEMENTO
    for _ in range(MAX_HOPS + 1):
        try:
            with net.open(url) as response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    url = _next(url, response.headers.get("location"), memento, source)
                    continue
                _check(url, status, dict(response.headers), memento)
                mime = media_type(response.headers.get("content-type"))
                if not mime or may_be_media(mime):
                    return save_response(
                        store,
                        response,
                        max_size=max_size,
                        max_pixels=max_pixels,
                        method=method,
                        **meta,
                    )
                if method is not Method.MEMENTO or mime not in (
                    "text/html",
                    "application/xhtml+xml",
                ):
                    raise FetchFailed(f"{url}: expected media, got {mime}", status=status)
                page = _read_capped(response.iter_bytes(), MAX_TIMEMAP_BYTES)
        except NetworkError as e:
            if _final(e):
                raise
            raise MementoUnavailable(f"{memento.archive} unreachable: {e}") from e
        copy = _archive_copy(page, url, memento, source)
        if copy is None:
            raise FetchFailed(f"{url}: a page without the archive's copy of the file")
        url, method = copy, Method.ARCHIVE_COPY
    raise FetchFailed(f"{memento.uri}: more than {MAX_HOPS} redirects in {memento.archive}")


def _archive_copy(page: bytes, url: str, memento: Memento, source: TimeMapSource) -> str | None:
    """The archive's own copy of a captured file, in the page it shows around it."""
    tree = LexborHTMLParser(page.decode("utf-8", "replace"))
    for node in tree.css("img[src], video[src], source[src]"):
        src = urljoin(url, str(node.attributes.get("src") or ""))
        if _allowed(src, memento, source) and src != url:
            return src
    return None
