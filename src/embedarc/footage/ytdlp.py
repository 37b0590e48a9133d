"""Footage through yt-dlp, with every request it makes sent through embedarc's own `Net`.

yt-dlp is imported here and only here, when footage actually needs it.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import Outcome
from ..net import Net
from .ytdlp_transport import youtube_dl_class

log = logging.getLogger(__name__)

# Extractors that match nearly anything, or that resolve links we resolve ourselves.
NOT_DEDICATED = {"Generic", "TwitterShortener"}
SECRET_KEYS = {"cookies", "Cookie", "cookie", "Authorization", "authorization"}
# Progressive files first: they are the bytes the CDN serves, hashable by anyone.
FORMAT = "best[protocol^=http]/bestvideo*+bestaudio/best"


@functools.cache
def _extractors() -> tuple[Any, ...]:
    from yt_dlp.extractor import gen_extractor_classes

    return tuple(ie for ie in gen_extractor_classes() if ie.ie_key() not in NOT_DEDICATED)


@functools.lru_cache(maxsize=4096)
def has_dedicated_extractor(url: str) -> bool:
    """Whether yt-dlp knows this site specifically (its generic page scraper does not count)."""
    if not url.startswith(("http://", "https://")):
        return False
    return any(ie.suitable(url) for ie in _extractors())


def version() -> str:
    from yt_dlp.version import __version__

    return str(__version__)


@dataclass(frozen=True)
class Download:
    path: Path
    url: str  # the format's URL: where the bytes came from
    method: str  # "ytdlp" (a file as served), "hls" (segments joined), "merged"
    remuxed: bool
    entry_id: str


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    downloads: tuple[Download, ...] = ()
    info: dict[str, Any] | None = None
    retry_after: str | None = None


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


def classify(error: BaseException) -> tuple[Outcome, str, str | None]:
    """Map a yt-dlp failure to an outcome: gone, login required, no media, or retry later."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import DownloadError, ExtractorError

    cause = error.exc_info[1] if isinstance(error, DownloadError) and error.exc_info else error
    message = re.sub(r"^ERROR: ", "", str(error)).strip()
    while isinstance(cause, ExtractorError) and isinstance(cause.cause, BaseException):
        if isinstance(cause.cause, HTTPError | TransportError):
            cause = cause.cause
            break
        cause = cause.cause
    if isinstance(cause, HTTPError):
        status = cause.status
        retry_after = cause.response.get_header("retry-after") if cause.response else None
        if status in (404, 410):
            return Outcome.GONE, message, None
        if status in (401, 403) and ("login" in message.lower() or "cookies" in message.lower()):
            return Outcome.LOGIN_REQUIRED, message, None
        if status == 429 or status >= 500:
            reset = cause.response.get_header("x-rate-limit-reset") if cause.response else None
            return Outcome.FAILED, message, retry_after or reset
        return Outcome.GONE, message, None
    if isinstance(cause, TransportError):
        return Outcome.FAILED, message, None
    lowered = message.lower()
    if (
        "--cookies" in lowered
        or "login" in lowered
        or "authenticat" in lowered
        or "protected" in lowered
    ):
        return Outcome.LOGIN_REQUIRED, message, None
    if "no video could be found" in lowered or "no video formats" in lowered:
        return Outcome.NO_MEDIA, message, None
    if "file is larger than max-filesize" in lowered:
        return Outcome.TOO_LARGE, message, None
    if isinstance(cause, ExtractorError) and cause.expected:
        return Outcome.GONE, message, None
    return Outcome.FAILED, message, None


def fetch(
    net: Net,
    url: str,
    *,
    workdir: Path,
    cookies: Path | None = None,
    max_size: int,
    api: str | None = None,
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
        "outtmpl": str(workdir / "%(id)s.%(format_id)s.%(ext)s"),
        "fixup": "never",  # keep the bytes as downloaded; remuxing is not archiving
        "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
        "max_filesize": max_size,
        "socket_timeout": net.settings.timeout,
        "noplaylist": False,
        "overwrites": True,
    }
    if cookies is not None:
        params["cookiefile"] = str(cookies)
    if api is not None:
        params["extractor_args"] = {"twitter": {"api": [api]}}
    try:
        with youtube_dl_class()(params, net=net) as ydl:
            info = ydl.extract_info(url, download=True)
            clean = scrub(ydl.sanitize_info(info))
    except (DownloadError, YoutubeDLError) as e:
        outcome, reason, retry_after = classify(e)
        return Result(outcome, reason, retry_after=retry_after)
    entries = clean.get("entries") or [clean]
    downloads: list[Download] = []
    for entry in entries:
        for done in entry.get("requested_downloads") or []:
            path = Path(done.get("filepath") or done.get("_filename") or "")
            if not path.is_file():
                continue
            protocol = str(done.get("protocol") or "")
            merged = bool(done.get("requested_formats"))
            downloads.append(
                Download(
                    path=path,
                    url=str(done.get("url") or entry.get("webpage_url") or url),
                    method="merged" if merged else ("hls" if "m3u8" in protocol else "ytdlp"),
                    remuxed=merged,
                    entry_id=str(entry.get("id") or ""),
                )
            )
    if not downloads:
        return Result(Outcome.NO_MEDIA, "yt-dlp found no downloadable media", info=clean)
    return Result(Outcome.ARCHIVED, downloads=tuple(downloads), info=clean)
