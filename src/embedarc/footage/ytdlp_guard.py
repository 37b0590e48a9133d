"""What yt-dlp may download, and how: only through embedarc's own network layer.

yt-dlp hands some streams to other programs (ffmpeg for live or SAMPLE-AES HLS and `rtmp_ffmpeg`,
rtmpdump for RTMP, curl or aria2c when asked), and those make their own connections: no
private-address guard, no proxy, no size or time limit, and a live stream never ends. Here:

- formats that only another program could fetch are dropped before yt-dlp chooses one;
- live streams end as `no_media` ("live stream"), and an HLS playlist is read through `Net`
  before its download, so a live (no `#EXT-X-ENDLIST`) or SAMPLE-AES/DRM stream is declined
  instead of being delegated to ffmpeg;
- as the last word, yt-dlp's external downloaders and rtmpdump refuse to run at all in this
  process, whichever path leads to them (HlsFD, DashSegmentsFD and the live downloaders call
  them directly, past any choice of downloader);
- every program yt-dlp does start (ffmpeg and ffprobe on local files, to merge) dies with
  embedarc, even when embedarc is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..model import Outcome
from ..network.net import ANSWER_LIMIT

LIVE = "live stream"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Native downloaders (HttpFD, HlsFD, DashSegmentsFD, ...) fetch every byte with ydl.urlopen,
# which embedarc's request handler serves; these are the protocols HttpFD may be given.
HTTP_PROTOCOLS = {"http", "https"}


class Declined(Exception):
    """yt-dlp would need another program to fetch this, or it never ends (a live stream)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@functools.cache
def _native() -> tuple[type[Any], ...]:
    """yt-dlp's downloaders that fetch only through its request handlers, so through `Net`.

    An allow-list: a downloader yt-dlp adds later is declined until someone reads it.
    """
    from yt_dlp.downloader.bunnycdn import BunnyCdnFD
    from yt_dlp.downloader.dash import DashSegmentsFD
    from yt_dlp.downloader.f4m import F4mFD
    from yt_dlp.downloader.hls import HlsFD
    from yt_dlp.downloader.http import HttpFD
    from yt_dlp.downloader.ism import IsmFD
    from yt_dlp.downloader.mhtml import MhtmlFD
    from yt_dlp.downloader.soop import SoopVodFD

    return (HttpFD, HlsFD, DashSegmentsFD, IsmFD, F4mFD, MhtmlFD, BunnyCdnFD, SoopVodFD)


def _downloader(fmt: dict[str, Any], params: dict[str, Any], to_stdout: bool = False) -> Any:
    from yt_dlp.downloader import get_suitable_downloader

    return get_suitable_downloader(dict(fmt), params, to_stdout=to_stdout)


def fetchable(fmt: dict[str, Any], params: dict[str, Any], to_stdout: bool = False) -> bool:
    """Whether yt-dlp would download this format natively, through embedarc's handler."""
    from yt_dlp.downloader.http import HttpFD
    from yt_dlp.utils import determine_protocol

    if not fmt.get("url"):
        return True  # malformed: yt-dlp drops it itself
    fd = _downloader(fmt, params, to_stdout)
    if fd is None or fd not in _native():
        return False
    return fd is not HttpFD or determine_protocol(dict(fmt)) in HTTP_PROTOCOLS


def is_live(info: dict[str, Any]) -> bool:
    return info.get("is_live") is True or info.get("live_status") == "is_live"


def keep_fetchable_formats(info: dict[str, Any], params: dict[str, Any]) -> None:
    """Decline a live stream; drop the formats only another program could fetch."""
    from yt_dlp.utils import determine_protocol

    if is_live(info):
        raise Declined(Outcome.NO_MEDIA, LIVE)
    formats = info.get("formats")
    offered = formats if formats is not None else ([info] if info.get("url") else [])
    kept = [f for f in offered if fetchable(f, params)]
    if offered and not kept:
        protocols = sorted({determine_protocol(dict(f)) for f in offered if f.get("url")})
        raise Declined(
            Outcome.NO_MEDIA,
            f"only offered as {', '.join(protocols)}, which would be fetched by another "
            "program outside embedarc's network layer",
        )
    if formats is not None:
        info["formats"] = kept


def hls_refusal(playlist: str) -> str | None:
    """Why a media playlist cannot be downloaded natively, or None if it can."""
    from yt_dlp.downloader.hls import HlsFD

    if "#EXT-X-STREAM-INF" in playlist or "#EXTINF" not in playlist:
        return None  # a master playlist, or not a playlist: HlsFD reports that itself
    if "#EXT-X-ENDLIST" not in playlist:
        return LIVE
    if HlsFD._has_drm(playlist):
        return "DRM-protected stream"
    if not HlsFD.can_download(playlist, {}):
        found = re.search(r"#EXT-X-KEY:METHOD=([^,\s]+)", playlist)
        method = found.group(1) if found else "unknown"
        return (
            f"encrypted stream (METHOD={method}) that only ffmpeg could fetch, "
            "outside embedarc's network layer"
        )
    return None


def check_download(ydl: Any, info: dict[str, Any], to_stdout: bool) -> dict[str, Any]:
    """The last check before yt-dlp downloads `info`; returns the info to download with.

    An HLS playlist is read here, through `Net`, and handed to yt-dlp with the info, so the
    playlist that was checked is the one that is downloaded.
    """
    from yt_dlp.networking import Request
    from yt_dlp.utils import determine_protocol

    if is_live(info):
        raise Declined(Outcome.NO_MEDIA, LIVE)
    protocol = determine_protocol(dict(info))
    if not fetchable(info, ydl.params, to_stdout):
        name = getattr(_downloader(info, ydl.params, to_stdout), "__name__", "another program")
        raise Declined(
            Outcome.NO_MEDIA,
            f"{protocol} would be fetched by {name} outside embedarc's network layer",
        )
    if not protocol.startswith("m3u8"):
        return info
    playlist = info.get("hls_media_playlist_data")
    if playlist is None:
        headers = info.get("http_headers") or {}
        with ydl.urlopen(Request(info["url"], headers=headers)) as response:
            data = response.read(ANSWER_LIMIT + 1)  # a 10-hour playlist is about 2 MB
            same_url = response.url == info["url"]
        if len(data) > ANSWER_LIMIT:
            raise Declined(Outcome.TOO_LARGE, f"HLS playlist larger than {ANSWER_LIMIT} bytes")
        text = data.decode("utf-8", "ignore")
    else:
        text, same_url = str(playlist), False
    reason = hls_refusal(text)
    if reason is not None:
        raise Declined(Outcome.NO_MEDIA, reason)
    # Segment URIs are resolved against info["url"]: hand the text over only when no redirect
    # moved the playlist; otherwise yt-dlp reads it again (and its own check still applies).
    return {**info, "hls_media_playlist_data": text} if same_url else info


# -- the last word: no external downloader, no orphaned child ---------------------------------

_installed = False
_install_lock = threading.Lock()


def _refuse_external(self: Any, filename: str, info_dict: dict[str, Any]) -> bool:
    protocol = str(info_dict.get("protocol") or "a stream")
    raise Declined(
        Outcome.NO_MEDIA,
        f"{protocol} would be fetched by {type(self).__name__} outside embedarc's network layer",
    )


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function that has the kernel kill the child when embedarc ends (Linux only).

    PR_SET_PDEATHSIG fires when the thread that started the child ends; yt-dlp waits for its
    children in that same thread, so that thread lives exactly as long as embedarc does.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # embedarc died before the line above took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def install() -> None:
    """Change yt-dlp in this process, once: external downloaders refuse, children die with us.

    These are changes to yt-dlp's own classes, because its downloaders start each other
    directly (HlsFD runs FFmpegFD itself) and every program it runs goes through its Popen.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        from yt_dlp.downloader.external import ExternalFD
        from yt_dlp.downloader.rtmp import RtmpFD
        from yt_dlp.utils import Popen

        ExternalFD.real_download = _refuse_external
        RtmpFD.real_download = _refuse_external
        original_init = Popen.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("preexec_fn") is None:
                kwargs["preexec_fn"] = _die_with_parent()
            original_init(self, *args, **kwargs)

        Popen.__init__ = init
        _installed = True
