"""A yt-dlp request handler that sends through `Net`, so yt-dlp obeys the same proxy, CA,
limits and guards as embedarc's own requests, and no other handler is ever used."""

from __future__ import annotations

import contextlib
import functools
import io
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx

from ..errors import AnswerTooLarge
from ..network.net import ANSWER_LIMIT, Net, NetworkError, Refused
from ..reading.urls import redact
from . import ytdlp_guard

ERROR_BODY_LIMIT = 1024 * 1024  # of an error page kept for yt-dlp to read
READ_BLOCK = 64 * 1024  # how much of an answer read whole is taken at a time


class _Chunks(io.RawIOBase):
    """A file-like view of an httpx body stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _CookieSource:
    """What http.cookiejar reads Set-Cookie from: an object whose info() gives the headers."""

    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def info(self) -> Any:
        return self._headers


class _Items:
    """Lets yt-dlp's Response keep repeated headers (several Set-Cookie lines)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return self._items


_import_lock = threading.Lock()


def load_ytdlp() -> None:
    """Import yt-dlp once, under a lock: threads importing it at the same moment can get a
    half-initialised module ("partially initialized module 'yt_dlp.extractor'")."""
    with _import_lock:
        import yt_dlp
        import yt_dlp.extractor  # noqa: F401


@functools.cache
def youtube_dl_class() -> Any:
    """Build (once) a YoutubeDL subclass whose only request handler is Net-backed, and that
    downloads only what that handler can fetch (see ytdlp_guard)."""
    load_ytdlp()
    ytdlp_guard.install()
    from yt_dlp import YoutubeDL
    from yt_dlp.networking.common import Features, RequestHandler, Response
    from yt_dlp.networking.exceptions import HTTPError, TransportError

    class NetResponse(Response):  # type: ignore[misc]
        def __init__(self, response: httpx.Response, stack: contextlib.ExitStack) -> None:
            self._stack = stack
            headers = list(response.headers.multi_items())
            if response.headers.get("content-encoding", "identity") != "identity":
                # httpx decodes the body; the lengths and encoding no longer describe it.
                drop = {"content-encoding", "content-length"}
                headers = [(k, v) for k, v in headers if k.lower() not in drop]
            body = io.BufferedReader(_Chunks(response.iter_bytes()))
            super().__init__(
                fp=body, url=str(response.url), headers=_Items(headers), status=response.status_code
            )

        def read(self, amt: int | None = None) -> bytes:
            try:
                whole = amt is None or amt < 0
                # In blocks (amt): a media download, bounded by --max-file-size (limit_hook).
                data = self._read_whole() if whole else bytes(self.fp.read(amt))
            except (httpx.HTTPError, NetworkError) as e:
                self.close()
                raise TransportError(cause=e) from e
            if not data or whole:
                # Read to the end: give the connection and its slot back now. Extractors
                # seldom close what they read, and a slot held until garbage collection
                # stalls every other request to the host.
                self.close()
            return data

        def _read_whole(self) -> bytes:
            """The rest of a page or API answer, held in memory like Net.fetch's: at most
            ANSWER_LIMIT bytes, counted decoded, so a gzip bomb is cut off, not inflated."""
            blocks: list[bytes] = []
            size = 0
            while block := self.fp.read1(READ_BLOCK):
                size += len(block)
                if size > ANSWER_LIMIT:
                    raise AnswerTooLarge(
                        f"{redact(self.url)}: answer larger than {ANSWER_LIMIT} bytes"
                    )
                blocks.append(bytes(block))
            return b"".join(blocks)

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._stack.close()

    class EmbedarcNetRH(RequestHandler):  # type: ignore[misc]
        _SUPPORTED_URL_SCHEMES = ("http", "https")
        _SUPPORTED_PROXY_SCHEMES = None  # proxies are Net's business, not yt-dlp's
        _SUPPORTED_FEATURES = (Features.NO_PROXY, Features.ALL_PROXY)

        def __init__(self, *, net: Net, refusals: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.net = net
            self.refusals = refusals  # what the guard refused, for the caller's outcome

        def _check_extensions(self, extensions: dict[str, Any]) -> None:
            super()._check_extensions(extensions)
            for known in ("cookiejar", "timeout", "legacy_ssl", "keep_header_casing"):
                extensions.pop(known, None)

        def _send(self, request: Any) -> Any:
            headers = self._get_headers(request)
            jar = self._get_cookiejar(request)
            probe = urllib.request.Request(request.url, headers=headers)
            jar.add_cookie_header(probe)
            cookie = probe.get_header("Cookie") or probe.unredirected_hdrs.get("Cookie")
            if cookie:
                headers["Cookie"] = cookie
            data = request.data
            if data is not None and not isinstance(data, bytes):
                data = data.read() if hasattr(data, "read") else b"".join(data)
            stack = contextlib.ExitStack()
            try:
                response = stack.enter_context(
                    self.net.open(
                        request.url,
                        method=request.method,
                        headers=headers,
                        content=data,
                        follow_redirects=True,
                    )
                )
            except Refused as e:
                stack.close()
                self.refusals.append(str(e))
                raise TransportError(cause=e) from e
            except NetworkError as e:
                stack.close()
                raise TransportError(cause=e) from e
            except BaseException:
                stack.close()
                raise
            result = NetResponse(response, stack)
            jar.extract_cookies(_CookieSource(result.headers), probe)
            if not 200 <= result.status < 300:
                # Read the (small) error page and let go of the connection slot now: yt-dlp
                # does not always close the responses it gets inside an HTTPError.
                try:
                    body = result.read(ERROR_BODY_LIMIT)
                finally:
                    result.close()
                headers = _Items(list(response.headers.multi_items()))
                raise HTTPError(Response(io.BytesIO(body), result.url, headers, result.status))
            return result

    class EmbedarcYoutubeDL(YoutubeDL):  # type: ignore[misc]
        def __init__(
            self, params: dict[str, Any], *, net: Net, refusals: list[str] | None = None
        ) -> None:
            self._net = net
            self._refusals = [] if refusals is None else refusals
            super().__init__(params)

        @functools.cached_property
        def _request_director(self) -> Any:
            handler = functools.partial(EmbedarcNetRH, net=self._net, refusals=self._refusals)
            return self.build_request_director([handler])

        def process_video_result(self, info_dict: dict[str, Any], download: bool = True) -> Any:
            ytdlp_guard.keep_fetchable_formats(info_dict, self.params)
            return super().process_video_result(info_dict, download)

        def dl(
            self, name: str, info: dict[str, Any], subtitle: bool = False, test: bool = False
        ) -> Any:
            checked = ytdlp_guard.check_download(self, info, to_stdout=name == "-")
            return super().dl(name, checked, subtitle, test)

    return EmbedarcYoutubeDL
