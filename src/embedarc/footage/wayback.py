"""The Wayback Machine: footage whose original link is dead, and asking for a fresh capture.

Lookups try the availability API first (one small answer) and fall back to CDX, which the
availability API is known to miss captures of. Captures are fetched in `id_` mode: the bytes
exactly as the original server sent them, without the Wayback toolbar or rewritten links.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin

from ..clock import iso, now
from ..errors import AnswerTooLarge, BadURL, FetchFailed, Refused
from ..keeping.media import DEFAULT_MAX_PIXELS, may_be_media
from ..keeping.store import Store
from ..model import MediaFile, Method
from ..network.net import Fetched, Net, NetworkError, media_type, redact
from .direct import save_response

log = logging.getLogger(__name__)

AVAILABILITY_URL = "https://archive.org/wayback/available"
CDX_URL = "https://web.archive.org/cdx/search/cdx"
REPLAY_PREFIX = "https://web.archive.org/web/"
SAVE_URL = "https://web.archive.org/save"
SAVE_STATUS_URL = "https://web.archive.org/save/status/"
ARCHIVE_NAME = "Wayback Machine"

# CDX rows to look at: a few, so an excluded newest row still leaves an older one.
CDX_ROWS = 5
# Redirects followed inside the archive (inexact timestamp → exact; captured 3xx → its target).
MAX_REPLAY_HOPS = 5

_TIMESTAMP_RE = re.compile(r"^\d{14}$")
_KEY_RE = re.compile(r"^[!-~]+$")  # printable ASCII, no spaces
_REPLAY_RE = re.compile(r"^https?://web\.archive\.org/web/(\d{1,14})[a-z_]*/(.+)$")


class WaybackUnavailable(FetchFailed):
    """The Wayback Machine could not answer now (429, 5xx, network error); try again later.

    A FetchFailed, so code that maps fetch errors to outcomes treats it as transient.
    """


@dataclass(frozen=True)
class Capture:
    """One capture of a URL in the Wayback Machine."""

    original: str  # the URL as captured
    timestamp: str  # YYYYMMDDhhmmss, UTC
    status: str | None = None  # HTTP status of the capture, as the service reports it ("200")
    mimetype: str | None = None  # unknown when the availability API found it

    def __post_init__(self) -> None:
        if not _TIMESTAMP_RE.match(self.timestamp):
            raise ValueError(f"not a 14-digit Wayback timestamp: {self.timestamp!r}")

    @property
    def raw_url(self) -> str:
        """The capture's bytes as originally served, without the Wayback toolbar."""
        return f"{REPLAY_PREFIX}{self.timestamp}id_/{self.original}"

    @property
    def replay_url(self) -> str:
        """The capture as the Wayback Machine shows it to a person: the capture's own URL."""
        return f"{REPLAY_PREFIX}{self.timestamp}/{self.original}"

    @property
    def captured_at(self) -> str:
        """The capture time, ISO 8601 UTC."""
        return iso(datetime.strptime(self.timestamp, "%Y%m%d%H%M%S"))

    def provenance(self) -> dict[str, Any]:
        """What a file taken from this capture records about where it came from."""
        return {
            "archive": ARCHIVE_NAME,
            "captured_at": self.captured_at,
            "capture_url": self.replay_url,
            "original_url": self.original,
        }


def find_capture(net: Net, url: str, *, media_only: bool = False) -> Capture | None:
    """The newest status-200 capture of `url`, or None when the archive has none.

    With `media_only`, captures served as text/html are skipped: a capture of a post's page is
    often a JavaScript shell, not footage. The availability API does not report a capture's
    type, so media lookups go to CDX directly. Raises WaybackUnavailable when the service
    cannot answer.
    """
    # Credentials in a URL are not part of what was captured, and must not reach a third party.
    url = redact(url)
    if not media_only:
        found = _from_availability(net, url)
        if found is not None:
            return found
    return _from_cdx(net, url, media_only=media_only)


def _from_availability(net: Net, url: str) -> Capture | None:
    answer = _ask(net, f"{AVAILABILITY_URL}?{urlencode({'url': url})}")
    snapshots = answer.get("archived_snapshots") if isinstance(answer, dict) else None
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is False:
        return None
    status = str(closest.get("status") or "")
    timestamp = str(closest.get("timestamp") or "")
    if status != "200" or not _TIMESTAMP_RE.match(timestamp):
        return None
    # The snapshot URL names the original as captured (scheme and all); prefer it.
    match = _REPLAY_RE.match(str(closest.get("url") or ""))
    original = match.group(2) if match else url
    return Capture(original, timestamp, status, None)


def _from_cdx(net: Net, url: str, *, media_only: bool) -> Capture | None:
    params = [
        ("url", url),
        ("output", "json"),
        ("filter", "statuscode:200"),
        ("limit", str(-CDX_ROWS)),  # negative: the newest rows
        ("fastLatest", "true"),
    ]
    if media_only:
        params.append(("filter", "!mimetype:text/html"))
    answer = _ask(net, f"{CDX_URL}?{urlencode(params)}")
    captures = [c for c in _cdx_rows(answer) if c.status == "200"]
    if media_only:
        captures = [c for c in captures if not _is_html(c.mimetype)]
    return max(captures, key=lambda c: c.timestamp, default=None)


def find_captures(
    net: Net,
    url: str,
    *,
    prefix: bool = False,
    mimetype: str | None = None,
    rows: int = 50,
) -> list[Capture]:
    """Status-200 captures of `url` (with `prefix`, of every URL starting with it), newest first.

    `mimetype` is a CDX filter regex on the captured type ("application/json", "image/.*").
    A prefix lookup asks for the first rows in index order: the index sorts by URL key, so a
    negative limit would give the last keys (other URLs sharing the prefix), not the newest
    captures. Raises WaybackUnavailable when the service cannot answer.
    """
    url = redact(url)
    params = [("url", url), ("output", "json"), ("filter", "statuscode:200")]
    if prefix:
        params.append(("matchType", "prefix"))
    if mimetype:
        params.append(("filter", f"mimetype:{mimetype}"))
    params.append(("limit", str(rows)))
    answer = _ask(net, f"{CDX_URL}?{urlencode(params)}")
    captures = [c for c in _cdx_rows(answer) if c.status == "200"]
    return sorted(captures, key=lambda c: c.timestamp, reverse=True)


def fetch_small(net: Net, capture: Capture, *, max_bytes: int) -> Fetched:
    """A capture's raw bytes read into memory (an API answer, a page), at most `max_bytes`.

    Follows the archive's redirects, never leaving web.archive.org. Raises FetchFailed for an
    error status, WaybackUnavailable when the service cannot answer now, NetworkError (its
    AnswerTooLarge) for an answer over `max_bytes`.
    """
    url = capture.raw_url
    for _ in range(MAX_REPLAY_HOPS + 1):
        try:
            got = net.fetch(url, max_bytes=max_bytes)
        except (AnswerTooLarge, Refused, BadURL):
            raise  # final: asking again gives the same
        except NetworkError as e:
            raise WaybackUnavailable(f"Wayback Machine unreachable: {e}") from e
        if got.status in (301, 302, 303, 307, 308):
            url = _next_replay_url(url, got.headers.get("location"))
            continue
        _check_replay(url, got.status, got.headers, pages=True)
        return got
    raise FetchFailed(f"{capture.raw_url}: more than {MAX_REPLAY_HOPS} redirects in the archive")


def _cdx_rows(answer: object) -> list[Capture]:
    """Captures from CDX's JSON: a header row naming the fields, then one row per capture."""
    if not isinstance(answer, list) or not answer or not isinstance(answer[0], list):
        return []
    header = [str(name) for name in answer[0]]
    captures = []
    for row in answer[1:]:
        if not isinstance(row, list) or len(row) != len(header):
            continue
        fields = dict(zip(header, (str(v) for v in row), strict=True))
        timestamp, original = fields.get("timestamp", ""), fields.get("original", "")
        if not _TIMESTAMP_RE.match(timestamp) or not original:
            continue
        captures.append(
            Capture(original, timestamp, fields.get("statuscode"), fields.get("mimetype"))
        )
    return captures


def _is_html(mimetype: str | None) -> bool:
    return media_type(mimetype) in ("text/html", "application/xhtml+xml")


def _ask(net: Net, api_url: str) -> object:
    """GET a lookup API and decode its JSON; None for an answer that means "nothing here"."""
    try:
        got = net.fetch(api_url, headers={"Accept": "application/json"})
    except NetworkError as e:
        raise WaybackUnavailable(f"Wayback Machine unreachable: {e}") from e
    if got.status == 429 or got.status >= 500:
        retry_after = got.headers.get("retry-after")
        hint = f" (Retry-After: {retry_after})" if retry_after else ""
        raise WaybackUnavailable(
            f"{redact(api_url)}: HTTP {got.status}{hint}",
            status=got.status,
            retry_after=retry_after,
        )
    if got.status >= 400:
        # 403 is how CDX answers for URLs excluded from the archive: no capture to be had.
        log.info("%s: HTTP %s, taken as no capture", redact(api_url), got.status)
        return None
    if not got.content.strip():
        return None
    try:
        return got.json()
    except ValueError as e:
        # Under load the service sometimes answers 200 with an HTML error page.
        raise WaybackUnavailable(
            f"{redact(api_url)}: not JSON ({got.content_type or 'no type'})", status=got.status
        ) from e


def fetch_capture(
    net: Net,
    store: Store,
    capture: Capture,
    *,
    max_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    pages: bool = False,
    **meta: object,
) -> MediaFile:
    """Store a capture's raw bytes; source_url is the exact capture URL served.

    Follows the archive's redirects (to the nearest timestamp, or a captured redirect's target),
    never leaving web.archive.org. Raises FetchFailed for an error status or, unless `pages`, a
    non-media answer; WaybackUnavailable when the service cannot answer now.
    """
    started = now()
    url = capture.raw_url
    for _ in range(MAX_REPLAY_HOPS + 1):
        try:
            with net.open(url) as response:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    url = _next_replay_url(url, response.headers.get("location"))
                    continue
                _check_replay(url, status, response.headers, pages=pages)
                return save_response(
                    store,
                    response,
                    max_size=max_size,
                    max_pixels=max_pixels,
                    fetched_at=started,
                    method=Method.WAYBACK,
                    **meta,
                )
        except NetworkError as e:
            raise WaybackUnavailable(f"Wayback Machine unreachable: {e}") from e
    raise FetchFailed(f"{capture.raw_url}: more than {MAX_REPLAY_HOPS} redirects in the archive")


def _next_replay_url(url: str, location: str | None) -> str:
    target = urljoin(url, location or "")
    if not _REPLAY_RE.match(target):
        raise FetchFailed(f"{url}: redirected out of the archive, to {redact(target) or 'nowhere'}")
    return target


def _check_replay(url: str, status: int, headers: Mapping[str, str], *, pages: bool) -> None:
    retry_after = headers.get("retry-after")
    if status == 429 or status >= 500:
        raise WaybackUnavailable(f"{url}: HTTP {status}", status=status, retry_after=retry_after)
    if not 200 <= status < 300:
        raise FetchFailed(f"{url}: HTTP {status}", status=status, retry_after=retry_after)
    mime = media_type(headers.get("content-type"))
    if not pages and mime and not may_be_media(mime):
        raise FetchFailed(f"{url}: expected media, got {mime}", status=status)


# --- Save Page Now 2 ----------------------------------------------------------------------


class SaveStatus(enum.StrEnum):
    """How a Save Page Now request ended, as far as this run knows."""

    SUCCESS = "success"
    ERROR = "error"
    PENDING = "pending"  # still running when polling stopped; job_id names the job
    RATE_LIMITED = "rate_limited"  # message carries Retry-After when the service sent one


@dataclass(frozen=True)
class SaveResult:
    """The answer to a Save Page Now request; never carries the keys."""

    url: str
    job_id: str | None
    status: SaveStatus
    message: str | None = None
    timestamp: str | None = None  # of the new capture, on success

    @property
    def capture_url(self) -> str | None:
        if self.timestamp is None:
            return None
        return f"{REPLAY_PREFIX}{self.timestamp}/{self.url}"


def save_page(
    net: Net,
    url: str,
    *,
    access: str,
    secret: str,
    poll: int = 10,
    interval: float = 5.0,
    wait: Callable[[float], None] = time.sleep,
) -> SaveResult:
    """Ask Save Page Now 2 to capture `url` and wait for the job, polling at most `poll` times.

    Never raises for the service's errors: archiving a link must not fail because the archive
    could not take a copy. The keys appear in no returned or logged text.
    """
    # The capture will be public: credentials in the URL must not go into it.
    url = redact(url)
    if not access or not secret:
        return SaveResult(url, None, SaveStatus.ERROR, "no Save Page Now keys configured")
    if not (_KEY_RE.match(access) and _KEY_RE.match(secret)) or ":" in access:
        # An HTTP library's complaint about a bad header would quote the header, keys and all.
        return SaveResult(url, None, SaveStatus.ERROR, "malformed Save Page Now keys")
    session = _SaveSession(net, access, secret)
    result = session.scrubbed(session.run(url, poll=poll, interval=interval, wait=wait))
    log.info("Save Page Now %s: %s (%s)", url, result.status, result.message or "no message")
    return result


class _SaveSession:
    """One SPN2 request and its polls; the only holder of the keys."""

    def __init__(self, net: Net, access: str, secret: str) -> None:
        self.net = net
        self._secrets = [f"{access}:{secret}", secret, access]
        self.headers = {"Authorization": f"LOW {access}:{secret}", "Accept": "application/json"}

    def __repr__(self) -> str:
        return "_SaveSession(keys hidden)"

    def scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        for value in self._secrets:
            if value:
                text = text.replace(value, "***")
        return text

    def scrubbed(self, result: SaveResult) -> SaveResult:
        return SaveResult(
            self.scrub(result.url) or "",
            self.scrub(result.job_id),
            result.status,
            self.scrub(result.message),
            self.scrub(result.timestamp),
        )

    def run(
        self, url: str, *, poll: int, interval: float, wait: Callable[[float], None]
    ) -> SaveResult:
        form = urlencode({"url": url}).encode()
        headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            got = self.net.fetch(SAVE_URL, method="POST", headers=headers, content=form)
        except NetworkError as e:
            return SaveResult(url, None, SaveStatus.ERROR, str(e))
        answer, problem = _save_answer(got)
        if problem is not None:
            return SaveResult(url, None, *problem)
        job_id = str(answer.get("job_id") or "") or None
        if job_id is None:
            state = _job_state(answer) or (SaveStatus.ERROR, "no job id in the answer")
            return SaveResult(url, None, *state)
        return self.follow(url, job_id, poll=poll, interval=interval, wait=wait)

    def follow(
        self, url: str, job_id: str, *, poll: int, interval: float, wait: Callable[[float], None]
    ) -> SaveResult:
        """Poll the job until it ends, polls run out, or the service says to slow down."""
        last = "submitted"
        status_url = SAVE_STATUS_URL + quote(job_id, safe="")
        for _ in range(max(poll, 0)):
            wait(interval)
            try:
                got = self.net.fetch(status_url, headers=self.headers)
            except NetworkError as e:
                last = str(e)  # the job runs on regardless; ask again
                continue
            answer, problem = _save_answer(got)
            if problem is not None and problem[0] is SaveStatus.RATE_LIMITED:
                return SaveResult(url, job_id, *problem)
            state = None if problem is not None else _job_state(answer)
            if state is None:
                last = (problem[1] or "no answer") if problem is not None else "pending"
                continue
            if state[0] is SaveStatus.SUCCESS:
                original = str(answer.get("original_url") or "") or url
                timestamp = str(answer.get("timestamp") or "") or None
                return SaveResult(original, job_id, state[0], state[1], timestamp)
            return SaveResult(url, job_id, *state)
        return SaveResult(url, job_id, SaveStatus.PENDING, f"not done after {poll} polls ({last})")


_State = tuple[SaveStatus, str | None]


def _save_answer(got: Fetched) -> tuple[dict[str, object], _State | None]:
    """The JSON object of an SPN2 answer, or what went wrong with it."""
    if got.status == 429:
        retry_after = got.headers.get("retry-after")
        hint = f"; Retry-After: {retry_after}" if retry_after else ""
        return {}, (SaveStatus.RATE_LIMITED, f"HTTP 429{hint}")
    try:
        answer = got.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        # Refusals (bad keys, daily limits) come as JSON with status "error", whatever the code.
        if got.status >= 400:
            return {}, _job_state(answer) or (SaveStatus.ERROR, f"HTTP {got.status}")
        return answer, None
    if got.status >= 400:
        return {}, (SaveStatus.ERROR, f"HTTP {got.status}")
    return {}, (SaveStatus.ERROR, f"unexpected answer ({got.content_type or 'no type'})")


def _job_state(answer: Mapping[str, object]) -> _State | None:
    """A finished job's status and message; None while it is pending."""
    status = str(answer.get("status") or "")
    if status == "success":
        message = answer.get("message")
        return SaveStatus.SUCCESS, str(message) if message else None
    if status == "error":
        parts = [str(answer[k]) for k in ("status_ext", "message") if answer.get(k)]
        return SaveStatus.ERROR, ": ".join(parts) or "error"
    return None
