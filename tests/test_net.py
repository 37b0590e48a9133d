"""The one network layer: proxy variables, CA, User-Agent, and yt-dlp going through it too."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.network.net import USER_AGENT, Net, NetworkError
from embedarc.platforms.x.graphql import ENDPOINT as GRAPHQL_ENDPOINT
from tests.conftest import LoopbackServer, run_embedarc
from tests.helpers import make_tweet
from tests.simweb import SimWeb, Video


def test_requests_carry_an_honest_user_agent(simweb: SimWeb, settings: Settings) -> None:
    simweb.tco("honestua01", "https://news.example.org/x")
    with Net(settings) as net, net.open("https://t.co/honestua01") as response:
        assert response.status_code == 301
    [request] = simweb.requests_to("t.co")
    assert request.headers["user-agent"] == USER_AGENT
    assert "Mozilla" not in USER_AGENT


def test_no_proxy_hosts_are_reached_directly(
    simweb: SimWeb,
    settings: Settings,
    loopback_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with Net(settings.with_updates(allow_private=True)) as net:  # loopback: the guard allows
        got = net.fetch(f"http://127.0.0.1:{loopback_server.port}/clip.gif")
    assert got.status == 200 and got.content.startswith(b"GIF89a")
    assert simweb.requests == []  # the proxy never saw it
    assert len(loopback_server.hits) == 1


def test_proxy_flag_overrides_environment(
    simweb: SimWeb, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    simweb.page("https://news.example.org/p", "<p>hi</p>")
    with Net(Settings(archive_dir=archive_dir, proxy=simweb.proxy_url)) as net:
        assert net.fetch("https://news.example.org/p").status == 200


def test_untrusted_certificate_is_a_clear_network_error(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())  # real roots: the test CA is unknown
    simweb.page("https://news.example.org/p", "<p>hi</p>")
    with Net(settings) as net, pytest.raises(NetworkError, match="not trusted"):
        net.fetch("https://news.example.org/p")


def test_all_proxy_alone_is_enough_for_ytdlp_too(simweb: SimWeb, tmp_path: Path) -> None:
    tweet = make_tweet(simweb, 40, [Video(320, 180)], syndication="error", fxtwitter="error")
    simweb.fail(GRAPHQL_ENDPOINT, 503, times=1)  # embedarc's own GraphQL request: yt-dlp's turn
    (tmp_path / "a.txt").write_text(f"All proxy\n{tweet.status_url}\n")
    only_all = {name: "" for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}

    done = run_embedarc("archive", "a.txt", "--json", web=simweb, cwd=tmp_path, env=only_all)

    assert done.returncode == 0, done.stderr
    assert '"archived": 1' in done.stdout
    assert any("TweetResultByRestId" in r.path for r in simweb.requests)
    ytdlp_requests = [r for r in simweb.requests if r.host in ("api.x.com", "x.com")]
    assert any(r.headers["user-agent"] != USER_AGENT for r in ytdlp_requests)


def test_host_delay_spaces_requests_to_one_host_only() -> None:
    from embedarc.network.net import _Slots

    slept: list[float] = []
    slots = _Slots(8, 4, spacing=1.5, clock=lambda: 100.0, sleep=slept.append)
    for host in ("cdn.example.org", "cdn.example.org", "other.example.org", "cdn.example.org"):
        with slots.hold(host):
            pass
    assert slept == [1.5, 3.0]
