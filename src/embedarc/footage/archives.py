"""A tweet gone before anyone looked it up: what web archives captured of it, then its media.

Every live source says the tweet is gone and no earlier lookup names its media, so the
archives are asked what the tweet was, in this order, stopping at the first that knows:

1. Wayback Machine captures of its syndication answer (a CDX prefix query: the captured URL
   carries `&token=…` and other parameters), of fxtwitter / vxtwitter API answers, and of
   its twitter.com status page (before 2023 these carry og:image and the media URLs);
2. the same URLs in the TimeMaps of archive.today and of the user's TimeMap aggregator.

Then each media file: from the live CDN if it is still there, else from a capture of it
(Wayback Machine first: its `id_` captures are the bytes as served), else from a memento.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..errors import FetchFailed, TooLarge
from ..model import Evidence, MediaFile, MediaKind
from ..net import Net, NetworkError
from ..platforms import Post, PostRef, normalise, x
from ..platforms.x import Tweet, TweetMedia
from ..platforms.x import services as twitter
from ..store import Store
from . import memento, wayback

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a captured API answer or status page
TRIES = 3  # captures tried per URL, newest first

_PHOTO_RE = re.compile(
    r"^/media/(?P<key>[A-Za-z0-9_-]+)(?:\.(?P<ext>[a-z0-9]+))?(?::(?P<size>\w+))?$"
)
_THUMB_RE = re.compile(r"^/(?P<kind>ext_tw_video|amplify_video)_thumb/(?P<id>\d+)/")
_GIF_THUMB_RE = re.compile(r"^/tweet_video_thumb/(?P<key>[A-Za-z0-9_-]+)\.")
_DIMS_RE = re.compile(r"/(\d+)x(\d+)/")
_WAYBACK_WRAP_RE = re.compile(r"^https?://web\.archive\.org/web/\d{1,14}[a-z_]*/(.+)$")
# Photo renditions, best first: orig is the upload itself, the rest are downscaled.
_PHOTO_RANK = {"orig": 6, "4096x4096": 5, "large": 4, "": 3, "medium": 3, "900x900": 2}
_PAGE_META = (
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
    "og:video",
    "og:video:url",
    "og:video:secure_url",
    "twitter:player:stream",
)


@dataclass(frozen=True)
class Wanted:
    """A media file the captured tweet names."""

    kind: MediaKind
    url: str  # photo at name=orig, best mp4; for a video known only by its thumbnail, ""
    video_prefix: str | None = None  # video.twimg.com/…/<media id>/: its mp4s are under it


@dataclass(frozen=True)
class Found:
    """What an archive captured of the tweet."""

    tweet: Tweet
    wanted: tuple[Wanted, ...]
    what: str  # "syndication answer", "fxtwitter answer", "vxtwitter answer", "status page"
    provenance: dict[str, Any]  # archive, captured_at, capture_url, original_url
    evidence: Evidence

    def describe(self) -> str:
        p = self.provenance
        when = f"at {p['captured_at']} ({p['capture_url']})"
        return f"{self.what} as captured by {p['archive']} {when}"


@dataclass
class Recovered:
    """What the archives gave for a gone tweet."""

    found: Found | None = None
    files: list[MediaFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: FetchFailed | None = None  # an archive could not answer now: try later

    @property
    def archives(self) -> set[str]:
        return {str(f.archive) for f in self.files if f.archive}

    @property
    def post(self) -> Post | None:
        return x.to_post(self.found.tweet) if self.found is not None else None

    @property
    def evidence(self) -> Evidence | None:
        return self.found.evidence if self.found is not None else None


Stored = Callable[[str, Callable[[], MediaFile]], MediaFile]
Live = Callable[..., MediaFile]


@dataclass
class TweetArchives:
    """Asks the archives about one gone tweet; `stored` and `live` are the run's downloads."""

    net: Net
    store: Store
    sources: list[memento.TimeMapSource]
    stored: Stored
    live: Live
    max_size: int
    max_pixels: int
    result: Recovered = field(default_factory=Recovered)

    def recover(self, tweet_id: str, screen_name: str | None) -> Recovered:
        found = self._find(tweet_id, screen_name)
        self.result.found = found
        if found is None:
            self.result.notes.append("no web archive holds a capture of the tweet")
            return self.result
        self.result.notes.append(found.describe())
        if not found.wanted:
            self.result.notes.append(f"the captured {found.what} shows no media")
        for wanted in found.wanted:
            meta = {
                "post": f"{x.SITE}:{found.tweet.id or tweet_id}",
                "author": f"@{found.tweet.screen_name}" if found.tweet.screen_name else None,
                "kind": wanted.kind,
            }
            got = self._media(wanted, meta)
            if got is not None:
                self.result.files.append(got)
            else:
                self.result.notes.append(f"no capture of {wanted.url or wanted.video_prefix}")
        return self.result

    # -- what the tweet was ---------------------------------------------------------------

    def _find(self, tweet_id: str, screen_name: str | None) -> Found | None:
        steps: list[Callable[[], Found | None]] = [partial(self._wayback_syndication, tweet_id)]
        for service, url in api_urls(tweet_id, screen_name):
            steps.append(partial(self._wayback_api, service, url, tweet_id))
        # Captures of twitter.com pages; x.com pages are a JavaScript shell without the tweet.
        for url in status_urls(tweet_id, screen_name)[:1]:
            steps.append(partial(self._wayback_page, url, tweet_id, screen_name))
        for source in self.sources:
            for url in status_urls(tweet_id, screen_name):
                steps.append(partial(self._memento, source, url, "", tweet_id, screen_name))
            for service, url in api_urls(tweet_id, screen_name):
                steps.append(partial(self._memento, source, url, service, tweet_id, screen_name))
        for step in steps:
            found = self._guarded(step)
            if found is not None:
                return found
        return None

    def _guarded(self, step: Callable[[], Found | None]) -> Found | None:
        try:
            return step()
        except (wayback.WaybackUnavailable, memento.MementoUnavailable) as e:
            self.result.notes.append(str(e))
            self.result.unavailable = self.result.unavailable or e
        except (FetchFailed, NetworkError, TooLarge) as e:
            self.result.notes.append(str(e))
        return None

    def _wayback_syndication(self, tweet_id: str) -> Found | None:
        captures = wayback.find_captures(
            self.net,
            f"{twitter.SYNDICATION_URL.removeprefix('https://')}?id={tweet_id}",
            prefix=True,
            mimetype="application/json",
        )
        captures = [c for c in captures if _query(c.original, "id") == tweet_id]
        for capture in captures[:TRIES]:
            got = wayback.fetch_small(self.net, capture, max_bytes=MAX_ANSWER_BYTES)
            found = _from_answer("syndication", got.content, tweet_id, capture.provenance())
            if found is not None:
                return found
        return None

    def _wayback_api(self, service: str, url: str, tweet_id: str) -> Found | None:
        captures = wayback.find_captures(
            self.net, url.removeprefix("https://"), prefix=True, mimetype="application/json"
        )
        captures = [c for c in captures if _same_path(c.original, url)]
        for capture in captures[:TRIES]:
            got = wayback.fetch_small(self.net, capture, max_bytes=MAX_ANSWER_BYTES)
            found = _from_answer(service, got.content, tweet_id, capture.provenance())
            if found is not None:
                return found
        return None

    def _wayback_page(self, url: str, tweet_id: str, screen_name: str | None) -> Found | None:
        captures = wayback.find_captures(
            self.net, url.removeprefix("https://"), prefix=True, mimetype="text/html"
        )
        captures = [c for c in captures if _same_path(c.original, url)]
        for capture in captures[:TRIES]:
            got = wayback.fetch_small(self.net, capture, max_bytes=MAX_ANSWER_BYTES)
            found = _from_page(got.content, tweet_id, screen_name, capture.provenance())
            if found is not None:
                return found
        return None

    def _memento(
        self,
        source: memento.TimeMapSource,
        url: str,
        service: str,
        tweet_id: str,
        screen_name: str | None,
    ) -> Found | None:
        for entry in memento.timemap(self.net, source, url)[:TRIES]:
            got = memento.fetch_small(self.net, entry, source, max_bytes=MAX_ANSWER_BYTES)
            provenance = entry.provenance(url)
            if "json" in got.content_type or (service and got.content.lstrip()[:1] == b"{"):
                found = _from_answer(service or "syndication", got.content, tweet_id, provenance)
            else:
                found = _from_page(got.content, tweet_id, screen_name, provenance)
            if found is not None:
                return found
        return None

    # -- the media ------------------------------------------------------------------------

    def _media(self, wanted: Wanted, meta: dict[str, Any]) -> MediaFile | None:
        if wanted.url:
            try:
                return self.live(wanted.url, **meta)
            except (FetchFailed, NetworkError, TooLarge) as e:
                self.result.notes.append(f"{wanted.url}: {e}")
        steps: list[Callable[[], MediaFile | None]] = [partial(self._wayback_media, wanted, meta)]
        steps += [partial(self._memento_media, source, wanted, meta) for source in self.sources]
        for step in steps:
            try:
                got = step()
            except (wayback.WaybackUnavailable, memento.MementoUnavailable) as e:
                self.result.notes.append(str(e))
                self.result.unavailable = self.result.unavailable or e
                continue
            except (FetchFailed, NetworkError, TooLarge) as e:
                self.result.notes.append(str(e))
                continue
            if got is not None:
                return got
        return None

    def _wayback_media(self, wanted: Wanted, meta: dict[str, Any]) -> MediaFile | None:
        photo = _photo_key(wanted.url) if wanted.kind is MediaKind.PHOTO else None
        if photo is not None:
            captures = wayback.find_captures(
                self.net, f"pbs.twimg.com/media/{photo[0]}", prefix=True, mimetype="image/.*"
            )
            captures = [c for c in captures if (_photo_key(c.original) or ("",))[0] == photo[0]]
            captures.sort(key=lambda c: (_photo_rank(c.original), c.timestamp), reverse=True)
        else:
            prefix = wanted.video_prefix or wanted.url.split("?", 1)[0]
            captures = wayback.find_captures(
                self.net, prefix.removeprefix("https://"), prefix=True, mimetype="video/mp4"
            )
            if wanted.video_prefix:
                captures.sort(key=lambda c: (_pixels(c.original), c.timestamp), reverse=True)
        problems: list[str] = []
        for capture in captures[:TRIES]:
            try:
                got = self.stored(
                    capture.raw_url,
                    partial(
                        wayback.fetch_capture,
                        self.net,
                        self.store,
                        capture,
                        max_size=self.max_size,
                        max_pixels=self.max_pixels,
                    ),
                )
            except (FetchFailed, NetworkError, TooLarge) as e:
                problems.append(str(e))
                continue
            return replace(got, **capture.provenance(), **meta)
        self.result.notes.extend(problems)
        return None

    def _memento_media(
        self, source: memento.TimeMapSource, wanted: Wanted, meta: dict[str, Any]
    ) -> MediaFile | None:
        for url in media_variants(wanted):
            for entry in memento.timemap(self.net, source, url)[:TRIES]:
                try:
                    got = self.stored(
                        entry.uri,
                        partial(
                            memento.fetch_media,
                            self.net,
                            self.store,
                            entry,
                            source,
                            max_size=self.max_size,
                            max_pixels=self.max_pixels,
                        ),
                    )
                except (FetchFailed, NetworkError, TooLarge) as e:
                    self.result.notes.append(str(e))
                    continue
                return replace(got, **entry.provenance(url), **meta)
        return None


# --- the URLs archives may hold ----------------------------------------------------------------


def status_urls(tweet_id: str, screen_name: str | None) -> list[str]:
    """The status page URLs captures of the tweet are filed under."""
    if screen_name:
        return [
            f"https://twitter.com/{screen_name}/status/{tweet_id}",
            f"https://x.com/{screen_name}/status/{tweet_id}",
        ]
    return [f"https://twitter.com/i/web/status/{tweet_id}"]


def api_urls(tweet_id: str, screen_name: str | None) -> list[tuple[str, str]]:
    """(service, URL) of the community APIs' answers for the tweet."""
    found = []
    for service, host in (("fxtwitter", "api.fxtwitter.com"), ("vxtwitter", "api.vxtwitter.com")):
        if screen_name:
            found.append((service, f"https://{host}/{screen_name}/status/{tweet_id}"))
        found.append((service, f"https://{host}/status/{tweet_id}"))
    return found


def media_variants(wanted: Wanted) -> list[str]:
    """The spellings a media URL may have been captured under, best first."""
    if not wanted.url:
        return []
    photo = _photo_key(wanted.url) if wanted.kind is MediaKind.PHOTO else None
    if photo is None:
        return [wanted.url.split("?", 1)[0]] + ([wanted.url] if "?" in wanted.url else [])
    key, ext = photo
    base = f"https://pbs.twimg.com/media/{key}"
    return [
        f"{base}.{ext}?name=orig",
        f"{base}?format={ext}&name=orig",
        f"{base}.{ext}:orig",
        f"{base}.{ext}:large",
        f"{base}.{ext}",
    ]


def _query(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def _same_path(captured: str, wanted: str) -> bool:
    """Whether a capture (found by prefix) is of `wanted` itself, whatever its query."""
    have = urlsplit(captured if "://" in captured else f"https://{captured}")
    want = urlsplit(wanted)
    host = (have.hostname or "").lower().removeprefix("www.")
    return (
        host == (want.hostname or "").lower()
        and have.path.rstrip("/").lower() == want.path.rstrip("/").lower()
    )


def _photo_key(url: str) -> tuple[str, str] | None:
    """(media key, extension) of a pbs.twimg.com/media/ URL in any of its spellings."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != "pbs.twimg.com":
        return None
    match = _PHOTO_RE.match(parts.path)
    if match is None:
        return None
    ext = match["ext"] or _query(url, "format") or "jpg"
    return match["key"], "jpg" if ext == "jpeg" else ext


def _photo_rank(url: str) -> int:
    match = _PHOTO_RE.match(urlsplit(url).path)
    name = _query(url, "name") or (match["size"] if match and match["size"] else "")
    return _PHOTO_RANK.get(name, 1)


def _pixels(url: str) -> int:
    match = _DIMS_RE.search(url)
    return int(match[1]) * int(match[2]) if match else 0


# --- reading what was captured -----------------------------------------------------------------


def _from_answer(
    service: str, content: bytes, tweet_id: str, provenance: dict[str, Any]
) -> Found | None:
    """The tweet in a captured API answer; None for a tombstone, an error or another shape."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        if service == "syndication":
            if data.get("__typename") == "TweetTombstone" or not data.get("id_str"):
                return None
            tweet = twitter.parse_syndication(data)
        elif service == "fxtwitter":
            if data.get("code") != 200 or not isinstance(data.get("tweet"), dict):
                return None
            tweet = twitter.parse_fxtwitter(data["tweet"])
        else:
            if not data.get("tweetID"):
                return None
            tweet = parse_vxtwitter(data)
    except (AttributeError, TypeError, ValueError, KeyError) as e:
        log.info("captured %s answer of an unexpected shape: %s", service, e)
        return None
    if tweet.id and tweet.id != tweet_id:
        return None
    tweet = replace(tweet, id=tweet_id, source=f"{service} ({provenance['archive']})")
    wanted = tuple(Wanted(m.kind, m.url) for _, m in tweet.all_media())
    evidence = Evidence(f"{tweet_id}.archived.{service}.json", content)
    return Found(tweet, wanted, f"{service} answer", provenance, evidence)


def parse_vxtwitter(data: dict[str, Any]) -> Tweet:
    """vxtwitter's API answer: `media_extended` items with url, type (image|video|gif), size."""
    media: list[TweetMedia] = []
    for item in data.get("media_extended") or []:
        url, kind = item.get("url"), item.get("type")
        size = item.get("size") or {}
        if not url:
            continue
        if kind == "image":
            media.append(
                TweetMedia(MediaKind.PHOTO, normalise(url), size.get("width"), size.get("height"))
            )
        elif kind in ("video", "gif"):
            millis = item.get("duration_millis")
            media.append(
                TweetMedia(
                    MediaKind.GIF if kind == "gif" else MediaKind.VIDEO,
                    url,
                    size.get("width"),
                    size.get("height"),
                    millis / 1000 if millis else None,
                )
            )
    if not media:
        for url in data.get("mediaURLs") or []:
            wanted = _classify(str(url))
            if wanted is not None and wanted.url:
                media.append(TweetMedia(wanted.kind, wanted.url))
    return Tweet(
        id=str(data.get("tweetID") or ""),
        screen_name=data.get("user_screen_name"),
        name=data.get("user_name"),
        text=data.get("text") or "",
        created_at=twitter._iso(data.get("date")),
        media=tuple(media),
        source="vxtwitter",
    )


def _from_page(
    content: bytes, tweet_id: str, screen_name: str | None, provenance: dict[str, Any]
) -> Found | None:
    """The media a captured status page names (pre-2023 pages carry them in og: tags)."""
    tree = LexborHTMLParser(content.decode("utf-8", "replace"))
    urls: list[str] = []
    text = ""
    for node in tree.css("meta[content]"):
        name = str(node.attributes.get("property") or node.attributes.get("name") or "").lower()
        value = str(node.attributes.get("content") or "")
        if name in _PAGE_META:
            urls.append(value)
        elif name in ("og:description", "twitter:description") and not text:
            text = value.strip().removeprefix("“").removesuffix("”")
    for node in tree.css(".permalink-tweet [data-image-url]"):
        urls.append(str(node.attributes.get("data-image-url") or ""))
    wanted: dict[str, Wanted] = {}
    for url in urls:
        found = _classify(url)
        if found is not None:
            wanted.setdefault(found.url or found.video_prefix or "", found)
    if not wanted:
        return None
    media = tuple(TweetMedia(w.kind, w.url or w.video_prefix or "") for w in wanted.values())
    tweet = Tweet(
        id=tweet_id,
        screen_name=screen_name,
        name=None,
        text=text,
        created_at=None,
        media=media,
        source=f"status page ({provenance['archive']})",
    )
    evidence = Evidence(f"{tweet_id}.archived.status.html", content)
    return Found(tweet, tuple(wanted.values()), "status page", provenance, evidence)


def _classify(url: str) -> Wanted | None:
    """A tweet media file from a URL a page or answer names; None for avatars and the rest."""
    url = url.strip()
    wrapped = _WAYBACK_WRAP_RE.match(url)
    if wrapped:  # rewritten by the archive to its own replay of the file
        url = wrapped[1]
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "pbs.twimg.com":
        if _photo_key(url) is not None:
            return Wanted(MediaKind.PHOTO, normalise(url))
        if thumb := _THUMB_RE.match(parts.path):
            prefix = f"https://video.twimg.com/{thumb['kind']}/{thumb['id']}/"
            return Wanted(MediaKind.VIDEO, "", video_prefix=prefix)
        if gif := _GIF_THUMB_RE.match(parts.path):
            return Wanted(MediaKind.GIF, f"https://video.twimg.com/tweet_video/{gif['key']}.mp4")
        return None
    if host == "video.twimg.com" and parts.path.endswith(".mp4"):
        kind = MediaKind.GIF if parts.path.startswith("/tweet_video/") else MediaKind.VIDEO
        return Wanted(kind, f"https://video.twimg.com{parts.path}")
    return None


def _recover_tweet(archives: TweetArchives, ref: PostRef) -> Recovered:
    return archives.recover(ref.id, x.screen_name(ref))


# What web archives hold of a gone post, by site: the sites whose answers and pages
# archives capture in a shape worth reading back.
RECOVERERS: dict[str, Callable[[TweetArchives, PostRef], Recovered]] = {x.SITE: _recover_tweet}
