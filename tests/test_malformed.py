"""Malformed URLs, odd spellings of private addresses, bad proxies and mistyped SOURCEs.

A URL no request can be made for is a final outcome with its reason (`gone`, or `refused` when
it spells a private address), never a traceback nor a transient failure tried again every run;
a proxy or a command-line URL that cannot be used is a one-line usage error (exit status 2).
"""

from __future__ import annotations

import logging
import select
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.errors import ConfigError, NetworkError
from embedarc.footage.collect import Collector, failure_outcome
from embedarc.keeping.store import Store
from embedarc.model import Outcome, Stop
from embedarc.network.net import Net
from embedarc.network.resolve import resolve
from embedarc.reading.articles import read_html
from embedarc.reading.links import links_in_html, normalise
from tests.conftest import NETWORK_VARS, LoopbackServer
from tests.helpers import html_input, link_entry, run, sidecar_of, text_input
from tests.simweb import SimWeb


def retry_rows(archive_dir: Path) -> list[dict[str, object]]:
    db = sqlite_utils.Database(archive_dir / "index.db")
    try:
        return list(db["retries"].rows)
    finally:
        db.close()


def no_traceback(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err + caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text


def direct_to(monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    """Send requests for `hosts` without the proxy, so a request would reach them directly."""
    monkeypatch.setenv("NO_PROXY", ",".join(hosts))
    monkeypatch.setenv("no_proxy", ",".join(hosts))


# -- links in articles -----------------------------------------------------------------------

MALFORMED = {
    # url as discovered -> (outcome, words of the reason)
    "http://xn--a.com/clip.mp4": ("gone", "malformed URL"),  # bad IDNA (punycode of U+0080)
    "http://a\u200d.example/clip.mp4": ("gone", "malformed URL"),  # a joiner IDNA refuses
    "https://exa%20mple.com/": ("gone", "the host contains a space"),
    "http://1.2.3.999/clip.mp4": ("gone", "not an IPv4 address"),
    "http://127.000.000.001/clip.mp4": ("refused", "loopback"),
    "http://\u2460\u2461\u2466.0.0.1/clip.mp4": ("refused", "loopback"),  # ①②⑦: 127 by NFKC
    "http://0x7f.000.0.01/clip.mp4": ("refused", "loopback"),
}


def test_malformed_links_end_final_with_a_reason_and_no_traceback(
    simweb: SimWeb,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    anchors = "".join(f'<p><a href="{url}">clip</a></p>' for url in MALFORMED)
    anchors += '<p><a href="https://exa mple.com/">spaced</a></p>'
    [report] = run(settings, html_input(f"<html><title>Odd</title><body>{anchors}</body></html>"))

    data = sidecar_of(settings.archive_dir, report)
    for url, (outcome, words) in MALFORMED.items():
        entry = link_entry(data, normalise(url))
        assert entry["outcome"] == outcome, entry
        assert words in entry["reason"], entry
    assert not report.failed
    assert retry_rows(settings.archive_dir) == []
    assert simweb.requests == []  # nothing was sent, not even to the proxy
    no_traceback(caplog, capsys)


def test_odd_spelling_of_loopback_is_refused_before_any_connection(
    simweb: SimWeb,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: LoopbackServer,
) -> None:
    direct_to(monkeypatch, "127.0.0.1")  # no proxy in between: a request would reach the server
    port = loopback_server.port
    text = f"Local\nhttp://127.000.000.001:{port}/clip.gif\nhttp://0177.0.0.01:{port}/b.gif\n"

    [report] = run(settings, text_input(text))

    assert report.outcomes == {"refused": 2}
    assert loopback_server.hits == []


def test_odd_spelling_of_an_allowed_address_reaches_it(
    simweb: SimWeb,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    loopback_server: LoopbackServer,
) -> None:
    # The spelling means 127.0.0.1, as it does to a browser: allowed, it is fetched from there.
    direct_to(monkeypatch, "127.0.0.1")
    url = f"http://127.000.000.001:{loopback_server.port}/clip.gif"

    [report] = run(settings.with_updates(allow_private=True), text_input(f"Local\n{url}\n"))

    assert report.outcomes == {"archived": 1}
    assert len(loopback_server.hits) == 1


# -- redirects -------------------------------------------------------------------------------

BAD_LOCATIONS = {
    "data:text/html,<script>alert(1)</script>": ("gone", "data: URL"),
    "javascript:alert(1)": ("gone", "javascript: URL"),
    "http://[::1/admin": ("gone", "malformed URL"),
    "http://exa mple.com/": ("gone", "the host contains a space"),
    "http://127.000.000.001/admin": ("refused", "loopback"),
}


@pytest.mark.parametrize(("location", "expected"), BAD_LOCATIONS.items())
def test_redirect_to_a_url_no_request_can_be_made_for_stops_resolution(
    simweb: SimWeb, settings: Settings, location: str, expected: tuple[str, str]
) -> None:
    simweb.redirect("https://short.example/r1", location)
    with Net(settings) as net:
        res = resolve(net, "https://short.example/r1", max_hops=5).resolution
    assert res.stop is (Stop.REFUSED if expected[0] == "refused" else Stop.BAD_URL)
    assert res.error is not None and expected[1] in res.error
    assert [r.host for r in simweb.requests] == ["short.example"]


def test_links_redirecting_to_bad_urls_are_final_and_never_retried(
    simweb: SimWeb,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    lines = []
    for n, location in enumerate(BAD_LOCATIONS):
        simweb.redirect(f"https://bit.ly/bad{n}", location)
        lines.append(f"https://bit.ly/bad{n}")

    [report] = run(settings, text_input("Bad redirects\n" + "\n".join(lines) + "\n"))

    data = sidecar_of(settings.archive_dir, report)
    for n, (outcome, words) in enumerate(BAD_LOCATIONS.values()):
        entry = link_entry(data, f"https://bit.ly/bad{n}")
        assert entry["outcome"] == outcome and words in entry["reason"], entry
    assert not report.failed
    assert retry_rows(settings.archive_dir) == []
    no_traceback(caplog, capsys)


@pytest.mark.parametrize(
    ("location", "outcome"),
    [
        ("data:video/mp4;base64,AAAA", Outcome.GONE),
        ("javascript:alert(1)", Outcome.GONE),
        ("http://\u2460\u2461\u2466.0.0.1/x.mp4", Outcome.REFUSED),  # ①②⑦: 127 by NFKC
        ("http://127.000.000.001/x.mp4", Outcome.REFUSED),
    ],
)
def test_download_redirected_to_a_bad_url_is_final(
    simweb: SimWeb, settings: Settings, location: str, outcome: Outcome
) -> None:
    # Downloads let the HTTP client follow redirects: its hops are checked the same way.
    simweb.redirect("https://cdn.example.org/clip.mp4", location.encode().decode("latin-1"))
    store = Store(settings.archive_dir)
    store.ensure()
    with Net(settings) as net, pytest.raises(NetworkError) as caught:
        Collector(net, store, settings).media("https://cdn.example.org/clip.mp4")
    assert failure_outcome(caught.value) == (outcome, None)
    assert [r.host for r in simweb.requests] == ["cdn.example.org"]


def test_article_url_that_is_malformed_after_a_redirect_is_a_final_error(
    simweb: SimWeb, settings: Settings
) -> None:
    from embedarc.job.pipeline import Input

    simweb.redirect("https://news.example.org/story", "javascript:void(0)")
    [report] = run(
        settings, Input("https://news.example.org/story", url=("https://news.example.org/story"))
    )
    assert report.error is not None and "javascript: URL" in report.error
    assert retry_rows(settings.archive_dir) == []


# -- discovery -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        b'<a href="https://"><a href="https://@//A">',  # found by hypothesis
        b'<a href="https://@/x">a</a><a href="http://u@//B/c">b</a><a href="https://:80//C">c</a>',
    ],
)
def test_discovered_links_are_normalised_web_urls(html: bytes) -> None:
    for link in [*links_in_html(html), *read_html(html, source="-").links]:
        assert link.url == normalise(link.url), link


def test_url_without_a_host_is_not_given_one_by_normalising() -> None:
    # "https://@//A" has an empty host; rebuilt without its "@" it would name host "A".
    assert normalise("https://@//A") == "https://@//A"


# -- proxies ---------------------------------------------------------------------------------


@pytest.fixture
def no_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NETWORK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("EMBEDARC_PROXY", raising=False)


def archive_cmd(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    (tmp_path / "a.txt").write_text("No links\nnothing to fetch here\n")
    return CliRunner().invoke(
        cli,
        ["archive", str(tmp_path / "a.txt"), "--archive-dir", str(tmp_path / "archive"), *args],
        catch_exceptions=False,
        env={"EMBEDARC_RETRY_PAUSE": "0", **(env or {})},
    )


BAD_PROXIES = {
    "ftp://user:secret@proxy.example:21": "only http://, https:// and socks5://",
    "socks4://proxy.example:1080": "only http://, https:// and socks5://",
    "http://": "there is no host",
    "http://proxy.example:99999": "the port is not a number",
    "http://pro xy.example:3128": "the host contains",
}


@pytest.mark.parametrize(("proxy", "words"), BAD_PROXIES.items())
@pytest.mark.parametrize("given", ["--proxy", "EMBEDARC_PROXY", "HTTPS_PROXY", "https_proxy"])
def test_unusable_proxy_is_a_one_line_usage_error(
    no_network_env: None, tmp_path: Path, proxy: str, words: str, given: str
) -> None:
    if given == "--proxy":
        result = archive_cmd(tmp_path, "--proxy", proxy)
    else:
        result = archive_cmd(tmp_path, env={given: proxy})

    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: proxy ") and words in line
    assert "secret" not in result.output


def test_net_refuses_an_unusable_proxy_with_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="socks5"):
        Net(Settings(archive_dir=tmp_path, proxy="ftp://proxy.example"))


@dataclass
class Socks5Server:
    port: int
    connects: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture
def socks5_server() -> Iterator[Socks5Server]:
    """A minimal SOCKS5 proxy on loopback (no authentication, CONNECT only) that relays."""
    server_state = Socks5Server(0)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            client: socket.socket = self.request
            _, count = client.recv(2)
            client.recv(count)
            client.sendall(b"\x05\x00")  # no authentication
            _, command, _, kind = client.recv(4)
            if kind == 1:
                host = socket.inet_ntoa(client.recv(4))
            elif kind == 3:
                host = client.recv(client.recv(1)[0]).decode()
            else:
                host = socket.inet_ntop(socket.AF_INET6, client.recv(16))
            (port,) = struct.unpack("!H", client.recv(2))
            server_state.connects.append((host, port))
            if command != 1 or host != "127.0.0.1":  # loopback only, like every test
                client.sendall(b"\x05\x02\x00\x01" + bytes(6))
                return
            upstream = socket.create_connection((host, port))
            client.sendall(b"\x05\x00\x00\x01" + bytes(6))
            with upstream:
                while True:
                    ready, _, _ = select.select([client, upstream], [], [], 5)
                    if not ready:
                        return
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks5_proxy_still_works(
    no_network_env: None,
    tmp_path: Path,
    socks5_server: Socks5Server,
    loopback_server: LoopbackServer,
    scheme: str,
) -> None:
    (tmp_path / "a.txt").write_text(f"Local\nhttp://127.0.0.1:{loopback_server.port}/clip.gif\n")
    result = CliRunner().invoke(
        cli,
        [
            "archive",
            str(tmp_path / "a.txt"),
            "--archive-dir",
            str(tmp_path / "archive"),
            "--allow-private",
            "--json",
        ],
        catch_exceptions=False,
        env={
            "EMBEDARC_PROXY": f"{scheme}://127.0.0.1:{socks5_server.port}",
            "EMBEDARC_ARCHIVE": str(tmp_path / "archive"),
        },
    )

    assert result.exit_code == 0, result.output
    assert '"archived": 1' in result.output
    assert socks5_server.connects == [("127.0.0.1", loopback_server.port)]
    assert len(loopback_server.hits) == 1


# -- command-line SOURCEs --------------------------------------------------------------------

MISTYPED = {
    "htps://x.com/a": "did you mean https://x.com/a?",
    "htp://example.org/story": "did you mean http://example.org/story?",
    "https:/example.org/story": "did you mean https://example.org/story?",
    "hxxps://example.org/story": "did you mean https://example.org/story?",
    "www.site.com/x": "did you mean https://www.site.com/x?",
    "example.org/story": "did you mean https://example.org/story?",
    "ftp://files.example/clip.mp4": "only http:// and https:// URLs",
    "file:///etc/passwd": "only http:// and https:// URLs",
    "https://": "there is no host",
    "https://exa mple.com/": "the host contains a space",
    "https://example.org:99999/": "the port is not a number",
    "http://[::1/": "not a URL embedarc can fetch",
}


@pytest.mark.parametrize(("source", "words"), MISTYPED.items())
def test_mistyped_url_on_the_command_line_is_a_usage_error(
    no_network_env: None, tmp_path: Path, source: str, words: str
) -> None:
    result = CliRunner().invoke(
        cli,
        ["archive", source, "--archive-dir", str(tmp_path / "archive")],
        catch_exceptions=False,
    )

    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: {source} ") and words in line, line
    assert "no such file" not in line and "local name" not in line
    assert not (tmp_path / "archive").exists()  # nothing was started


def test_existing_file_that_looks_like_a_host_is_read_as_a_file(
    no_network_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "www.site.com").write_text("A file\nno links\n")
    result = CliRunner().invoke(cli, ["archive", "www.site.com"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_missing_file_without_a_url_look_still_says_no_such_file(
    no_network_env: None, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli, ["archive", str(tmp_path / "notes.txt")], catch_exceptions=False
    )
    assert result.exit_code == 2 and "there is no such file" in result.output
