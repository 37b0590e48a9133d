"""Redirect chains, followed hop by hop (3xx, meta refresh, t.co's script), each hop recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from . import platforms
from .clock import now
from .errors import BadURL, TooLarge
from .links import html_meta_refresh, tweet_ref, unwrap
from .media import HLS_TYPES, may_be_media
from .model import Hop, Resolution, Stop
from .net import Net, NetworkError, Refused, media_type, read_limited, redact, retry_hint
from .urls import join_url

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
    posts: bool = True,
) -> Followed[T]:
    """Follow `url` until it stops leading elsewhere.

    Stops before requesting a tweet status URL or a URL `stop_at` claims. When the chain ends
    on a non-HTML answer, `on_media` gets the open response, so a direct file is downloaded
    by the same request that found it. A hop the address guard refuses ends the chain with
    `Stop.REFUSED` and the reason, a URL no request can be made for (malformed, a redirect to
    data: or javascript:) with `Stop.BAD_URL`; an HTML page larger than `max_article_size`
    with an error. With `posts` False, URLs a platform claims are followed like any other
    (the platform found the URL was not one of its posts).
    """
    max_page = net.settings.max_article_size
    hops: list[Hop] = []
    seen: set[str] = set()
    current = url

    def add(hop: Hop) -> None:
        hops.append(hop)
        # -v: the chain as it is followed, a line per hop (URLs only: no headers, no userinfo)
        status = f"HTTP {hop.status}" if hop.status is not None else "no answer"
        target = f" -> {redact(hop.location)}" if hop.location else ""
        log.debug("hop %d (%s, %s): %s%s", len(hops), hop.via, status, redact(hop.url), target)

    def done(stop: Stop, **kw: object) -> Resolution:
        return Resolution(url=url, hops=tuple(hops), final_url=current, stop=stop, **kw)  # type: ignore[arg-type]

    while True:
        ref = tweet_ref(current)
        if ref is not None:
            return Followed(done(Stop.TWEET, tweet_id=ref[1]))
        if posts and platforms.claims(current) is not None:
            return Followed(done(Stop.POST))
        target = unwrap(current)
        if target is not None:
            add(Hop(current, None, target, now(), via="unwrap"))
            current = target
            continue
        if current in seen:
            return Followed(done(Stop.LOOP, error=f"redirect loop back to {current}"))
        if len(seen) >= max_hops:
            return Followed(done(Stop.HOP_LIMIT, error=f"more than {max_hops} hops"))
        if stop_at(current):
            return Followed(done(Stop.EXTRACTOR))
        seen.add(current)
        started = now()
        try:
            with net.open(current) as response:
                status = response.status_code
                ctype = media_type(response.headers.get("content-type"))
                location = response.headers.get("location")
                if 300 <= status < 400 and location:
                    # A Location urljoin cannot read is kept as it is: its request fails.
                    nxt = join_url(current, location.strip()) or location.strip()
                    add(Hop(current, status, nxt, started))
                    current = nxt
                    continue
                if status >= 400:
                    add(Hop(current, status, None, started))
                    return Followed(
                        done(
                            Stop.HTTP_ERROR,
                            status=status,
                            content_type=ctype,
                            retry_after=retry_hint(response.headers),
                        )
                    )
                if ctype in HTML_TYPES or not ctype:
                    page = read_limited(response, max_page, hint=" (see --max-article-size)")
                    nxt_page = html_meta_refresh(page, current)
                    if nxt_page and nxt_page != current:
                        add(Hop(current, status, nxt_page, started, via="meta"))
                        current = nxt_page
                        continue
                    add(Hop(current, status, None, started))
                    return Followed(done(Stop.FINAL, status=status, content_type=ctype), page=page)
                add(Hop(current, status, None, started))
                final = done(Stop.FINAL, status=status, content_type=ctype)
                # A playlist is not the footage: yt-dlp fetches what it lists.
                footage = ctype not in HLS_TYPES and may_be_media(ctype)
                media = on_media(response) if on_media is not None and footage else None
                return Followed(final, media=media)
        except Refused as e:
            add(Hop(current, None, None, started))
            return Followed(done(Stop.REFUSED, error=str(e)))
        except BadURL as e:
            hops.append(Hop(current, None, None, started))
            return Followed(done(Stop.BAD_URL, error=str(e)))
        except TooLarge as e:
            add(Hop(current, None, None, started))
            return Followed(done(Stop.TOO_LARGE, error=str(e)))
        except NetworkError as e:
            add(Hop(current, None, None, started))
            return Followed(done(Stop.NETWORK_ERROR, error=str(e)))
