"""The one HTTP layer: every request embedarc makes, yt-dlp's included, goes through `Net`.

It owns the proxy and CA settings, timeouts, the User-Agent and the concurrency limits, so
that a setting given once applies to everything that leaves the machine.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import certifi
import httpcore
import httpx

from .. import __version__
from ..config import Settings
from ..errors import AnswerTooLarge, BadURL, Cancelled, ConfigError
from ..errors import NetworkError as NetworkError
from ..errors import Refused as Refused
from ..reading.urls import FORBIDDEN_HOST_RE, join_url, request_url, shown, split_url
from ..reading.urls import redact as redact
from .capture import Recorder
from .deadline import DeadlineBackend, Exchange
from .guard import Policy, Resolver, check_target, system_resolver
from .guarded import GuardedBackend

log = logging.getLogger(__name__)

USER_AGENT = f"embedarc/{__version__} (footage archiver; python-httpx)"
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")  # what httpx[socks] can talk to
# The most an answer read whole into memory (a page, an API answer) may hold, decoded: for
# Net.fetch and for what yt-dlp reads whole.
ANSWER_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """A small response read whole (pages, API answers)."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    def json(self) -> object:
        return load_json(self.content)


def load_json(data: bytes | str) -> Any:
    """JSON from a server; ValueError for anything that is not JSON a program can hold (JSON
    nested past Python's recursion limit included: a hostile answer, not a bug of ours)."""
    import json

    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def media_type(header: str | None) -> str:
    """`text/html; charset=utf-8` → `text/html`."""
    return (header or "").split(";", 1)[0].strip().lower()


# Headers a server says when to ask again in, best first: the standard one, then the rate
# limit reset some APIs send instead (X's, as an epoch time).
RETRY_HEADERS = ("retry-after", "x-rate-limit-reset")


def retry_hint(headers: Mapping[str, str]) -> str | None:
    """When the server asked to be asked again, as the first of RETRY_HEADERS it sent says."""
    return next((headers[name] for name in RETRY_HEADERS if headers.get(name)), None)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Trust `ca_bundle`, else SSL_CERT_FILE / SSL_CERT_DIR, else certifi's roots."""
    if ca_bundle is not None:
        return ssl.create_default_context(cafile=str(ca_bundle))
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


class _Slots:
    """A global limit and a per-host limit on requests in flight, and spacing per host."""

    def __init__(
        self,
        total: int,
        per_host: int,
        spacing: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._total = threading.BoundedSemaphore(total)
        self._per_host = per_host
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._spacing = spacing
        self._next_start: dict[str, float] = {}  # host -> earliest monotonic start time

    def _wait_turn(self, host: str) -> None:
        """Politeness: requests to one host start at least `spacing` seconds apart."""
        if self._spacing <= 0:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._spacing
        if start > now:
            self._sleep(start - now)

    def _host(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._hosts.get(host)
            if sem is None:
                sem = self._hosts[host] = threading.BoundedSemaphore(self._per_host)
            return sem

    @contextlib.contextmanager
    def hold(self, host: str) -> Iterator[None]:
        # Host first: a busy host must not pin global slots other hosts could use.
        with self._host(host):
            self._wait_turn(host)
            with self._total:
                yield


# An encoded (compressed) body is handed to httpx's decoder this many bytes at a time: zlib
# inflates up to ~1,000 times its input in one step, so a whole 64 KB read of a gzip bomb
# would be 64 MB in memory before anyone could count it.
ENCODED_PIECE = 1024


class _Body(httpx.SyncByteStream):
    """A body stream read under its exchange's deadline (see deadline.py), that stops
    between chunks once the run is interrupted or the exchange has taken too long."""

    def __init__(self, inner: httpx.SyncByteStream, exchange: Exchange, *, encoded: bool) -> None:
        self._inner = inner
        self._exchange = exchange
        self._piece = ENCODED_PIECE if encoded else 0

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            with self._exchange.active():
                chunk = next(chunks, None)
            if chunk is None:
                return
            # Ctrl-C stops here, keeping what arrived; so does a server that sent this chunk
            # just in time but has used up the exchange's time.
            self._exchange.check()
            if self._piece and len(chunk) > self._piece:
                for start in range(0, len(chunk), self._piece):
                    yield chunk[start : start + self._piece]
            else:
                yield chunk

    def close(self) -> None:
        self._inner.close()


class Net:
    """A shared, thread-safe HTTP client configured from `Settings`.

    Every request passes the private-address guard (see guard.py): the request hook checks
    each target, redirects included, and connections made without a proxy go only to
    addresses the guard resolved and checked. `resolver` is there for tests. With a
    `recorder`, every answer is recorded as it came (capture.py) before anything reads it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        recorder: Recorder | None = None,
    ) -> None:
        check_proxies(settings.proxy)
        self.settings = settings
        self.recorder = recorder
        answered = [recorder.answer] if recorder is not None else []
        self.policy = Policy.from_settings(settings.allow_private, settings.allow_hosts)
        # Set on Ctrl-C: requests not yet sent are not sent, bodies stop between chunks, and
        # the pauses that wait on it (politeness, retries) end at once.
        self.cancelled = threading.Event()
        self.slots = _Slots(
            settings.concurrency, settings.per_host, settings.host_delay, sleep=self._pause
        )
        self.client = httpx.Client(
            proxy=settings.proxy,
            # With an explicit proxy the *_PROXY variables must not override it.
            trust_env=settings.proxy is None,
            verify=ssl_context(settings.ca_bundle),
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            # No cookie is kept between requests: each service sees a first visit.
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(
                max_connections=settings.concurrency * 2,
                max_keepalive_connections=settings.concurrency,
            ),
            # Request hooks run before every request, each redirect httpx follows included;
            # response hooks after every answer, before httpx reads its Location.
            event_hooks={
                "request": [self._check_request],
                "response": [*answered, self._check_location],
            },
        )
        self.backend = GuardedBackend(self.policy, resolver)
        _install_backend(self.client, self.backend)

    def _check_request(self, request: httpx.Request) -> None:
        # A redirect httpx follows may lead to data:, javascript: or a URL without a host.
        if request.url.scheme not in ("http", "https") or not request.url.raw_host:
            request_url(str(request.url))  # raises BadURL with the reason
            raise BadURL(f"not a web address: {shown(str(request.url))}")
        try:
            check_target(request.url.raw_host.decode("ascii"), self.policy)
        except Refused as e:
            raise Refused(f"refused {redact(str(request.url))}: {e}") from None

    def _check_location(self, response: httpx.Response) -> None:
        """A redirect to where no request can be made (data:, javascript:, a malformed URL)
        ends with BadURL and its reason; one to an odd spelling of an address (`127.000.000.001`)
        is rewritten to the address, which the guard then judges and httpx can parse.

        httpx parses the Location of every redirect, followed or not, and would fail there
        with the first hop's URL as the culprit.
        """
        if not response.has_redirect_location:
            return
        base = str(response.request.url)
        location = response.headers["location"].strip()
        joined = join_url(base, location)
        try:
            if joined is None:
                raise BadURL(location, why="malformed URL")
            target = request_url(joined)
        except BadURL as e:
            why = f"a redirect to {shown(location)}: {e.why}"
            raise BadURL(f"{shown(base)}: {why}", why=why) from None
        if target != joined and target.isascii():
            response.headers["location"] = target

    def _pause(self, seconds: float) -> None:
        self.cancelled.wait(seconds)

    def cancel(self) -> None:
        """Stop every request of this client at its next chance (Ctrl-C)."""
        self.cancelled.set()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Net:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def open(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = False,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield the response with its body unread (streamed).

        Raises BadURL, with no request made, for a URL no request can be made for (see
        `request_url`), Refused for a target the guard refuses, NetworkError for the rest.
        """
        url = request_url(url)
        with self.slots.hold(host_of(url)):
            if self.cancelled.is_set():
                raise Cancelled(f"{redact(url)}: interrupted")
            started = time.monotonic()
            # --max-download-time counts from here: connecting, sending, the headers of every
            # redirect followed and the body, so that no part can be trickled out for ever.
            exchange = Exchange(url, self.settings.max_download_time, self.cancelled)
            try:
                request = self.client.build_request(method, url, headers=headers, content=content)
                with exchange.active():
                    response = self.client.send(
                        request, stream=True, follow_redirects=follow_redirects
                    )
            except BadURL:
                raise
            except Refused as e:
                log.debug("%s %s refused: %s", method, redact(url), e)
                if str(e).startswith("refused "):
                    raise
                raise Refused(f"refused {redact(url)}: {e}") from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as e:
                # Malformed in a way only the HTTP client noticed (bad IDNA: "xn--a.com");
                # ValueError includes the UnicodeError of the IDNA codec.
                why = str(e) or type(e).__name__
                raise BadURL(f"malformed URL {shown(url)}: {why}", why=why) from None
            except httpx.RemoteProtocolError as e:
                if "Invalid URL in location header" in str(e):  # a redirect httpx followed
                    why = f"a redirect to a malformed URL ({e})"
                    raise BadURL(f"{shown(url)}: {why}", why=why) from None
                raise NetworkError(describe(e, url)) from e
            except httpx.HTTPError as e:
                log.debug("%s %s failed: %s", method, redact(url), describe(e, url))
                raise NetworkError(describe(e, url)) from e
            _log_answer(response, time.monotonic() - started)
            exchange.url = str(response.url)
            encoding = response.headers.get("content-encoding", "").strip().lower()
            response.stream = _Body(
                response.stream,  # type: ignore[arg-type]
                exchange,
                encoded=encoding not in ("", "identity"),
            )
            try:
                yield response
            except httpx.HTTPError as e:
                raise NetworkError(describe(e, url)) from e
            finally:
                response.close()

    def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int = ANSWER_LIMIT,
    ) -> Fetched:
        """Send a request and read the whole (small) answer; raises NetworkError if too large."""
        with self.open(url, method=method, headers=headers, content=content) as response:
            body = read_limited(response, max_bytes)
            return Fetched(str(response.url), response.status_code, dict(response.headers), body)


def _log_answer(response: httpx.Response, seconds: float) -> None:
    """-v: one line per request (redirects httpx followed included); URLs only, no headers."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for earlier in response.history:
        method, url = earlier.request.method, redact(str(earlier.url))
        log.debug("%s %s -> HTTP %d", method, url, earlier.status_code)
    log.debug(
        "%s %s -> HTTP %d in %.2f s",
        response.request.method,
        redact(str(response.url)),
        response.status_code,
        seconds,
    )


def _install_backend(client: httpx.Client, backend: GuardedBackend) -> None:
    """Make the client's direct (proxy-less) connections go through the guarded backend, and
    every connection, proxied ones included, keep to --max-download-time (deadline.py).

    Proxied requests use other transports: the proxy resolves their names, and the request
    hook has already refused literal private addresses and local names for them.
    """
    _pool_of(client._transport)._network_backend = DeadlineBackend(backend)
    for transport in client._mounts.values():
        if transport is not None:  # None: a NO_PROXY host, sent by the direct transport
            pool = _pool_of(transport)
            pool._network_backend = DeadlineBackend(pool._network_backend)


def _pool_of(transport: httpx.BaseTransport) -> httpcore.ConnectionPool:
    pool = getattr(transport, "_pool", None)
    if not isinstance(transport, httpx.HTTPTransport) or not isinstance(
        pool, httpcore.ConnectionPool
    ):
        raise TypeError("unexpected httpx internals: cannot install the guard and the time limit")
    return pool


def read_limited(response: httpx.Response, max_bytes: int, *, hint: str = "") -> bytes:
    """Read a streamed body, refusing to hold more than `max_bytes` in memory."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            url = redact(str(response.url))
            raise AnswerTooLarge(f"{url}: answer larger than {max_bytes} bytes{hint}")
        chunks.append(chunk)
    return b"".join(chunks)


def describe(error: httpx.HTTPError, url: str) -> str:
    """A one-line, credential-free description of a transport failure."""
    kind = type(error).__name__
    text = str(error) or kind
    if isinstance(error, httpx.TimeoutException):
        text = "timed out"
    elif isinstance(error, httpx.ProxyError):
        text = f"proxy error: {text}"
    elif "CERTIFICATE_VERIFY_FAILED" in text:
        text = "TLS certificate not trusted (see --ca-bundle)"
    return f"{redact(url)}: {text}"


def proxy_problem(url: str) -> str | None:
    """Why a proxy URL cannot be used, or None when it can."""
    parts = split_url(url.strip())
    if parts is None or "://" not in url:
        return "not a URL; write it as http://HOST:PORT"
    if parts.scheme.lower() not in PROXY_SCHEMES:
        return "only http://, https:// and socks5:// proxies are supported"
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        return "the port is not a number from 0 to 65535"
    if not parts.hostname:
        return "there is no host"
    if ":" not in parts.hostname and FORBIDDEN_HOST_RE.search(parts.hostname):  # [::1] is fine
        return "the host contains a character no host name has"
    try:
        httpx.Proxy(url.strip())
    except (httpx.InvalidURL, ValueError) as e:
        return str(e) or "not a valid proxy URL"
    return None


def check_proxies(proxy: str | None) -> None:
    """Refuse a proxy httpx could not use, from the settings or, without one, from the
    *_PROXY variables, with a one-line ConfigError instead of httpx's ValueError."""
    if proxy is not None:
        if problem := proxy_problem(proxy):
            raise ConfigError(f"proxy {shown(proxy)}: {problem}")
        return
    for scheme, value in getproxies().items():
        if scheme not in ("http", "https", "all") or not value:
            continue  # httpx, like curl, reads only these
        url = value if "://" in value else f"http://{value}"
        if problem := proxy_problem(url):
            name = f"{scheme.upper()}_PROXY"
            raise ConfigError(f"proxy {shown(value)} (from ${name}): {problem}")
