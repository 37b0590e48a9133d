"""The world model: which URL answers what, plus the short-link services.

A request is answered by, in order: a pending fault registered for its URL, an explicit
registration (page, file, redirect, route), a service emulator for its host (Twitter's APIs,
CDNs and redirects live in twitter.py), and otherwise 404. Registrations match on host + path,
ignoring the scheme and, unless the registration names query parameters, the query.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import trustme

from . import twitter
from .messages import (
    GZIP_BOMB_SIZE,
    Request,
    Response,
    file_response,
    gzip_bomb,
    html_response,
    json_response,
    login_wall_html,
    meta_refresh_html,
    not_found,
    redirect_response,
)
from .proxy import FAULT_WRITERS, ProxyServer
from .tweets import Gif, Photo, TweetSpec, Video

Handler = Callable[[Request], Response]
HostHandler = Callable[[Request], "Response | None"]

HUGE_LENGTH = 10 * 1024**3  # what "huge_length" declares: 10 GiB


def _without(headers: Mapping[str, str], *names: str) -> dict[str, str]:
    drop = {name.lower() for name in names}
    return {name: value for name, value in headers.items() if name.lower() not in drop}


def _content_type(response: Response, default: str) -> str:
    found = [value for name, value in response.headers.items() if name.lower() == "content-type"]
    return found[0] if found else default


def _gzip_bomb(response: Response, args: Mapping[str, Any]) -> Response:
    headers = {
        "Content-Type": _content_type(response, "application/octet-stream"),
        "Content-Encoding": "gzip",
    }
    return Response(200, headers, gzip_bomb(int(args.get("size", GZIP_BOMB_SIZE))))


def _huge_length(response: Response, args: Mapping[str, Any]) -> Response:
    keep = int(args.get("keep", 4096))
    body = (response.body if response.status == 200 else b"")[:keep].ljust(keep, b"\0")
    headers = {
        "Content-Type": str(args.get("content_type", "video/mp4")),
        "Content-Length": str(int(args.get("length", HUGE_LENGTH))),
    }
    return Response(200, headers, body, fault="truncate", fault_args={"keep": keep})


def _wrong_type(response: Response, args: Mapping[str, Any]) -> Response:
    headers = _without(response.headers, "Content-Type")
    return dataclasses.replace(response, headers={**headers, "Content-Type": args["content_type"]})


def _html_instead(response: Response, args: Mapping[str, Any]) -> Response:
    return html_response(login_wall_html())


# Faults that change what is answered, as opposed to how it is sent (proxy.FAULT_WRITERS).
RESHAPERS: dict[str, Callable[[Response, Mapping[str, Any]], Response]] = {
    "gzip_bomb": _gzip_bomb,
    "huge_length": _huge_length,
    "wrong_type": _wrong_type,
    "html_instead": _html_instead,
}
# "status" answers a canned error; RESHAPERS change the answer; FAULT_WRITERS act on the wire.
FAULT_KINDS = {"status", *RESHAPERS, *FAULT_WRITERS}
_REQUIRED_ARGS = {"wrong_type": ("content_type",)}


def split_url(url: str) -> tuple[str, str, dict[str, str] | None]:
    """(host, path, query params or None) of a registration URL; the scheme is optional."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = (parts.hostname or "").lower()
    query = dict(parse_qsl(parts.query, keep_blank_values=True)) if parts.query else None
    return host, parts.path or "/", query


def query_matches(query: Mapping[str, str] | None, request: Request) -> bool:
    """None matches any query; otherwise these params must be present with these values."""
    if query is None:
        return True
    params = request.params
    return all(params.get(k) == v for k, v in query.items())


@dataclass
class _Route:
    query: dict[str, str] | None  # None: any query; else these params must be present and equal
    handler: Handler

    def matches(self, request: Request) -> bool:
        return query_matches(self.query, request)


@dataclass
class _Fault:
    kind: str
    remaining: int | None  # None = forever
    status: int = 503
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class SimWeb:
    """The simulated internet. Use as a context manager; see the package docstring for usage."""

    def __init__(
        self, ca: trustme.CA | None = None, media_dir: Path | None = None, latency: float = 0.0
    ) -> None:
        self.ca = ca or trustme.CA()
        # Seconds every answer waits before it is sent, as a distant server's would.
        self.latency = latency
        self.media_dir = media_dir  # None: the shared disk cache in media.default_cache_dir()
        self._tmp = Path(tempfile.mkdtemp(prefix="simweb-"))
        self.ca_file = self._tmp / "simweb-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._lock = threading.RLock()
        self._routes: dict[tuple[str, str], list[_Route]] = {}
        self._faults: dict[tuple[str, str], list[tuple[dict[str, str] | None, _Fault]]] = {}
        self._hosts: dict[str, HostHandler] = {}
        self._log: list[Request] = []
        self.tweets: dict[str, TweetSpec] = {}
        self.twitter = twitter.TwitterServices(self)
        # A tweet that exists on the real web too (`embedarc doctor` asks for it).
        when = datetime(2012, 11, 7, 4, 16, 18, tzinfo=UTC)
        self.tweet("266031293945503744", "BarackObama", "Barack Obama", "Four more years.", when)
        self._server = ProxyServer(self.handle, self.ca)
        self._server.start()

    # --- lifecycle and client configuration

    @property
    def proxy_url(self) -> str:
        return self._server.url

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client that reaches this web through its proxy and trusts only its CA."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.Client(proxy=self.proxy_url, verify=context, trust_env=False, **kwargs)

    def env(self) -> dict[str, str]:
        """Environment for a client process: everything through the proxy, trusting only our CA."""
        env = {name: self.proxy_url for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")}
        env |= {name.lower(): value for name, value in env.items()}
        env |= {"NO_PROXY": "", "no_proxy": "", "SSL_CERT_DIR": ""}
        env |= {
            name: str(self.ca_file)
            for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
        }
        return env

    def close(self) -> None:
        self._server.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> SimWeb:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the request log

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    def requests_to(self, host: str) -> list[Request]:
        return [r for r in self.requests if r.host == host.lower()]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # --- answering

    def handle(self, request: Request) -> Response:
        """Answer one request (called by the proxy from its worker threads) and log it."""
        if self.latency > 0:
            time.sleep(self.latency)
        try:
            response = self._answer(request)
        except Exception as exc:  # a bug in a handler should show up as a 500, not a hang
            response = html_response(
                f"<h1>simweb handler error</h1><pre>{html.escape(repr(exc))}</pre>", 500
            )
        status = 0 if response.fault == "reset" else response.status
        with self._lock:
            self._log.append(dataclasses.replace(request, status=status))
        return response

    def _answer(self, request: Request) -> Response:
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "status":
            body = f"{fault.status} {_phrase(fault.status)}\n".encode()
            return Response(
                fault.status, {"Content-Type": "text/plain; charset=utf-8", **fault.headers}, body
            )
        if fault is not None and fault.kind == "reset":
            return Response(fault="reset")
        response = self._normal(request)
        if fault is not None and fault.kind in RESHAPERS:
            return RESHAPERS[fault.kind](response, fault.args)
        if fault is not None:  # copy: a route may hand out the same Response object every time
            response = dataclasses.replace(response, fault=fault.kind, fault_args=fault.args)
        return response

    def _normal(self, request: Request) -> Response:
        with self._lock:
            routes = list(self._routes.get((request.host, request.path), []))
            host_handler = self._hosts.get(request.host)
        # routes that name query params are more specific than query-insensitive ones
        for route in sorted(routes, key=lambda r: r.query is None):
            if route.matches(request):
                return route.handler(request)
        if host_handler is not None:
            response = host_handler(request)
            if response is not None:
                return response
        return not_found()

    def _take_fault(self, request: Request) -> _Fault | None:
        with self._lock:
            for query, fault in self._faults.get((request.host, request.path), []):
                if not query_matches(query, request):
                    continue
                if fault.remaining is None:
                    return fault
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # --- generic registration

    def route(self, url: str, fn: Handler) -> None:
        """Answer requests for url with fn(request) -> Response (replaces an equal registration)."""
        host, path, query = split_url(url)
        with self._lock:
            routes = [r for r in self._routes.get((host, path), []) if r.query != query]
            self._routes[(host, path)] = [*routes, _Route(query, fn)]

    def host(self, host: str, fn: HostHandler) -> None:
        """Fallback for every unregistered URL on host; fn returns None for 404."""
        with self._lock:
            self._hosts[host.lower()] = fn

    def page(
        self,
        url: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type, **(headers or {})}
        self.route(url, lambda _req: Response(status, dict(all_headers), data))

    def json(self, url: str, obj: object, status: int = 200) -> None:
        self.route(url, lambda _req: json_response(obj, status))

    def file(self, url: str, data: bytes, content_type: str) -> None:
        self.route(url, lambda req: file_response(req, data, content_type))

    def large_file(self, url: str, path: Path, content_type: str) -> None:
        """Answer url with the bytes of the file at path, streamed (for files of gigabytes)."""
        headers = {"Content-Type": content_type}
        self.route(url, lambda _req: Response(200, dict(headers), file=path))

    def redirect(self, url: str, location: str, status: int = 301) -> None:
        self.route(url, lambda _req: redirect_response(location, status))

    def meta_refresh(self, url: str, location: str) -> None:
        self.route(url, lambda _req: html_response(meta_refresh_html(location)))

    def fault(
        self,
        url: str,
        kind: str,
        *,
        times: int | None = None,
        status: int = 503,
        headers: Mapping[str, str] | None = None,
        **args: Any,
    ) -> None:
        """Misbehave on the next `times` requests for url (None = always), then answer normally.

        Kinds:
          "status"       answer `status` with `headers`
          "reset"        drop the connection without answering
          "truncate"     declare the full Content-Length, send `keep` bytes (default half), hang up
          "trickle"      send the body `chunk` bytes (16) at a time, `interval` s (0.05) apart;
                         hang up after `limit` s (at most proxy.TRICKLE_LIMIT, 60)
          "gzip_bomb"    a ~130 KB body declared Content-Encoding: gzip that inflates to `size`
                         zero bytes (128 MiB)
          "huge_length"  declare Content-Length `length` (10 GiB) and `content_type`
                         (video/mp4), send `keep` bytes (4096), hang up
          "wrong_type"   the usual answer with Content-Type `content_type` (required)
          "html_instead" a 200 text/html login wall instead of the usual answer
        None of them opens a connection anywhere.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        missing = [name for name in _REQUIRED_ARGS.get(kind, ()) if name not in args]
        if missing:
            raise ValueError(f"fault {kind!r} needs {', '.join(missing)}=")
        host, path, query = split_url(url)
        entry = _Fault(kind, times, status, dict(headers or {}), args)
        with self._lock:
            self._faults.setdefault((host, path), []).append((query, entry))

    def fail(
        self,
        url: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer `status` (e.g. 503, or 429 with Retry-After) for the next `times` requests."""
        self.fault(url, "status", times=times, status=status, headers=headers)

    def chain(self, start_url: str, hops: int, final_url: str, status: int = 302) -> list[str]:
        """Redirect start_url to final_url through `hops` redirects; returns every URL in order.

        The hops in between live on start_url's host, under a path no other chain uses.
        """
        if hops < 1:
            raise ValueError("a redirect chain needs at least one hop")
        parts = urlsplit(start_url if "://" in start_url else f"https://{start_url}")
        chain_id = next(_chain_ids)
        between = [
            f"{parts.scheme}://{parts.netloc}/_chain/{chain_id}/{hop}" for hop in range(1, hops)
        ]
        urls = [start_url, *between, final_url]
        for source, target in itertools.pairwise(urls):
            self.redirect(source, target, status)
        return urls

    # --- short links

    def ift_tt(self, code: str, target: str, style: str = "301") -> str:
        """IFTTT's shortener (https and http): a 301, or a 200 page with a meta refresh."""
        for scheme in ("https", "http"):
            url = f"{scheme}://ift.tt/{code}"
            if style == "meta":
                self.meta_refresh(url, target)
            else:
                self.redirect(url, target, int(style))
        return f"https://ift.tt/{code}"

    def tco(self, code: str, target: str, unsafe_wrap: bool = False) -> str:
        """t.co: 301 for non-browser user agents, t.co's JavaScript page for browsers.

        With unsafe_wrap the destination is Twitter's unsafe-link interstitial, which x.com
        serves as a 200 page linking to the real target (see twitter.unsafe_link_page).
        """
        if unsafe_wrap:
            target = "https://twitter.com/safety/unsafe_link_warning?unsafe_link=" + quote(
                target, safe=""
            )
        self.route(f"https://t.co/{code}", lambda req: tco_response(req, target))
        return f"https://t.co/{code}"

    # --- tweets

    def tweet(
        self,
        id: str,
        screen_name: str,
        name: str,
        text: str,
        created_at: datetime,
        media: list[Photo | Video | Gif] | None = None,
        quoted: TweetSpec | None = None,
        syndication: str = "ok",
        fxtwitter: str = "ok",
        graphql: str = "ok",
        pic_style: str = "301",
        media_code: str | None = None,
    ) -> TweetSpec:
        """Register a tweet with every service that would answer for it; see tweets.TweetSpec."""
        spec = TweetSpec.build(
            id,
            screen_name,
            name,
            text,
            created_at,
            list(media or []),
            quoted,
            syndication=syndication,
            fxtwitter=fxtwitter,
            graphql=graphql,
            pic_style=pic_style,
            media_code=media_code,
            cache_dir=self.media_dir,
        )
        self.twitter.register(spec)
        return spec


_chain_ids = itertools.count(1)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def tco_response(request: Request, target: str) -> Response:
    """t.co's two faces: browsers get a page that redirects by script, others a plain 301."""
    if "mozilla" not in request.headers.get("user-agent", "").lower():
        return Response(
            301, {"Location": target, "Content-Length": "0", "Cache-Control": "private,max-age=300"}
        )
    attr = html.escape(target, quote=True)
    # t.co JSON-escapes the script copy of the URL, so slashes appear as "\/"
    script = json.dumps(target).replace("/", "\\/")
    body = (
        f'<head><meta name="referrer" content="always"><noscript><META http-equiv="refresh" '
        f'content="0;URL={attr}"></noscript><title>{html.escape(target)}</title></head>'
        f"<script>window.opener = null; location.replace({script})</script>"
    )
    return html_response(body, headers={"Cache-Control": "private,max-age=300"})
