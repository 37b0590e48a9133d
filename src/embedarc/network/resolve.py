"""Redirect chains, followed hop by hop (3xx, meta refresh, t.co's script), each hop recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from .. import platforms
from ..clock import now
from ..errors import BadURL, TooLarge
from ..keeping.media import HLS_TYPES, may_be_media
from ..model import Hop, Resolution, Stop, Via
from ..reading.links import html_meta_refresh, unwrap
from ..reading.urls import join_url
from .net import Net, NetworkError, Refused, media_type, read_limited, redact, retry_hint

log = logging.getLogger(__name__)

T = TypeVar("T")

HTML_TYPES = {"text/html", "application/xhtml+xml"}


@dataclass(frozen=True)
class Followed(Generic[T]):
    """A resolution, with the final page's bytes when it was HTML, or what `on_media` returned."""

    resolution: Resolution
    page: bytes | None = None
    media: T | None = None


def resolve(
    net: Net,
    url: str,
    *,
    max_hops: int,
    stop_at: Callable[[str], bool] = lambda _url: False,
    on_media: Callable[[httpx.Response], T] | None = None,
    skip_site: str | None = None,
) -> Followed[T]:
    """Follow `url` until it stops leading elsewhere.

    Stops before requesting a URL a platform claims as a post, or one `stop_at` claims. When
    the chain ends on a non-HTML answer, `on_media` gets the open response, so a direct file
    is downloaded by the same request that found it. A hop the address guard refuses ends the
    chain with `Stop.REFUSED` and the reason, a URL no request can be made for (malformed, a
    redirect to data: or javascript:) with `Stop.BAD_URL`; an HTML page larger than
    `max_article_size` with an error. URLs the platform `skip_site` claims are followed like
    any other (it found the URL was not one of its posts).
    """
    chain = _Chain(url)
    while True:
        stop = chain.stop_before(max_hops=max_hops, stop_at=stop_at, skip_site=skip_site)
        if stop is not None:
            return Followed(stop)
        started = now()
        try:
            with net.open(chain.current) as response:
                answer = chain.answer(response, started, net.settings.max_article_size)
                if answer is None:
                    continue  # it led somewhere else: follow it
                resolution, page = answer
                if page is not None or resolution.stop is not Stop.FINAL:
                    return Followed(resolution, page=page)
                # A playlist is not the footage: yt-dlp fetches what it lists.
                ctype = resolution.content_type or ""
                footage = ctype not in HLS_TYPES and may_be_media(ctype)
                media = on_media(response) if on_media is not None and footage else None
                return Followed(resolution, media=media)
        except (Refused, BadURL, TooLarge, NetworkError) as e:
            return Followed(chain.failed(e, started))


class _Chain:
    """A chain of hops being followed: where it is, where it has been."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.current = url
        self.hops: list[Hop] = []
        self.seen: set[str] = set()

    def add(self, hop: Hop) -> None:
        self.hops.append(hop)
        # -v: the chain as it is followed, a line per hop (URLs only: no headers, no userinfo)
        status = f"HTTP {hop.status}" if hop.status is not None else "no answer"
        target = f" -> {redact(hop.location)}" if hop.location else ""
        log.debug("hop %d (%s, %s): %s%s", len(self.hops), hop.via, status, redact(hop.url), target)

    def done(self, stop: Stop, **kw: Any) -> Resolution:
        return Resolution(
            url=self.url, hops=tuple(self.hops), final_url=self.current, stop=stop, **kw
        )

    def stop_before(
        self, *, max_hops: int, stop_at: Callable[[str], bool], skip_site: str | None
    ) -> Resolution | None:
        """Where the chain ends without a request to its current URL, or None to ask it.

        Unwrapping an interstitial is a hop made here, without a request.
        """
        while True:
            current = self.current
            ref = platforms.claims(current)
            if ref is not None and ref.site != skip_site:
                return self.done(Stop.POST)
            target = unwrap(current)
            if target is None:
                break
            # Made without a request, still a hop: interstitials nested in one another
            # without end would each be recorded, with its ever so long URL.
            if len(self.hops) >= max_hops:
                return self.done(Stop.HOP_LIMIT, error=f"more than {max_hops} hops")
            self.add(Hop(current, None, target, now(), via=Via.UNWRAP))
            self.current = target
        if current in self.seen:
            return self.done(Stop.LOOP, error=f"redirect loop back to {current}")
        if len(self.seen) >= max_hops:
            return self.done(Stop.HOP_LIMIT, error=f"more than {max_hops} hops")
        if stop_at(current):
            return self.done(Stop.EXTRACTOR)
        self.seen.add(current)
        return None

    def answer(
        self, response: httpx.Response, started: str, max_page: int
    ) -> tuple[Resolution, bytes | None] | None:
        """What an answer means: None when it leads elsewhere (the chain moved on), else the
        resolution and, for an HTML page, its bytes."""
        current = self.current
        status = response.status_code
        ctype = media_type(response.headers.get("content-type"))
        location = response.headers.get("location")
        if 300 <= status < 400 and location:
            # A Location urljoin cannot read is kept as it is: its request fails.
            nxt = join_url(current, location.strip()) or location.strip()
            self.add(Hop(current, status, nxt, started))
            self.current = nxt
            return None
        if status >= 400:
            self.add(Hop(current, status, None, started))
            retry_after = retry_hint(response.headers)
            error = self.done(
                Stop.HTTP_ERROR, status=status, content_type=ctype, retry_after=retry_after
            )
            return error, None
        if ctype in HTML_TYPES or not ctype:
            page = read_limited(response, max_page, hint=" (see --max-article-size)")
            nxt_page = html_meta_refresh(page, current)
            if nxt_page and nxt_page != current:
                self.add(Hop(current, status, nxt_page, started, via=Via.META))
                self.current = nxt_page
                return None
            self.add(Hop(current, status, None, started))
            return self.done(Stop.FINAL, status=status, content_type=ctype), page
        self.add(Hop(current, status, None, started))
        return self.done(Stop.FINAL, status=status, content_type=ctype), None

    def failed(self, error: Exception, started: str) -> Resolution:
        """The chain ends on a request that got no usable answer."""
        hop = Hop(self.current, None, None, started)
        if isinstance(error, BadURL):
            self.hops.append(hop)  # not logged: the URL may be any length of junk
            return self.done(Stop.BAD_URL, error=str(error))
        self.add(hop)
        if isinstance(error, Refused):
            stop = Stop.REFUSED
        elif isinstance(error, TooLarge):
            stop = Stop.TOO_LARGE
        else:
            stop = Stop.NETWORK_ERROR
        return self.done(stop, error=str(error))
