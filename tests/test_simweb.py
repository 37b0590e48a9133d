"""The simulated web behaves like the services it stands in for (tests of the test fixture).

Every request goes through the real loopback proxy with real clients (httpx, raw sockets,
yt-dlp), so a client that works here speaks the same HTTP it would to the real hosts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import re
import socket
import ssl
import sys
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.simweb import Gif, Photo, SimWeb, TweetSpec, Video, snowflake, syndication_token
from tests.simweb.scenarios import example
from tests.simweb.twitter_json import js_radix_string
from tests.simweb.web import FAULT_KINDS

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
WHEN = datetime(2022, 1, 4, 10, 12, 44, tzinfo=UTC)
PROXY_VARS = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"]


@pytest.fixture(scope="module")
def web() -> Iterator[SimWeb]:
    with SimWeb() as sim:
        yield sim


@pytest.fixture(scope="module")
def world(web: SimWeb) -> dict[str, Any]:
    return example(web)


@pytest.fixture
def client(web: SimWeb) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(web.ca_file))
    with httpx.Client(proxy=web.proxy_url, verify=context, trust_env=False, timeout=10) as c:
        yield c


_counter = iter(range(1, 10_000))


def new_tweet(web: SimWeb, **kwargs: Any) -> TweetSpec:
    """A fresh tweet with a unique id, so tests sharing the module's web never collide."""
    n = next(_counter)
    args: dict[str, Any] = {
        "screen_name": "testuser",
        "name": "Test User",
        "text": f"Tweet number {n}",
        "created_at": WHEN,
        **kwargs,
    }
    return web.tweet(snowflake(WHEN, seq=n, worker=901), **args)


def syndication_url(tweet_id: str, token: str | None = None) -> str:
    token = syndication_token(tweet_id) if token is None else token
    return f"https://cdn.syndication.twimg.com/tweet-result?id={tweet_id}&token={token}"


# ------------------------------------------------------------------ short links


def test_tco_answers_non_browser_user_agents_with_a_301(web: SimWeb, client: httpx.Client) -> None:
    web.tco("AbCdEf1234", "https://example.org/story")
    response = client.get("https://t.co/AbCdEf1234")
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.org/story"


def test_tco_answers_browsers_with_a_script_page(web: SimWeb, client: httpx.Client) -> None:
    web.tco("BrOwSeR123", "https://example.org/a?b=1&c=2")
    response = client.get("https://t.co/BrOwSeR123", headers={"User-Agent": BROWSER_UA})
    assert response.status_code == 200
    assert response.text.startswith('<head><meta name="referrer" content="always"><noscript>')
    assert (
        '<META http-equiv="refresh" content="0;URL=https://example.org/a?b=1&amp;c=2">'
        in response.text
    )
    assert 'location.replace("https:\\/\\/example.org\\/a?b=1&c=2")' in response.text


def test_tco_unsafe_wrap_leads_to_an_interstitial_linking_the_target(
    web: SimWeb, client: httpx.Client
) -> None:
    web.tco("UnSaFe0001", "https://sketchy.example/x?y=1", unsafe_wrap=True)
    first = client.get("https://t.co/UnSaFe0001")
    assert first.headers["location"] == (
        "https://twitter.com/safety/unsafe_link_warning?unsafe_link="
        + quote("https://sketchy.example/x?y=1", safe="")
    )
    page = client.get(first.headers["location"], follow_redirects=True)
    assert page.status_code == 200
    assert str(page.url).startswith("https://x.com/safety/unsafe_link_warning?")
    assert '<a class="continue" href="https://sketchy.example/x?y=1">' in page.text


def test_pic_twitter_leads_to_the_tweet_media_url(web: SimWeb, client: httpx.Client) -> None:
    spec = new_tweet(web, media=[Photo(64, 48)])
    response = client.get(f"https://{spec.pic_text}")
    assert response.status_code == 301
    assert response.headers["location"] == f"{spec.status_url}/photo/1"
    assert client.get(spec.tco_url).headers["location"] == f"{spec.status_url}/photo/1"


def test_pic_twitter_meta_style_is_a_200_page_with_meta_refresh(
    web: SimWeb, client: httpx.Client
) -> None:
    spec = new_tweet(web, media=[Video(64, 36, seconds=0.3, hls=False)], pic_style="meta")
    response = client.get(f"http://{spec.pic_text}")
    assert response.status_code == 200
    assert f'content="0;URL={spec.status_url}/video/1"' in response.text


def test_twitter_com_redirects_to_x_com_which_serves_an_empty_shell(
    world: dict[str, Any], client: httpx.Client
) -> None:
    aurora: TweetSpec = world["aurora"]
    for host in ("twitter.com", "www.twitter.com", "mobile.twitter.com"):
        response = client.get(f"https://{host}/AuroraIntel/status/{aurora.id}?s=20")
        assert response.status_code == 301
        assert response.headers["location"] == f"https://x.com/AuroraIntel/status/{aurora.id}?s=20"
    shell = client.get(f"https://x.com/AuroraIntel/status/{aurora.id}/video/1")
    assert shell.status_code == 200
    assert "react-root" in shell.text
    assert "Ain Al-Assad" not in shell.text and "og:title" not in shell.text


def test_ift_tt_redirects_with_301_or_meta_refresh(web: SimWeb, client: httpx.Client) -> None:
    web.ift_tt("plain01", "https://example.org/one")
    web.ift_tt("meta01", "https://example.org/two", style="meta")
    assert client.get("http://ift.tt/plain01").headers["location"] == "https://example.org/one"
    assert client.get("https://ift.tt/plain01").status_code == 301
    meta = client.get("https://ift.tt/meta01")
    assert meta.status_code == 200
    assert 'http-equiv="refresh" content="0;URL=https://example.org/two"' in meta.text


def test_example_article_is_reached_from_ift_tt(
    world: dict[str, Any], client: httpx.Client
) -> None:
    response = client.get(world["ift_tt_url"], follow_redirects=True)
    assert str(response.url) == world["article_url"]
    article = response.text.split("<article>", 1)[1].split("</article>", 1)[0]
    assert '<a href="https://t.co/8xGo7BYVO3">pic.twitter.com/8xGo7BYVO3</a>' in article
    assert f"{world['aurora'].status_url}?ref_src=twsrc%5Etfw" in article
    assert f"{world['second'].status_url}?ref_src=twsrc%5Etfw" in article
    outside = response.text.replace(article, "")
    assert "https://twitter.com/zerohedge" in outside and "t.co/" not in outside
    assert f'<link rel="canonical" href="{world["article_url"]}">' in response.text
    assert 'property="article:published_time"' in response.text


def test_example_pic_link_resolves_to_the_aurora_intel_video_tweet(
    world: dict[str, Any], client: httpx.Client
) -> None:
    aurora: TweetSpec = world["aurora"]
    response = client.get("http://pic.twitter.com/8xGo7BYVO3")
    assert (
        response.headers["location"]
        == f"https://twitter.com/AuroraIntel/status/{aurora.id}/video/1"
    )
    assert len(aurora.id) == 19
    assert [f.kind for f in aurora.files] == ["video"]
    assert [f.kind for f in world["second"].files] == ["photo", "photo"]


# ------------------------------------------------------------------ tweet APIs


def test_syndication_token_matches_the_javascript_formula() -> None:
    from yt_dlp.jsinterp import js_number_to_string

    assert syndication_token("1234567890123456789") == "2zqic77uqyk"
    rng = random.Random(7)
    for _ in range(500):
        value = (rng.randrange(10**17, 2 * 10**18) / 1e15) * math.pi
        assert js_radix_string(value, 36) == js_number_to_string(value, 36)


def test_syndication_returns_the_tweet_with_media_details(
    world: dict[str, Any], client: httpx.Client
) -> None:
    aurora: TweetSpec = world["aurora"]
    doc = client.get(syndication_url(aurora.id)).json()
    assert doc["__typename"] == "Tweet" and doc["id_str"] == aurora.id
    assert doc["user"]["screen_name"] == "AuroraIntel" and doc["user"]["name"] == "Aurora Intel"
    assert doc["created_at"] == "2022-01-04T06:21:37.000Z"
    assert doc["entities"]["media"][0] == {
        "display_url": "pic.twitter.com/8xGo7BYVO3",
        "url": "https://t.co/8xGo7BYVO3",
        "expanded_url": f"{aurora.status_url}/video/1",
        "indices": doc["entities"]["media"][0]["indices"],
    }
    variants = doc["mediaDetails"][0]["video_info"]["variants"]
    assert variants[0]["content_type"] == "application/x-mpegURL"
    best = max(
        (v for v in variants if v["content_type"] == "video/mp4"), key=lambda v: v["bitrate"]
    )
    assert best["url"] == aurora.files[0].url


def test_syndication_quoted_tweet_is_nested(web: SimWeb, client: httpx.Client) -> None:
    inner = new_tweet(web, media=[Photo(64, 48)])
    outer = new_tweet(web, quoted=inner)
    doc = client.get(syndication_url(outer.id)).json()
    assert doc["quoted_tweet"]["id_str"] == inner.id
    assert doc["quoted_tweet"]["mediaDetails"][0]["media_url_https"].startswith(
        "https://pbs.twimg.com/media/"
    )


def test_syndication_rejects_a_wrong_token_with_404(
    world: dict[str, Any], client: httpx.Client
) -> None:
    assert client.get(syndication_url(world["aurora"].id, token="abc")).status_code == 404


@pytest.mark.parametrize(("mode", "status"), [("missing", 404), ("tombstone", 200), ("error", 500)])
def test_syndication_failure_modes(
    web: SimWeb, client: httpx.Client, mode: str, status: int
) -> None:
    spec = new_tweet(web, syndication=mode)
    response = client.get(syndication_url(spec.id))
    assert response.status_code == status
    if mode == "tombstone":
        assert response.json()["__typename"] == "TweetTombstone"
        assert response.json()["tombstone"]["text"]["text"]


def test_fxtwitter_answers_both_path_forms(web: SimWeb, client: httpx.Client) -> None:
    spec = new_tweet(web, media=[Photo(64, 48), Gif(64, 48, seconds=0.3)])
    for path in (f"/testuser/status/{spec.id}", f"/status/{spec.id}"):
        doc = client.get(f"https://api.fxtwitter.com{path}").json()
        tweet = doc["tweet"]
        assert doc["code"] == 200 and tweet["id"] == spec.id
        assert tweet["author"]["screen_name"] == "testuser"
        assert [m["type"] for m in tweet["media"]["all"]] == ["photo", "gif"]
        assert tweet["media"]["videos"][0]["url"] == spec.files[1].url


@pytest.mark.parametrize(("mode", "status"), [("missing", 404), ("error", 500)])
def test_fxtwitter_failure_modes(web: SimWeb, client: httpx.Client, mode: str, status: int) -> None:
    spec = new_tweet(web, fxtwitter=mode)
    response = client.get(f"https://api.fxtwitter.com/status/{spec.id}")
    assert response.status_code == status
    if mode == "missing":
        assert response.json() == {"code": 404, "message": "NOT_FOUND"}


def graphql(client: httpx.Client, tweet_id: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": "Bearer AAAA"} | ({"x-guest-token": token} if token else {})
    params = {
        "variables": json.dumps({"tweetId": tweet_id}),
        "features": "{}",
        "fieldToggles": "{}",
    }
    return client.get(
        "https://x.com/i/api/graphql/AnyQueryId123/TweetResultByRestId",
        params=params,
        headers=headers,
    )


def test_graphql_needs_a_guest_token(world: dict[str, Any], client: httpx.Client) -> None:
    assert graphql(client, world["aurora"].id, None).status_code == 403
    activate = client.post(
        "https://api.x.com/1.1/guest/activate.json", headers={"Authorization": "Bearer A"}
    )
    token = activate.json()["guest_token"]
    result = graphql(client, world["aurora"].id, token).json()["data"]["tweetResult"]["result"]
    assert result["core"]["user_results"]["result"]["legacy"]["screen_name"] == "AuroraIntel"
    assert result["legacy"]["created_at"] == "Tue Jan 04 06:21:37 +0000 2022"
    assert result["legacy"]["extended_entities"]["media"][0]["type"] == "video"


@pytest.mark.parametrize("mode", ["tombstone", "protected", "unavailable", "error", "ratelimit"])
def test_graphql_failure_modes(web: SimWeb, client: httpx.Client, mode: str) -> None:
    spec = new_tweet(web, graphql=mode)
    token = client.post(
        "https://api.x.com/1.1/guest/activate.json", headers={"Authorization": "Bearer A"}
    )
    response = graphql(client, spec.id, token.json()["guest_token"])
    expected_status = {"error": 500, "ratelimit": 429}.get(mode, 200)
    assert response.status_code == expected_status
    tweet_result = response.json().get("data", {}).get("tweetResult")
    if mode == "tombstone":
        assert "tombstone" in tweet_result["result"]
    elif mode == "protected":
        assert tweet_result["result"] == {"__typename": "TweetUnavailable", "reason": "Protected"}
    elif mode == "unavailable":
        assert tweet_result == {}
    elif mode == "ratelimit":
        assert response.headers["x-rate-limit-reset"].isdigit()


# ------------------------------------------------------------------ CDNs


def test_files_honour_range_requests(world: dict[str, Any], client: httpx.Client) -> None:
    video = world["aurora"].files[0]
    size = len(video.data)
    part = client.get(video.url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == video.data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    tail = client.get(video.url, headers={"Range": f"bytes={size - 10}-"})
    assert tail.status_code == 206 and tail.content == video.data[-10:]
    assert client.get(video.url, headers={"Range": f"bytes={size}-"}).status_code == 416
    whole = client.get(video.url)
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["etag"]
    assert hashlib.sha256(whole.content).hexdigest() == video.sha256
    head = client.head(video.url)
    assert head.headers["content-length"] == str(size) and head.content == b""


def test_photo_name_variants_are_distinct_files(
    world: dict[str, Any], client: httpx.Client
) -> None:
    photo = world["second"].files[0]
    base = photo.url.split("?")[0]
    orig = client.get(photo.url).content
    assert hashlib.sha256(orig).hexdigest() == photo.sha256
    bodies = {
        name: client.get(f"{base}?name={name}").content
        for name in ("large", "medium", "small", "thumb")
    }
    assert len({orig, *bodies.values()}) == 5
    assert client.get(base).content == bodies["medium"]
    key_form = base.removesuffix(".jpg") + "?format=jpg&name=orig"
    assert client.get(key_form).content == orig
    lesser = {f.url for f in world["second"].all_files if f.role == "lesser"}
    assert f"{base}?name=small" in lesser


def test_media_files_are_real_and_variants_differ(
    world: dict[str, Any], client: httpx.Client
) -> None:
    aurora: TweetSpec = world["aurora"]
    best = aurora.files[0]
    assert best.data[4:8] == b"ftyp" and (best.width, best.height) == (640, 360)
    lesser = [f for f in aurora.all_files if f.role == "lesser"]
    assert len(lesser) == 1 and lesser[0].data != best.data and lesser[0].width == 320
    master_url = next(
        f.url for f in aurora.all_files if f.url.split("?")[0].endswith("master.m3u8")
    )
    master = client.get(master_url).text
    assert (
        master.startswith("#EXTM3U")
        and "RESOLUTION=640x360" in master
        and "RESOLUTION=320x180" in master
    )


# ------------------------------------------------------------------ the proxy itself


def test_tunnel_serves_several_requests_on_one_connection(
    web: SimWeb, world: dict[str, Any]
) -> None:
    port = int(web.proxy_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"CONNECT ift.tt:443 HTTP/1.1\r\nHost: ift.tt:443\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(web.ca_file))
        with context.wrap_socket(raw, server_hostname="ift.tt") as tls:
            reader = tls.makefile("rb")
            for _ in range(3):
                tls.sendall(b"GET /3FYxYO2 HTTP/1.1\r\nHost: ift.tt\r\n\r\n")
                assert reader.readline().startswith(b"HTTP/1.1 301")
                headers = {}
                while (line := reader.readline()) != b"\r\n":
                    name, _, value = line.decode().partition(":")
                    headers[name.lower()] = value.strip()
                reader.read(int(headers["content-length"]))
                assert headers["location"] == world["article_url"]


def test_unknown_hosts_and_paths_get_404(client: httpx.Client) -> None:
    assert client.get("https://unknown.example/").status_code == 404
    assert client.get("http://ift.tt/doesnotexist").status_code == 404


def test_requests_are_recorded(web: SimWeb, client: httpx.Client) -> None:
    web.route("https://echo.example/post", lambda req: httpx_free_echo(req))
    client.post("https://echo.example/post?x=1", content=b"hello", headers={"X-Test": "yes"})
    recorded = web.requests_to("echo.example")[-1]
    assert (recorded.method, recorded.status, recorded.body) == ("POST", 201, b"hello")
    assert recorded.url == "https://echo.example/post?x=1" and recorded.query == "x=1"
    assert recorded.headers["x-test"] == "yes"


def httpx_free_echo(req: Any) -> Any:
    from tests.simweb import Response

    return Response(201, {"Content-Type": "application/octet-stream"}, req.body)


def test_query_specific_registrations_win(web: SimWeb, client: httpx.Client) -> None:
    web.page("https://q.example/p", "any")
    web.page("https://q.example/p?v=2", "two")
    assert client.get("https://q.example/p?v=1").text == "any"
    assert client.get("https://q.example/p?v=2&z=0").text == "two"


def test_fail_answers_errors_then_recovers(web: SimWeb, client: httpx.Client) -> None:
    web.page("https://flaky.example/a", "ok")
    web.fail("https://flaky.example/a", 429, headers={"Retry-After": "7"}, times=2)
    first = client.get("https://flaky.example/a")
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    assert client.get("https://flaky.example/a").status_code == 429
    assert client.get("https://flaky.example/a").text == "ok"


def test_reset_fault_drops_the_connection(web: SimWeb, client: httpx.Client) -> None:
    web.page("https://reset.example/a", "ok")
    web.fault("https://reset.example/a", "reset", times=1)
    with pytest.raises(httpx.TransportError):
        client.get("https://reset.example/a")
    assert web.requests_to("reset.example")[-1].status == 0
    assert client.get("https://reset.example/a").text == "ok"


def test_truncate_fault_sends_less_than_content_length(web: SimWeb, client: httpx.Client) -> None:
    web.file("https://trunc.example/f.bin", bytes(range(256)) * 40, "application/octet-stream")
    web.fault("https://trunc.example/f.bin", "truncate", times=1, keep=100)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("https://trunc.example/f.bin")
    assert len(client.get("https://trunc.example/f.bin").content) == 10240


def quick_client(web: SimWeb, read: float = 5.0) -> httpx.Client:
    """A client that gives up on a silent server after `read` seconds."""
    timeout = httpx.Timeout(5.0, read=read)
    return web.client(timeout=timeout)


def stream_raw(
    client: httpx.Client, url: str
) -> tuple[httpx.Response, bytes, httpx.TransportError | None]:
    """The response, the body bytes that arrived, and the error that ended reading, if any."""
    received = bytearray()
    with client.stream("GET", url) as response:
        try:
            for part in response.iter_raw():
                received += part
        except httpx.TransportError as error:
            return response, bytes(received), error
    return response, bytes(received), None


def test_trickle_fault_sends_the_body_a_few_bytes_at_a_time(web: SimWeb) -> None:
    body = bytes(range(256)) * 4
    web.file("https://slow.example/f.bin", body, "application/octet-stream")
    # The pause after the first chunk far outlasts the read timeout: the client sees exactly
    # one chunk, then times out.
    web.fault("https://slow.example/f.bin", "trickle", times=1, chunk=10, interval=30)
    with quick_client(web, read=1.0) as client:
        response, received, error = stream_raw(client, "https://slow.example/f.bin")
    assert response.headers["content-length"] == str(len(body))
    assert isinstance(error, httpx.ReadTimeout)
    assert received == body[:10]


def test_trickle_fault_delivers_the_whole_body_in_the_end(web: SimWeb) -> None:
    body = b"0123456789" * 20
    web.file("https://slow.example/whole.bin", body, "application/octet-stream")
    web.fault("https://slow.example/whole.bin", "trickle", times=1, chunk=7, interval=0)
    with quick_client(web) as client:
        assert client.get("https://slow.example/whole.bin").content == body


def test_trickle_fault_hangs_up_when_its_time_limit_is_spent(web: SimWeb) -> None:
    web.file("https://slow.example/limit.bin", bytes(1000), "application/octet-stream")
    web.fault("https://slow.example/limit.bin", "trickle", times=1, interval=30, limit=0)
    with quick_client(web) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("https://slow.example/limit.bin")


def test_gzip_bomb_fault_inflates_to_over_100_mb(web: SimWeb) -> None:
    web.file("https://bomb.example/v.mp4", b"small", "video/mp4")
    web.fault("https://bomb.example/v.mp4", "gzip_bomb", times=1)
    with quick_client(web) as client:
        response, wire, error = stream_raw(client, "https://bomb.example/v.mp4")
    assert error is None and response.headers["content-encoding"] == "gzip"
    assert len(wire) == int(response.headers["content-length"]) < 1_000_000
    inflater, inflated, pending = zlib.decompressobj(16 + zlib.MAX_WBITS), 0, wire
    while pending:
        piece = inflater.decompress(pending, 1 << 20)
        assert piece.count(0) == len(piece)
        inflated, pending = inflated + len(piece), inflater.unconsumed_tail
    assert inflater.eof and inflated > 100_000_000


def test_huge_length_fault_declares_10_gib_then_hangs_up(web: SimWeb) -> None:
    web.file("https://huge.example/v.mp4", bytes(range(256)) * 100, "video/mp4")
    web.fault("https://huge.example/v.mp4", "huge_length", times=1)
    with quick_client(web) as client:
        response, received, error = stream_raw(client, "https://huge.example/v.mp4")
    assert response.headers["content-length"] == "10737418240"
    assert response.headers["content-type"] == "video/mp4"
    assert isinstance(error, httpx.RemoteProtocolError)
    assert received == (bytes(range(256)) * 100)[:4096]


def test_wrong_type_fault_serves_the_body_under_another_content_type(
    web: SimWeb, client: httpx.Client
) -> None:
    web.file("https://type.example/v.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    web.fault("https://type.example/v.mp4", "wrong_type", times=1, content_type="text/plain")
    response = client.get("https://type.example/v.mp4")
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"\x00\x00\x00\x18ftypmp42"
    assert client.get("https://type.example/v.mp4").headers["content-type"] == "video/mp4"


def test_wrong_type_fault_needs_a_content_type(web: SimWeb) -> None:
    with pytest.raises(ValueError, match="content_type="):
        web.fault("https://type.example/v.mp4", "wrong_type")


def test_html_instead_fault_serves_a_login_wall_where_media_was_expected(
    web: SimWeb, client: httpx.Client
) -> None:
    web.file("https://wall.example/v.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    web.fault("https://wall.example/v.mp4", "html_instead", times=1)
    response = client.get("https://wall.example/v.mp4")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Log in" in response.text and "ftyp" not in response.text


def test_chain_registers_a_redirect_for_every_hop(web: SimWeb) -> None:
    web.file("https://final.example/v.mp4", b"video", "video/mp4")
    urls = web.chain("https://short.example/s", 50, "https://final.example/v.mp4")
    assert len(urls) == 51 and len(set(urls)) == 51
    with quick_client(web) as client:
        with pytest.raises(httpx.TooManyRedirects):
            client.get(urls[0], follow_redirects=True)  # httpx stops after 20
        client.max_redirects = 60
        response = client.get(urls[0], follow_redirects=True)
    assert len(response.history) == 50
    assert (str(response.url), response.content) == ("https://final.example/v.mp4", b"video")


def test_chain_needs_at_least_one_hop(web: SimWeb) -> None:
    with pytest.raises(ValueError, match="one hop"):
        web.chain("https://short.example/none", 0, "https://final.example/v.mp4")


_connections: list[tuple[str, Any]] | None = None  # socket.connect calls while recording


def _record_connections(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _connections is not None:
        _connections.append((threading.current_thread().name, args[1]))


sys.addaudithook(_record_connections)

FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("status", {}),
    ("reset", {}),
    ("truncate", {}),
    ("trickle", {"interval": 0}),
    ("gzip_bomb", {"size": 1 << 20}),
    ("huge_length", {}),
    ("wrong_type", {"content_type": "text/plain"}),
    ("html_instead", {}),
]


def test_every_fault_kind_is_covered_here() -> None:
    assert {kind for kind, _ in FAULTS} == FAULT_KINDS


@pytest.mark.parametrize(("kind", "args"), FAULTS, ids=[kind for kind, _ in FAULTS])
def test_no_fault_makes_the_proxy_connect_anywhere(
    web: SimWeb, kind: str, args: dict[str, Any]
) -> None:
    global _connections
    url = f"https://quiet.example/{kind}"
    web.file(url, bytes(5000), "video/mp4")
    web.fault(url, kind, times=1, **args)
    _connections = []
    try:
        with quick_client(web) as client, contextlib.suppress(httpx.TransportError):
            client.get(url)
    finally:
        seen, _connections = _connections, None
    proxy = ("127.0.0.1", int(web.proxy_url.rsplit(":", 1)[1]))
    assert [address for _, address in seen] == [proxy]
    assert all(name == threading.current_thread().name for name, _ in seen)


def test_env_routes_everything_through_the_proxy(web: SimWeb) -> None:
    env = web.env()
    assert all(
        env[name] == web.proxy_url for name in [*PROXY_VARS[:3], "https_proxy", "http_proxy"]
    )
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == str(web.ca_file)
    assert env["NO_PROXY"] == "" and re.match(r"http://127\.0\.0\.1:\d+$", web.proxy_url)


# ------------------------------------------------------------------ real yt-dlp


def run_ytdlp(
    web: SimWeb, url: str, fmt: str, out: Path, monkeypatch: pytest.MonkeyPatch, **extra: Any
) -> dict[str, Any]:
    import yt_dlp

    for name in [*PROXY_VARS, *(n.lower() for n in PROXY_VARS)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(web.ca_file))
    monkeypatch.setenv("SSL_CERT_DIR", "")
    options = {
        "proxy": web.proxy_url,
        "compat_opts": ["no-certifi"],
        "quiet": True,
        "noprogress": True,
        "format": fmt,
        "outtmpl": str(out / "%(id)s.%(ext)s"),
        "fixup": "never",
        "cachedir": False,
        "no_warnings": True,
        **extra,
    }
    with yt_dlp.YoutubeDL(options) as ydl:
        info: dict[str, Any] = ydl.extract_info(url, download=True)
    return info


def test_ytdlp_downloads_the_best_progressive_variant_via_graphql(
    world: dict[str, Any], web: SimWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aurora: TweetSpec = world["aurora"]
    web.clear_requests()
    run_ytdlp(web, aurora.status_url, "best[protocol^=http]", tmp_path, monkeypatch)
    [downloaded] = tmp_path.iterdir()
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == aurora.files[0].sha256
    hosts = [r.host for r in web.requests]
    assert "api.x.com" in hosts and "x.com" in hosts and "cdn.syndication.twimg.com" not in hosts


def test_ytdlp_downloads_hls_natively(
    web: SimWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = new_tweet(web, media=[Video(96, 54, seconds=1.0)])
    run_ytdlp(web, spec.status_url, "best[protocol^=m3u8]", tmp_path, monkeypatch)
    [downloaded] = tmp_path.iterdir()
    segments = [f for f in spec.all_files if f.url.endswith(".ts") and f.width == 96]
    assert len(segments) >= 2
    assert downloaded.read_bytes() == b"".join(f.data for f in segments)


def test_ytdlp_falls_back_to_syndication_when_rate_limited(
    web: SimWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = new_tweet(web, media=[Video(96, 54, seconds=0.5, hls=False)], graphql="ratelimit")
    web.clear_requests()
    run_ytdlp(web, spec.status_url, "best[protocol^=http]", tmp_path, monkeypatch)
    [downloaded] = tmp_path.iterdir()
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == spec.files[0].sha256
    assert [r.status for r in web.requests_to("x.com")] == [429]
    assert web.requests_to("cdn.syndication.twimg.com")[0].status == 200
