"""Footage through yt-dlp, with every request it makes sent through embedarc's own `Net`.

yt-dlp is imported here and only here, when footage actually needs it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import platforms
from ..errors import AnswerTooLarge
from ..model import Failure, Method, Outcome
from ..network.net import Net, host_of, retry_hint
from .ytdlp_guard import Declined
from .ytdlp_transport import load_ytdlp, youtube_dl_class

log = logging.getLogger(__name__)

# Extractors that match nearly anything. Those of link shorteners are never asked: their hosts
# are left out before (`short_hosts`).
NOT_DEDICATED = {"Generic"}
SECRET_KEYS = {"cookies", "Cookie", "cookie", "Authorization", "authorization"}
PLAYLIST_ENTRIES = 50  # entries kept of a playlist, channel or profile link
# Progressive files first: they are the bytes the CDN serves, hashable by anyone.
FORMAT = "best[protocol^=http]/bestvideo*+bestaudio/best"
# File names from the site's own id and format: ASCII only (restrictfilenames) and cut to a
# bounded length, so neither "../" nor a 1,000-character id can leave or break the work folder.
OUTTMPL = "%(id).64B.%(format_id).32B.%(ext).8B"


@functools.cache
def _extractors() -> tuple[Any, ...]:
    load_ytdlp()
    from yt_dlp.extractor import gen_extractor_classes

    return tuple(ie for ie in gen_extractor_classes() if ie.ie_key() not in NOT_DEDICATED)


# What the extractors say when a site wants an account: the site's own words, not only the
# "Use --cookies ..." hint yt-dlp appends, which some extractors leave out (method=None).
_LOGIN_RE = re.compile(
    r"--cookies|login|\blog(?:ged)?[ -]in|\bsign(?:ed)?[ -]?in\b|authenticat|protected"
    r"|\bregistered users\b|\ban account that has\b",
    re.IGNORECASE,
)

# Link shorteners lead elsewhere and have no footage of their own: asking yt-dlp about them
# would load its ~1,800 extractors (about 1.5 s) for nothing. The sites' own are theirs to say.
SHORTENERS = frozenset({"ift.tt", "bit.ly", "buff.ly", "ow.ly", "dlvr.it"})


@functools.cache
def short_hosts() -> frozenset[str]:
    """Every link shortener's host: the general ones and those of the registered platforms."""
    return SHORTENERS | platforms.short_link_hosts()


@functools.lru_cache(maxsize=4096)
def has_dedicated_extractor(url: str) -> bool:
    """Whether yt-dlp knows this site specifically (its generic page scraper does not count)."""
    if not url.startswith(("http://", "https://")) or host_of(url) in short_hosts():
        return False
    return any(ie.suitable(url) for ie in _extractors())


def version() -> str:
    """yt-dlp's version, read from its package metadata, without importing it."""
    from importlib.metadata import version as installed

    return installed("yt-dlp")


@dataclass(frozen=True)
class Download:
    path: Path
    url: str  # the format's URL: where the bytes came from
    method: Method
    remuxed: bool
    entry_id: str


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    downloads: tuple[Download, ...] = ()
    info: dict[str, Any] | None = None
    retry_after: str | None = None
    failure: Failure | None = None  # what kind, when the outcome is `failed`


class _Logger:
    """yt-dlp's messages go to our log, at debug level: the CLI decides what a person sees."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.debug("yt-dlp warning: %s", msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp error: %s", msg)


def scrub(value: Any) -> Any:
    """Remove cookies and credentials from yt-dlp's info before it is written anywhere."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def classify(error: BaseException) -> tuple[Outcome, str, str | None, Failure | None]:
    """Map a yt-dlp failure to an outcome (gone, login required, no media, or retry later),
    its message, when to ask again, and for a failure for now what kind it is."""
    load_ytdlp()
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import DownloadError, ExtractorError

    too_large = _answer_too_large(error)
    if too_large is not None:  # final: the same answer is as large next time
        return Outcome.TOO_LARGE, str(too_large), None, None
    cause = error.exc_info[1] if isinstance(error, DownloadError) and error.exc_info else error
    message = re.sub(r"^ERROR: ", "", str(error)).strip()
    while isinstance(cause, ExtractorError) and isinstance(cause.cause, BaseException):
        if isinstance(cause.cause, HTTPError | TransportError):
            cause = cause.cause
            break
        cause = cause.cause
    if isinstance(cause, HTTPError):
        outcome = Outcome.for_http_status(cause.status)
        if outcome is not Outcome.FAILED:
            return outcome, message, None, None
        hint = retry_hint(cause.response.headers) if cause.response is not None else None
        return outcome, message, hint, Failure.for_status(cause.status)
    if isinstance(cause, TransportError):
        return Outcome.FAILED, message, None, Failure.NETWORK
    lowered = message.lower()
    if _LOGIN_RE.search(message):
        return Outcome.LOGIN_REQUIRED, message, None, None
    if "no video could be found" in lowered or "no video formats" in lowered:
        return Outcome.NO_MEDIA, message, None, None
    if isinstance(cause, ExtractorError) and cause.expected:
        return Outcome.GONE, message, None, None
    return Outcome.FAILED, message, None, Failure.BAD_ANSWER


def _answer_too_large(error: BaseException) -> AnswerTooLarge | None:
    """The AnswerTooLarge behind a yt-dlp error, if any: yt-dlp wraps what its request
    handler raises (TransportError.cause, ExtractorError.cause, DownloadError.exc_info)."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, AnswerTooLarge):
            return current
        seen.add(id(current))
        exc_info = getattr(current, "exc_info", None)
        inner = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
        pending += [getattr(current, "cause", None), inner, current.__cause__, current.__context__]
    return None


class Stopped(Exception):
    """Raised from yt-dlp's progress hook to end a download that broke a limit."""

    def __init__(self, outcome: Outcome, reason: str, failure: Failure | None = None) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.failure = failure


def limit_hook(max_size: int, max_seconds: float, cancelled: threading.Event | None = None) -> Any:
    """A yt-dlp progress hook enforcing the size and time limits on every download, HLS too.

    yt-dlp's own `max_filesize` is not used: it looks at Content-Length only, skips a file
    without an error, and applied to each HLS segment it would silently drop segments. The
    hook sees the declared size with the first bytes, and counts what arrives.
    """
    started = time.monotonic()

    def hook(status: dict[str, Any]) -> None:
        if status.get("status") != "downloading":
            return
        if cancelled is not None and cancelled.is_set():  # Ctrl-C
            raise Stopped(Outcome.FAILED, "interrupted", Failure.OTHER)
        size = max(status.get("downloaded_bytes") or 0, status.get("total_bytes") or 0)
        if size > max_size:
            raise Stopped(
                Outcome.TOO_LARGE, f"larger than the maximum of {max_size} bytes (--max-file-size)"
            )
        if time.monotonic() - started > max_seconds:
            raise Stopped(
                Outcome.FAILED,
                f"gave up after {max_seconds:g} s (too slow; see --max-download-time)",
                Failure.NETWORK,
            )

    return hook


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is within `folder` once links and `..` are resolved."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def fetch(
    net: Net,
    url: str,
    *,
    workdir: Path,
    cookies: Path | None = None,
    max_size: int,
    max_seconds: float = 3600.0,
) -> Result:
    """Extract and download everything yt-dlp finds at `url` into `workdir`."""
    import imageio_ffmpeg
    from yt_dlp.utils import DownloadError, YoutubeDLError

    params: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _Logger(),
        "format": FORMAT,
        "outtmpl": str(workdir / OUTTMPL),
        "restrictfilenames": True,
        "trim_file_name": 120,
        "progress_hooks": [limit_hook(max_size, max_seconds, net.cancelled)],
        "fixup": "never",  # keep the bytes as downloaded; remuxing is not archiving
        "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
        "socket_timeout": net.settings.timeout,
        "noplaylist": False,
        # A channel or profile link is a playlist of everything it ever posted: its newest
        # entries are kept, not the whole feed.
        "playlistend": PLAYLIST_ENTRIES,
        "overwrites": True,
        # yt-dlp's own downloaders fetch through Net; other programs would not (ytdlp_guard).
        "external_downloader": {"default": "native"},
    }
    if cookies is not None:
        params["cookiefile"] = str(cookies)
    refusals: list[str] = []
    try:
        with youtube_dl_class()(params, net=net, refusals=refusals) as ydl:
            info = ydl.extract_info(url, download=True)
            clean = scrub(ydl.sanitize_info(info))
    except (Stopped, Declined) as e:
        failure = getattr(e, "failure", None)
        if e.outcome is Outcome.FAILED:
            failure = failure or Failure.OTHER
        return Result(e.outcome, e.reason, failure=failure)
    except (DownloadError, YoutubeDLError) as e:
        if refusals:  # the guard stopped one of its requests; yt-dlp only saw a network error
            return Result(Outcome.REFUSED, refusals[0])
        outcome, reason, retry_after, failure = classify(e)
        return Result(outcome, reason, retry_after=retry_after, failure=failure)
    entries = clean.get("entries") or [clean]
    downloads: list[Download] = []
    for entry in entries:
        for done in entry.get("requested_downloads") or []:
            path = Path(done.get("filepath") or done.get("_filename") or "")
            if not path.is_file() or not inside(path, workdir):
                continue
            protocol = str(done.get("protocol") or "")
            merged = bool(done.get("requested_formats"))
            downloads.append(
                Download(
                    path=path,
                    url=str(done.get("url") or entry.get("webpage_url") or url),
                    method=Method.MERGED
                    if merged
                    else (Method.HLS if "m3u8" in protocol else Method.YTDLP),
                    remuxed=merged,
                    entry_id=str(entry.get("id") or ""),
                )
            )
    if not downloads and refusals:
        return Result(Outcome.REFUSED, refusals[0], info=clean)
    if not downloads:
        return Result(Outcome.NO_MEDIA, "yt-dlp found no downloadable media", info=clean)
    return Result(Outcome.ARCHIVED, downloads=tuple(downloads), info=clean)
