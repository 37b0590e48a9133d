"""`doctor`: is this machine ready? Proxy, CA, archive folder, ffmpeg, yt-dlp, the services."""

from __future__ import annotations

import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from .config import Settings
from .index import INDEX_NAME, Index
from .net import Net, NetworkError, redact

SERVICES = [
    ("t.co", "https://t.co/"),
    ("ift.tt", "https://ift.tt/"),
    ("syndication API", "https://cdn.syndication.twimg.com/"),
    ("fxtwitter", "https://api.fxtwitter.com/"),
    ("x.com (yt-dlp)", "https://api.x.com/"),
    ("photo CDN", "https://pbs.twimg.com/"),
    ("video CDN", "https://video.twimg.com/"),
    ("Wayback Machine", "https://archive.org/wayback/available"),
]
STALE_YTDLP_DAYS = 90  # sites change; an older yt-dlp often cannot extract them any more


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _proxy(settings: Settings) -> Finding:
    if settings.proxy:
        return Finding("proxy", True, f"{redact(settings.proxy)} (--proxy / configuration)")
    names = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    found = [
        f"{k}={redact(os.environ[k])}"
        for k in (*names, "NO_PROXY", "no_proxy")
        if os.environ.get(k)
    ]
    return Finding("proxy", True, ", ".join(found) or "none (direct connections)")


def _ca(settings: Settings) -> Finding:
    path = settings.ca_bundle or (os.environ.get("SSL_CERT_FILE") or None)
    if path is None:
        import certifi

        return Finding("CA certificates", True, f"certifi's bundle ({certifi.where()})")
    readable = os.access(path, os.R_OK) and os.path.isfile(path)
    return Finding("CA certificates", readable, f"{path}{'' if readable else ': cannot be read'}")


def _archive(settings: Settings) -> Finding:
    root = settings.archive_dir
    if not root.exists():
        # Not made here: a mistyped --archive-dir must not become an archive.
        parent = next((p for p in root.absolute().parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return Finding("archive folder", False, f"{root} does not exist and cannot be made")
        return Finding(
            "archive folder", True, f"{root} does not exist yet; `embedarc archive` will make it"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
        index = Index(root / INDEX_NAME)
        index.close()
    except Exception as e:  # any failure here is the finding itself
        return Finding("archive folder", False, f"{root}: {e}")
    return Finding("archive folder", True, f"{root.resolve()} is writable, index opens")


def _ffmpeg() -> Finding:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        out = subprocess.run(
            [exe, "-version"], capture_output=True, text=True, timeout=20, check=True
        )
    except Exception as e:  # missing binary, not executable, crashed: all the same to a user
        return Finding("ffmpeg", False, f"not usable: {e}")
    return Finding("ffmpeg", True, out.stdout.splitlines()[0] if out.stdout else exe)


def _ytdlp() -> Finding:
    from .footage.ytdlp import version

    found = version()
    try:
        year, month, day = (int(part) for part in found.split(".")[:3])
        age = (date.today() - date(year, month, day)).days
    except ValueError:
        return Finding("yt-dlp", True, found)
    if age > STALE_YTDLP_DAYS:
        return Finding(
            "yt-dlp",
            False,
            f"{found} is {age} days old: update it (uv lock --upgrade-package yt-dlp)",
        )
    return Finding("yt-dlp", True, f"{found} ({age} days old)")


def _service(net: Net, name: str, url: str) -> Finding:
    try:
        with net.open(url, method="HEAD") as response:
            return Finding(name, True, f"{url} answered HTTP {response.status_code}")
    except NetworkError as e:
        return Finding(name, False, str(e))


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in a stable order; a finding that is not ok says what to do when it can."""
    findings = [_proxy(settings), _ca(settings), _archive(settings), _ffmpeg(), _ytdlp()]
    services = [(n, u) for n, u in SERVICES if settings.fxtwitter or n != "fxtwitter"]
    with Net(settings) as net, ThreadPoolExecutor(len(services)) as pool:
        findings += list(pool.map(lambda s: _service(net, *s), services))
    return findings
