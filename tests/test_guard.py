"""The private-address guard: links may not reach this machine or its private networks.

Tests only ever connect to loopback. Other addresses are checked at the decision point, with an
injected resolver, or through the simulated web's proxy, where a refused target is never sent.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from embedarc.config import Settings, load_settings
from embedarc.errors import ConfigError, Refused
from embedarc.footage.collect import Collector
from embedarc.keeping.store import Store
from embedarc.model import Link, LinkKind, Outcome, Stop
from embedarc.network.guard import Policy, check_target, checked_addresses
from embedarc.network.net import Net
from embedarc.network.resolve import Followed, resolve
from tests.conftest import LoopbackServer, run_embedarc
from tests.helpers import direct_to, link_entry, resolving_to, run, sidecar_of, text_input
from tests.simweb import SimWeb


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the guard looked up {host}, which it should refuse unresolved")


@pytest.fixture
def tls_server(test_ca: trustme.CA) -> Iterator[LoopbackServer]:
    """An HTTPS server on 127.0.0.1 whose certificate names only tls.example."""
    hits: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("tls.example").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LoopbackServer(server.server_address[1], hits)
    server.shutdown()
    server.server_close()


# -- the decision ----------------------------------------------------------------------------

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "127.1",
    "0x7f000001",
    "2130706433",
    "017700000001",
    "0x7f.0.0.1",
    "127.0.0.1.",
    "[::1]",
    "::1",
    "[::ffff:127.0.0.1]",
    "0:0:0:0:0:ffff:7f00:1",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_is_refused_in_every_spelling(host: str) -> None:
    with pytest.raises(Refused, match="loopback"):
        checked_addresses(host, 80, Policy(), no_dns)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("10.0.0.5", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("[fe80::1]", "link-local"),
        ("[fd00::1]", "private"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("[::]", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public address"),
        ("[64:ff9b::a00:5]", "private"),
    ],
)
def test_non_public_addresses_are_refused(host: str, kind: str) -> None:
    with pytest.raises(Refused, match=kind):
        checked_addresses(host, 80, Policy(), no_dns)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "admin.localhost",
        "printer.local",
        "metadata.google.internal",
        "intranet",
    ],
)
def test_local_names_are_refused_without_a_lookup(host: str) -> None:
    with pytest.raises(Refused, match="local name"):
        checked_addresses(host, 80, Policy(), no_dns)


def test_name_resolving_to_a_private_address_is_refused() -> None:
    asked, resolver = resolving_to("10.0.0.5")
    with pytest.raises(Refused, match=r"intranet-alias\.example: 10\.0\.0\.5 is a private"):
        checked_addresses("intranet-alias.example", 443, Policy(), resolver)
    assert asked == ["intranet-alias.example"]


def test_name_with_one_private_address_among_public_ones_is_refused() -> None:
    _, resolver = resolving_to("93.184.216.34", "127.0.0.1")
    with pytest.raises(Refused, match="loopback"):
        checked_addresses("mixed.example", 443, Policy(), resolver)


def test_name_resolving_to_a_public_address_is_allowed() -> None:
    _, resolver = resolving_to("93.184.216.34")
    got = checked_addresses("public.example", 443, Policy(), resolver)
    assert got == ["93.184.216.34"]


def test_allowed_host_name_may_resolve_to_a_private_address() -> None:
    _, resolver = resolving_to("10.0.0.5")
    policy = Policy.from_settings(False, ["intranet.example"])
    got = checked_addresses("wiki.intranet.example", 80, policy, resolver)
    assert got == ["10.0.0.5"]


def test_allowed_range_lets_its_addresses_through_and_no_others() -> None:
    policy = Policy.from_settings(False, ["10.0.0.0/8"])
    assert checked_addresses("10.1.2.3", 80, policy, no_dns) == ["10.1.2.3"]
    with pytest.raises(Refused):
        checked_addresses("192.168.0.1", 80, policy, no_dns)


def test_allow_private_lets_loopback_through() -> None:
    check_target("127.0.0.1", Policy(allow_private=True))
    check_target("localhost", Policy(allow_private=True))


# -- settings --------------------------------------------------------------------------------


def test_allow_hosts_comes_from_the_config_file(tmp_path: Path) -> None:
    tmp_path.joinpath("embedarc.toml").write_text(
        'allow_hosts = ["intranet.example", "10.0.0.0/8"]\n'
    )
    settings = load_settings({"archive_dir": tmp_path}, env={})
    assert settings.allow_hosts == ("intranet.example", "10.0.0.0/8")


def test_allow_hosts_and_allow_private_come_from_the_environment(tmp_path: Path) -> None:
    env = {"EMBEDARC_ALLOW_HOSTS": "intranet.example, 10.0.0.0/8", "EMBEDARC_ALLOW_PRIVATE": "1"}
    settings = load_settings({"archive_dir": tmp_path}, env=env)
    assert settings.allow_hosts == ("intranet.example", "10.0.0.0/8")
    assert settings.allow_private is True


def test_malformed_allow_hosts_entry_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allow_hosts"):
        load_settings({"archive_dir": tmp_path}, env={"EMBEDARC_ALLOW_HOSTS": "10.0.0.0/99"})


# -- connections without a proxy -------------------------------------------------------------


def test_direct_request_to_a_name_resolving_privately_is_refused_before_connecting(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct_to(monkeypatch, "rebound.example")
    asked, resolver = resolving_to("10.0.0.5")
    # Had it connected, the conftest guard would have raised a ConnectionRefusedError instead.
    with Net(settings, resolver=resolver) as net, pytest.raises(Refused, match=r"10\.0\.0\.5"):
        net.fetch("http://rebound.example/")
    assert asked == ["rebound.example"]


def test_direct_connection_goes_to_the_address_the_guard_resolved(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, loopback_server: LoopbackServer
) -> None:
    direct_to(monkeypatch, "intranet.example")
    asked, resolver = resolving_to("127.0.0.1")
    allowed = settings.with_updates(allow_hosts=("intranet.example",))
    with Net(allowed, resolver=resolver) as net:
        got = net.fetch(f"http://intranet.example:{loopback_server.port}/clip.gif")
    assert got.status == 200
    assert asked == ["intranet.example"]  # resolved once, by the guard, not again by the socket
    assert loopback_server.hits[0]["host"] == f"intranet.example:{loopback_server.port}"


def test_tls_certificate_is_checked_against_the_name_not_the_address(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tls_server: LoopbackServer
) -> None:
    direct_to(monkeypatch, "tls.example")
    _, resolver = resolving_to("127.0.0.1")
    allowed = settings.with_updates(allow_hosts=("tls.example",))
    with Net(allowed, resolver=resolver) as net:
        got = net.fetch(f"https://tls.example:{tls_server.port}/")
    # The certificate names tls.example only: connecting by address would have failed.
    assert got.status == 200 and got.content == b"ok"


# -- redirects and every kind of request -----------------------------------------------------


def test_redirect_to_a_private_address_stops_resolution_as_refused(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.redirect("https://short.example/r1", "http://169.254.169.254/latest/meta-data/")
    with Net(settings) as net:
        followed: Followed[None] = resolve(net, "https://short.example/r1", max_hops=5)
    res = followed.resolution
    assert res.stop is Stop.REFUSED
    assert res.error is not None and "link-local" in res.error
    assert [r.host for r in simweb.requests] == ["short.example"]


def test_redirect_followed_by_a_media_download_is_refused(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.redirect("https://cdn.example.org/clip.mp4", "http://127.0.0.1:8080/clip.mp4")
    store = Store(settings.archive_dir)
    store.ensure()
    with Net(settings) as net:
        collector = Collector(net, store, settings)
        with pytest.raises(Refused, match="loopback"):
            collector.media("https://cdn.example.org/clip.mp4")
    assert [r.host for r in simweb.requests] == ["cdn.example.org"]


def test_link_redirecting_to_a_private_address_is_recorded_as_refused(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.redirect("https://bit.ly/inside", "http://10.1.2.3/admin")
    [report] = run(settings, text_input("Inside\nhttps://bit.ly/inside\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://bit.ly/inside")
    assert entry["outcome"] == "refused"
    assert "10.1.2.3 is a private address" in entry["reason"]
    assert not report.failed  # refused is final: nothing to try again


def test_ytdlp_request_to_a_private_address_is_refused(simweb: SimWeb, settings: Settings) -> None:
    simweb.json(
        "https://ajax.streamable.com/videos/priv01",
        {
            "status": 2,
            "title": "Internal",
            "files": {"mp4": {"url": "http://10.0.0.7/video.mp4", "width": 320, "height": 240}},
        },
    )
    [report] = run(settings, text_input("Clip\nhttps://streamable.com/priv01\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://streamable.com/priv01")
    assert entry["outcome"] == "refused"
    assert "10.0.0.7" in entry["reason"]
    assert not any(r.host == "10.0.0.7" for r in simweb.requests)


def test_link_outcome_refused_is_final(simweb: SimWeb, settings: Settings) -> None:
    store = Store(settings.archive_dir)
    store.ensure()
    with Net(settings) as net:
        result = Collector(net, store, settings).link(Link("http://192.168.0.1/", LinkKind.URL))
    assert result.outcome is Outcome.REFUSED and result.outcome.is_final
    assert simweb.requests == []


# -- the installed command -------------------------------------------------------------------

SSRF_TARGETS = [
    "http://127.1/",
    "http://[::1]/",
    "http://0x7f000001/",
    "http://169.254.169.254/latest/meta-data/",
]


def test_command_refuses_every_local_target_and_sends_nothing(
    simweb: SimWeb, tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    local = f"http://localhost:{loopback_server.port}/clip.gif"
    (tmp_path / "a.txt").write_text("Local\n" + "\n".join([*SSRF_TARGETS, local]) + "\n")
    no_proxy = {"NO_PROXY": "localhost", "no_proxy": "localhost"}  # localhost goes direct

    done = run_embedarc("archive", "a.txt", "--json", web=simweb, cwd=tmp_path, env=no_proxy)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcomes"] == {"refused": 5}
    data = json.loads(next((tmp_path / "archive" / "articles").glob("*/article.json")).read_text())
    for entry in data["links"]:
        assert entry["outcome"] == "refused" and entry["reason"], entry
    assert loopback_server.hits == []
    assert simweb.requests == []  # the proxy was not asked either


def test_command_with_allow_private_fetches_from_loopback(
    simweb: SimWeb, tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    local = f"http://localhost:{loopback_server.port}/clip.gif"
    (tmp_path / "a.txt").write_text(f"Local\n{local}\n")
    no_proxy = {"NO_PROXY": "localhost", "no_proxy": "localhost"}

    done = run_embedarc(
        "archive", "a.txt", "--json", "--allow-private", web=simweb, cwd=tmp_path, env=no_proxy
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcomes"] == {"archived": 1}
    assert len(loopback_server.hits) == 1
