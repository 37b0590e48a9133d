"""Limits on what one request may cost: the memory an answer read whole may take, whoever reads
it (embedarc or yt-dlp), and --max-download-time over the whole exchange, headers included,
direct, through a proxy and for yt-dlp's requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from embedarc.config import Settings
from embedarc.errors import AnswerTooLarge, NetworkError
from embedarc.footage import ytdlp, ytdlp_transport
from embedarc.model import Outcome
from embedarc.network.net import ANSWER_LIMIT, Net
from tests.helpers import HeaderTrickler, link_entry, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb.media import make_mp4

LIMIT_TEXT = "--max-download-time"


@pytest.fixture
def trickler() -> Iterator[HeaderTrickler]:
    # About 70 bytes of headers 0.05 s apart: some 3.5 s, against a limit of 1 s.
    server = HeaderTrickler(interval=0.05, padding=40)
    yield server
    server.close()


def through(settings: Settings, server: HeaderTrickler) -> Settings:
    """Settings sending everything through `server` as the proxy, with a 1 s exchange limit."""
    return settings.with_updates(
        proxy=f"http://127.0.0.1:{server.port}", max_download_time=1.0, timeout=5.0
    )


# -- answers read whole ----------------------------------------------------------------------


def test_gzip_bomb_as_a_ytdlp_api_answer_is_too_large_naming_the_limit(
    simweb: SimWeb, settings: Settings
) -> None:
    api = "https://ajax.streamable.com/videos/bomb02"
    simweb.json(api, {"status": 2})
    simweb.fault(api, "gzip_bomb", size=64 * 1024 * 1024)

    [report] = run(settings, text_input("Bomb\nhttps://streamable.com/bomb02\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://streamable.com/bomb02")
    assert entry["outcome"] == "too_large", entry
    assert f"larger than {ANSWER_LIMIT} bytes" in str(entry["reason"]), entry


def largest_answer(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts what each answer read through httpx came to, decoded, at its largest; returns
    a list whose one item is the largest so far."""
    largest = [0]
    real_iter = httpx.Response.iter_bytes

    def counting_iter(self: httpx.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        total = 0
        for chunk in real_iter(self, chunk_size):
            total += len(chunk)
            largest[0] = max(largest[0], total)
            yield chunk

    monkeypatch.setattr(httpx.Response, "iter_bytes", counting_iter)
    return largest


def test_gzip_bomb_read_in_large_blocks_is_counted_before_it_is_inflated(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Plain http through the proxy: 64 KB arrive per read, ~64 MiB once inflated in one go.
    url = "http://bomb.example/answer.json"
    simweb.json(url, {"ok": True})
    simweb.fault(url, "gzip_bomb", size=128 * 1024 * 1024)
    largest = largest_answer(monkeypatch)

    with Net(settings) as net, pytest.raises(AnswerTooLarge):
        net.fetch(url)

    assert ANSWER_LIMIT < largest[0] <= ANSWER_LIMIT + 2 * 1024 * 1024, largest


def test_media_ytdlp_reads_in_blocks_are_not_held_to_the_answer_limit(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = make_mp4(320, 240, 1.0, 93, cache_dir=simweb.media_dir)
    small_limit = 4096
    assert len(clip) > small_limit
    monkeypatch.setattr(ytdlp_transport, "ANSWER_LIMIT", small_limit)
    file_url = "https://cdn-cf-east.streamable.com/video/mp4/blk01.mp4"
    simweb.file(file_url, clip, "video/mp4")
    simweb.json(
        "https://ajax.streamable.com/videos/blk01",
        {"status": 2, "title": "Blocks", "files": {"mp4": {"url": file_url}}},
    )

    [report] = run(settings, text_input("Blocks\nhttps://streamable.com/blk01\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://streamable.com/blk01")
    assert entry["outcome"] == "archived", entry


# -- --max-download-time from the request on -------------------------------------------------


def test_headers_trickled_by_a_plain_http_proxy_are_cut_off(
    settings: Settings, trickler: HeaderTrickler
) -> None:
    with (
        Net(through(settings, trickler)) as net,
        pytest.raises(NetworkError, match=LIMIT_TEXT),
    ):
        net.fetch("http://slow.example/page")


def test_a_tunnel_answer_trickled_by_the_proxy_is_cut_off(
    settings: Settings, trickler: HeaderTrickler
) -> None:
    # For https the proxy first answers CONNECT: that answer's headers are trickled here.
    with (
        Net(through(settings, trickler)) as net,
        pytest.raises(NetworkError, match=LIMIT_TEXT),
    ):
        net.fetch("https://slow.example/page")


def test_ytdlp_request_with_trickled_headers_fails_naming_the_limit(
    settings: Settings, trickler: HeaderTrickler, tmp_path: Path
) -> None:
    with Net(through(settings, trickler)) as net:
        result = ytdlp.fetch(net, "https://streamable.com/slow01", workdir=tmp_path, max_size=10**9)

    assert result.outcome is Outcome.FAILED, result
    assert LIMIT_TEXT in (result.reason or ""), result
