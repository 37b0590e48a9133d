"""yt-dlp fetches only through embedarc's network layer: never through ffmpeg or rtmpdump.

Streams that yt-dlp would hand to another program (live HLS, SAMPLE-AES, RTMP) end with a
recorded outcome, their keys and segments are never requested, and no program is started with
a network address. Programs yt-dlp does start (to merge local files) die with embedarc.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedarc.config import Settings
from tests.conftest import LoopbackServer
from tests.helpers import link_entry, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb.hls import hls_stream

# Every program started in this process, as (executable, args): subprocess.Popen reports each.
STARTED: list[tuple[str, list[str]]] = []
URL = re.compile(r"^(?!file:)[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _record_programs(event: str, args: tuple[Any, ...]) -> None:
    if event == "subprocess.Popen":
        STARTED.append((str(args[0]), [str(a) for a in args[1] or []]))


sys.addaudithook(_record_programs)


@pytest.fixture(autouse=True)
def ffmpeg_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ffmpeg installed as on most machines: yt-dlp looks for it on PATH to decide what to
    hand it (AES-128 HLS without pycryptodomex, for one)."""
    import imageio_ffmpeg

    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture
def started() -> Iterator[list[tuple[str, list[str]]]]:
    """The programs started during the test."""
    STARTED.clear()
    yield STARTED


def with_network_input(started: list[tuple[str, list[str]]]) -> list[list[str]]:
    """The command lines that name a network address (ffmpeg -i https://..., rtmpdump -r ...)."""
    return [args for _, args in started if any(URL.match(a) for a in args)]


def direct_to(monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    """Let anything that ignored embedarc's guard reach `hosts` directly, to be counted."""
    monkeypatch.setenv("NO_PROXY", ",".join(hosts))
    monkeypatch.setenv("no_proxy", ",".join(hosts))


@pytest.fixture
def tcp_listener() -> Iterator[LoopbackServer]:
    """A bare TCP port on loopback that counts connections (RTMP is not HTTP)."""
    hits: list[dict[str, str]] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            hits.append({"peer": str(peer)})
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield LoopbackServer(server.getsockname()[1], hits)
    stop.set()
    thread.join()
    server.close()


def archive_link(settings: Settings, url: str) -> dict[str, Any]:
    [report] = run(settings, text_input(f"Stream\n{url}\n"))
    return link_entry(sidecar_of(settings.archive_dir, report), url)


# -- encrypted streams -----------------------------------------------------------------------


def test_sample_aes_stream_is_declined_and_its_key_and_segments_never_fetched(
    simweb: SimWeb,
    settings: Settings,
    loopback_server: LoopbackServer,
    started: list[tuple[str, list[str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    direct_to(monkeypatch, "127.0.0.1")
    local = f"http://127.0.0.1:{loopback_server.port}/"
    stream = hls_stream(
        simweb,
        "https://streams.example.org/sample/index.m3u8",
        seed=61,
        method="SAMPLE-AES",
        key_uri=f"{local}key",
        segment_base=local,
    )

    entry = archive_link(settings, stream.playlist_url)

    assert entry["outcome"] == "no_media"
    assert "SAMPLE-AES" in entry["reason"]
    assert loopback_server.hits == []  # neither the key nor a segment
    assert not any(r.host == "127.0.0.1" for r in simweb.requests)
    assert with_network_input(started) == []


def test_aes128_key_on_a_private_address_is_refused_without_a_request(
    simweb: SimWeb,
    settings: Settings,
    loopback_server: LoopbackServer,
    started: list[tuple[str, list[str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    direct_to(monkeypatch, "127.0.0.1")
    stream = hls_stream(
        simweb,
        "https://streams.example.org/aes/index.m3u8",
        seed=62,
        method="AES-128",
        key_uri=f"http://127.0.0.1:{loopback_server.port}/key",
    )

    entry = archive_link(settings, stream.playlist_url)

    assert entry["outcome"] == "refused"
    assert "loopback" in entry["reason"]
    assert loopback_server.hits == []
    assert with_network_input(started) == []


def test_aes128_stream_is_decrypted_by_ytdlp_itself_through_the_guarded_handler(
    simweb: SimWeb, settings: Settings, started: list[tuple[str, list[str]]]
) -> None:
    key_uri = "https://keys.example.org/k/62"
    stream = hls_stream(
        simweb,
        "https://streams.example.org/aes-ok/index.m3u8",
        seed=63,
        method="AES-128",
        key_uri=key_uri,
    )

    [report] = run(settings, text_input(f"Stream\n{stream.playlist_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, stream.playlist_url)["outcome"] == "archived"
    [media] = data["media"]
    stored = (settings.archive_dir / media["path"]).read_bytes()
    assert stored == b"".join(stream.plain_segments)  # decrypted, joined, not remuxed
    assert media["sha256"] == hashlib.sha256(stored).hexdigest()
    # the key came through embedarc's network layer (the proxy saw it), and only once
    assert [r.path for r in simweb.requests_to("keys.example.org")] == ["/k/62"]
    assert with_network_input(started) == []


# -- live streams ----------------------------------------------------------------------------


def test_live_playlist_without_endlist_is_no_media_live_stream(
    simweb: SimWeb, settings: Settings, started: list[tuple[str, list[str]]]
) -> None:
    stream = hls_stream(simweb, "https://streams.example.org/live/index.m3u8", seed=64, live=True)

    entry = archive_link(settings, stream.playlist_url)

    assert entry["outcome"] == "no_media"
    assert entry["reason"] == "live stream"
    assert not any(r.path.endswith(".ts") for r in simweb.requests)
    assert with_network_input(started) == []


def test_extractor_declared_live_stream_is_no_media_without_fetching_it(
    simweb: SimWeb, settings: Settings, tmp_path: Path, started: list[tuple[str, list[str]]]
) -> None:
    from embedarc.footage.ytdlp_guard import Declined
    from embedarc.footage.ytdlp_transport import youtube_dl_class
    from embedarc.model import Outcome
    from embedarc.network.net import Net

    # What a site's extractor returns for a broadcast: is_live, though the playlist looks done.
    stream = hls_stream(simweb, "https://streams.example.org/onair/index.m3u8", seed=65)
    info = {
        "id": "onair",
        "title": "On air",
        "is_live": True,
        "extractor": "made-up",
        "webpage_url": "https://tv.example.org/onair",
        "formats": [{"url": stream.playlist_url, "ext": "mp4", "protocol": "m3u8_native"}],
    }
    params = {"quiet": True, "outtmpl": str(tmp_path / "%(id)s.%(ext)s")}
    with (
        Net(settings) as net,
        youtube_dl_class()(params, net=net) as ydl,
        pytest.raises(Declined) as declined,
    ):
        ydl.process_ie_result(info)

    assert declined.value.outcome is Outcome.NO_MEDIA and declined.value.outcome.is_final
    assert declined.value.reason == "live stream"
    assert simweb.requests == []
    assert with_network_input(started) == []


# -- other protocols -------------------------------------------------------------------------


def test_rtmp_only_video_is_no_media_and_nothing_connects_to_it(
    simweb: SimWeb,
    settings: Settings,
    tcp_listener: LoopbackServer,
    started: list[tuple[str, list[str]]],
) -> None:
    rtmp = f"rtmp://127.0.0.1:{tcp_listener.port}/vod/clip"
    simweb.json(
        "https://ajax.streamable.com/videos/rtmp01",
        {
            "status": 2,
            "title": "Old stream",
            "files": {"mp4": {"url": rtmp, "width": 320, "height": 240}},
        },
    )

    entry = archive_link(settings, "https://streamable.com/rtmp01")

    assert entry["outcome"] == "no_media"
    assert "rtmp" in entry["reason"]
    assert tcp_listener.hits == []
    assert with_network_input(started) == []


def test_every_external_downloader_refuses_to_run(
    settings: Settings, started: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    """The last word: whichever path reaches them, yt-dlp's external downloaders start nothing."""
    from yt_dlp.downloader.external import get_external_downloader, list_external_downloaders
    from yt_dlp.downloader.rtmp import RtmpFD

    from embedarc.footage.ytdlp_guard import Declined
    from embedarc.footage.ytdlp_transport import youtube_dl_class
    from embedarc.network.net import Net

    classes = [get_external_downloader(name) for name in list_external_downloaders()]
    assert {c.__name__ for c in classes} >= {"FFmpegFD", "CurlFD", "Aria2cFD", "WgetFD"}
    info = {"url": "https://cdn.example.org/v.mp4", "protocol": "https", "ext": "mp4", "id": "v"}
    with Net(settings) as net, youtube_dl_class()({"quiet": True}, net=net) as ydl:
        for fd_class in [*classes, RtmpFD]:
            with pytest.raises(Declined, match="outside embedarc's network layer"):
                fd_class(ydl, ydl.params).real_download(str(tmp_path / "v.mp4"), dict(info))
    assert started == []


# -- child processes -------------------------------------------------------------------------

PARENT = """
import sys
from embedarc.footage.ytdlp_transport import youtube_dl_class
from yt_dlp.utils import Popen

youtube_dl_class()
child = Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
child.wait()
"""


def test_program_started_by_ytdlp_dies_when_embedarc_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    pidfd = os.pidfd_open(child)
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # readable once the child has ended; the bound only keeps a broken build from hanging
        ended, _, _ = select.select([pidfd], [], [], 60)
        if not ended:
            os.kill(child, signal.SIGKILL)
        assert ended, "the child outlived the killed parent"
    finally:
        os.close(pidfd)
