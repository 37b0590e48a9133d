"""Fixtures: the simulated web, an archive folder, and a guard that keeps tests on loopback."""

from __future__ import annotations

import http.server
import ipaddress
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from embedarc.config import Settings
from tests.simweb import SimWeb

# Every variable that could send a request somewhere else or trust another CA.
NETWORK_VARS = [
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY",
    "https_proxy", "http_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
]  # fmt: skip


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _loopback_only(event: str, args: tuple[Any, ...]) -> None:
    """Fail any connection or DNS lookup that is not for a loopback address."""
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"test tried to connect to {address[0]}: loopback only")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _is_loopback(host):
            raise socket.gaierror(f"test tried to resolve {host!r}: no DNS in tests")


sys.addaudithook(_loopback_only)


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def media_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("simweb-media")


@pytest.fixture
def simweb(
    test_ca: trustme.CA, media_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimWeb]:
    """A fresh simulated web; this process's proxy and CA variables point at it."""
    with SimWeb(ca=test_ca, media_dir=media_cache) as web:
        for name in NETWORK_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in web.env().items():
            monkeypatch.setenv(name, value)
        yield web


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def settings(archive_dir: Path, simweb: SimWeb) -> Settings:
    return Settings(archive_dir=archive_dir, retry_pause=0)


EMBEDARC = str(Path(sys.executable).with_name("embedarc"))  # the installed command


def embedarc_env(web: SimWeb, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the simulated web as the internet, and nothing else."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in NETWORK_VARS and not k.startswith("EMBEDARC_")
    }
    full_env.update(web.env())
    full_env["EMBEDARC_RETRY_PAUSE"] = "0"  # retries within a run without waiting
    full_env.update(env or {})
    return full_env


def run_embedarc(
    *args: str,
    web: SimWeb,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `embedarc` command with the simulated web as its internet."""
    return subprocess.run(
        [EMBEDARC, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=embedarc_env(web, env),
        timeout=120,
    )


@dataclass
class LoopbackServer:
    """A real server on 127.0.0.1, outside the simulated web, that counts what reaches it."""

    port: int
    hits: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    """A plain HTTP server on loopback, outside the simulated web, serving one small GIF."""
    hits: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append({k.lower(): v for k, v in self.headers.items()})
            body = b"GIF89a" + b"\x00" * 20
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LoopbackServer(server.server_address[1], hits)
    server.shutdown()
    server.server_close()
