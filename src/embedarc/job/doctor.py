"""`doctor`: is this machine ready? Proxy, CA, archive folder, ffmpeg, yt-dlp, the services."""

from __future__ import annotations

import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from .. import platforms
from ..config import Settings
from ..keeping.index import INDEX_NAME, Index
from ..model import Outcome, PostRef
from ..network.net import Net, NetworkError, redact
from ..platforms import Probe, ServiceCheck

# Hosts whose root has no defined answer (a CDN's root is often a 404): any HTTP answer shows
# the way there is open, except the answers of something in between that blocks it. Each
# platform's own are in its probe.
REACHABLE = [("ift.tt", "https://ift.tt/")]
BLOCKED = {403: "forbidden", 407: "the proxy wants credentials", 451: "blocked for legal reasons"}
# A page the Wayback Machine's availability API must answer about with JSON (as each
# platform's services must show the post its probe names); a 404 means someone else answers.
PROBE_PAGE = "https://example.com/"
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
        with Index(root / INDEX_NAME):
            pass
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
    from ..footage.ytdlp import version

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


def _reachable(net: Net, name: str, url: str) -> Finding:
    try:
        with net.open(url, method="HEAD") as response:
            status = response.status_code
    except NetworkError as e:
        return Finding(name, False, str(e))
    if status >= 500 or status in BLOCKED:
        why = BLOCKED.get(status, "a server error")
        return Finding(name, False, f"{url} answered HTTP {status} ({why})")
    return Finding(name, True, f"{url} reachable (HTTP {status})")


def _service(net: Net, check: ServiceCheck, post: PostRef) -> Finding:
    answer = check.ask(net, post)
    if answer.post is not None:
        return Finding(check.name, True, f"answered for {post.url}")
    hint = " (is something else answering in its place?)" if answer.outcome is Outcome.GONE else ""
    return Finding(
        check.name, False, f"no answer for {post.url}, which exists: {answer.reason}{hint}"
    )


def _wayback(net: Net) -> Finding:
    from urllib.parse import urlencode

    from ..footage.wayback import AVAILABILITY_URL

    url = f"{AVAILABILITY_URL}?{urlencode({'url': PROBE_PAGE})}"
    try:
        got = net.fetch(url, headers={"Accept": "application/json"})
        answer = got.json() if got.status == 200 else None
    except (NetworkError, ValueError) as e:
        return Finding("Wayback Machine", False, f"{AVAILABILITY_URL}: {e}")
    if not isinstance(answer, dict) or "archived_snapshots" not in answer:
        return Finding(
            "Wayback Machine", False, f"{AVAILABILITY_URL} answered HTTP {got.status}, not its JSON"
        )
    return Finding("Wayback Machine", True, f"{AVAILABILITY_URL} answered")


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in a stable order; a finding that is not ok says what to do when it can."""
    findings = [_proxy(settings), _ca(settings), _archive(settings), _ffmpeg(), _ytdlp()]
    # Every answer asked for here is small: a service trickling one a byte at a time must not
    # hold `doctor` for --max-download-time (an hour by default), only for --timeout in all.
    quick = settings.with_updates(
        max_download_time=min(settings.max_download_time, settings.timeout)
    )
    with Net(quick) as net, ThreadPoolExecutor(8) as pool:
        probes = [pool.submit(_reachable, net, name, url) for name, url in REACHABLE]
        for probe in platforms.probes():
            probes += [pool.submit(_reachable, net, name, url) for name, url in probe.hosts]
            probes += [
                pool.submit(_service, net, check, probe.post) for check in _asked(probe, settings)
            ]
        if settings.wayback:
            probes.append(pool.submit(_wayback, net))
        findings += [probe.result() for probe in probes]
    return findings


def _asked(probe: Probe, settings: Settings) -> list[ServiceCheck]:
    """The services of a probe a run would ask: third parties only where they may be."""
    return [c for c in probe.services if settings.third_parties or not c.third_party]
