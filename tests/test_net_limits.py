"""Limits on what one request may cost: --max-download-time over the whole exchange, headers
included, direct, through a proxy and for yt-dlp's requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.errors import NetworkError
from embedarc.footage import ytdlp
from embedarc.model import Outcome
from embedarc.net import Net
from tests.test_attacks_round2 import _HeaderTrickler

LIMIT_TEXT = "--max-download-time"


@pytest.fixture
def trickler() -> Iterator[_HeaderTrickler]:
    # About 70 bytes of headers 0.05 s apart: some 3.5 s, against a limit of 1 s.
    server = _HeaderTrickler(interval=0.05, padding=40)
    yield server
    server.close()


def through(settings: Settings, server: _HeaderTrickler) -> Settings:
    """Settings sending everything through `server` as the proxy, with a 1 s exchange limit."""
    return settings.with_updates(
        proxy=f"http://127.0.0.1:{server.port}", max_download_time=1.0, timeout=5.0
    )


# -- --max-download-time from the request on -------------------------------------------------


def test_headers_trickled_by_a_plain_http_proxy_are_cut_off(
    settings: Settings, trickler: _HeaderTrickler
) -> None:
    with (
        Net(through(settings, trickler)) as net,
        pytest.raises(NetworkError, match=LIMIT_TEXT),
    ):
        net.fetch("http://slow.example/page")


def test_a_tunnel_answer_trickled_by_the_proxy_is_cut_off(
    settings: Settings, trickler: _HeaderTrickler
) -> None:
    # For https the proxy first answers CONNECT: that answer's headers are trickled here.
    with (
        Net(through(settings, trickler)) as net,
        pytest.raises(NetworkError, match=LIMIT_TEXT),
    ):
        net.fetch("https://slow.example/page")


def test_ytdlp_request_with_trickled_headers_fails_naming_the_limit(
    settings: Settings, trickler: _HeaderTrickler, tmp_path: Path
) -> None:
    with Net(through(settings, trickler)) as net:
        result = ytdlp.fetch(net, "https://streamable.com/slow01", workdir=tmp_path, max_size=10**9)

    assert result.outcome is Outcome.FAILED, result
    assert LIMIT_TEXT in (result.reason or ""), result
