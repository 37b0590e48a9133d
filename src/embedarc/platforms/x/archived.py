"""A tweet gone before anyone looked it up, as web archives captured it: where, and how to read.

Captures of a tweet are looked for in this order (footage/archives.py asks):

1. the Wayback Machine's captures of its syndication answer (found by prefix: the captured
   URL carries `&token=…` and other parameters), of fxtwitter / vxtwitter API answers, and of
   its twitter.com status page (before 2023 these carry og:image and the media URLs);
2. the status pages and API answers in each TimeMap (archive.today, the user's aggregator).

Each media file a capture names is wanted as X's CDNs served it: a photo by its media key at
its best rendition, a video by its mp4 or, known only by its thumbnail, by the folder of
video.twimg.com its mp4s are under. Everything here is pure: no network.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ...model import Evidence, MediaKind
from ..captures import ArchivedForms, ArchivedPost, CaptureTarget, WantedMedia
from . import services, to_post
from .tweet import MAX_MEDIA, Tweet, TweetMedia
from .urls import media_url, on_media_host

log = logging.getLogger(__name__)

_PHOTO_RE = re.compile(
    r"^/media/(?P<key>[A-Za-z0-9_-]+)(?:\.(?P<ext>[a-z0-9]+))?(?::(?P<size>\w+))?$"
)
_THUMB_RE = re.compile(r"^/(?P<kind>ext_tw_video|amplify_video)_thumb/(?P<id>\d+)/")
_GIF_THUMB_RE = re.compile(r"^/tweet_video_thumb/(?P<key>[A-Za-z0-9_-]+)\.")
# A rendition's width x height: a longer number is no video's, and past 4,300 digits int()
# refuses it.
_DIMS_RE = re.compile(r"/(\d{1,6})x(\d{1,6})/")
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


def archived_forms(tweet_id: str, screen_name: str | None) -> ArchivedForms:
    """Where archives may hold captures of the tweet, in the order to try them."""
    wayback = [
        CaptureTarget(
            f"{services.SYNDICATION_URL}?id={tweet_id}",
            partial(_read_answer, "syndication", tweet_id),
            "application/json",
            partial(_answers_for, tweet_id),
        )
    ]
    for service, url in api_urls(tweet_id, screen_name):
        wayback.append(
            CaptureTarget(
                url,
                partial(_read_answer, service, tweet_id),
                "application/json",
                partial(_same_path, wanted=url),
            )
        )
    # Captures of twitter.com pages; x.com pages are a JavaScript shell without the tweet.
    for url in status_urls(tweet_id, screen_name)[:1]:
        wayback.append(
            CaptureTarget(
                url,
                partial(_read_page, tweet_id, screen_name),
                "text/html",
                partial(_same_path, wanted=url),
            )
        )
    timemaps = [
        CaptureTarget(url, partial(_read_either, "", tweet_id, screen_name))
        for url in status_urls(tweet_id, screen_name)
    ]
    timemaps += [
        CaptureTarget(url, partial(_read_either, service, tweet_id, screen_name))
        for service, url in api_urls(tweet_id, screen_name)
    ]
    return ArchivedForms(tuple(wayback), tuple(timemaps))


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


def wanted_media(kind: MediaKind, url: str, video_prefix: str | None = None) -> WantedMedia:
    """A media file a capture names (`url` "" for a video known only by its folder, the
    `video_prefix` of video.twimg.com its mp4s are under), and where its captures are."""
    photo = _photo_key(url) if kind is MediaKind.PHOTO else None
    variants = tuple(media_variants(kind, url))
    if photo is not None:
        return WantedMedia(
            kind,
            url,
            f"https://pbs.twimg.com/media/{photo[0]}",
            "image/.*",
            keep=partial(_is_photo, photo[0]),
            rank=_photo_rank,
            variants=variants,
        )
    prefix = video_prefix or url.split("?", 1)[0]
    if video_prefix:  # every size of the video is under it: the largest first
        return WantedMedia(kind, url, prefix, "video/mp4", rank=_pixels, variants=variants)
    # The file itself, whatever its query: a capture of another file under the same beginning
    # (an answer naming "https://video.twimg.com/" names every video) is not this one.
    same = partial(_same_path, wanted=prefix)
    return WantedMedia(kind, url, prefix, "video/mp4", keep=same, variants=variants)


def media_variants(kind: MediaKind, url: str) -> list[str]:
    """The spellings a media URL may have been captured under, best first."""
    if not url:
        return []
    photo = _photo_key(url) if kind is MediaKind.PHOTO else None
    if photo is None:
        return [url.split("?", 1)[0]] + ([url] if "?" in url else [])
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


def _answers_for(tweet_id: str, captured: str) -> bool:
    """Whether a capture found by prefix is the syndication answer for this tweet itself."""
    return _query(captured, "id") == tweet_id


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


def _is_photo(key: str, captured: str) -> bool:
    return (_photo_key(captured) or ("",))[0] == key


def _photo_rank(url: str) -> int:
    match = _PHOTO_RE.match(urlsplit(url).path)
    name = _query(url, "name") or (match["size"] if match and match["size"] else "")
    return _PHOTO_RANK.get(name, 1)


def _pixels(url: str) -> int:
    match = _DIMS_RE.search(url)
    return int(match[1]) * int(match[2]) if match else 0


# --- reading what was captured -----------------------------------------------------------------


def _read_answer(
    service: str, tweet_id: str, content: bytes, content_type: str, archive: str
) -> ArchivedPost | None:
    return from_answer(service, content, tweet_id, archive)


def _read_page(
    tweet_id: str, screen_name: str | None, content: bytes, content_type: str, archive: str
) -> ArchivedPost | None:
    return from_page(content, tweet_id, screen_name, archive)


def _read_either(
    service: str,
    tweet_id: str,
    screen_name: str | None,
    content: bytes,
    content_type: str,
    archive: str,
) -> ArchivedPost | None:
    """A memento of an API's answer or of a status page: which one, its type or body says."""
    if "json" in content_type or (service and content.lstrip()[:1] == b"{"):
        return from_answer(service or "syndication", content, tweet_id, archive)
    return from_page(content, tweet_id, screen_name, archive)


def from_answer(service: str, content: bytes, tweet_id: str, archive: str) -> ArchivedPost | None:
    """The tweet in a captured API answer; None for a tombstone, an error or another shape."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # nested past Python's limit: hostile, not a bug
        return None
    if not isinstance(data, dict):
        return None
    try:
        if service == "syndication":
            if data.get("__typename") == "TweetTombstone" or not data.get("id_str"):
                return None
            tweet = services.parse_syndication(data)
        elif service == "fxtwitter":
            if data.get("code") != 200 or not isinstance(data.get("tweet"), dict):
                return None
            tweet = services.parse_fxtwitter(data["tweet"])
        else:
            if not data.get("tweetID"):
                return None
            tweet = parse_vxtwitter(data)
    except (AttributeError, TypeError, ValueError, KeyError) as e:
        log.info("captured %s answer of an unexpected shape: %s", service, e)
        return None
    if tweet.id and tweet.id != tweet_id:
        return None
    tweet = replace(tweet, id=tweet_id, source=f"{service} ({archive})")
    # Only X's own files: an archive's copy may name any host, and asking it would tell that
    # host who archives the tweet, and keep whatever it served as the tweet's footage.
    named = [m for _, m in tweet.all_media()[:MAX_MEDIA] if on_media_host(m.url)]
    wanted = tuple(wanted_media(m.kind, m.url) for m in named)
    evidence = Evidence(f"{tweet_id}.archived.{service}.json", content)
    return ArchivedPost(to_post(tweet), wanted, f"{service} answer", evidence)


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
                TweetMedia(MediaKind.PHOTO, media_url(url), size.get("width"), size.get("height"))
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
        created_at=services._iso(data.get("date")),
        media=tuple(media),
        source="vxtwitter",
    )


def from_page(
    content: bytes, tweet_id: str, screen_name: str | None, archive: str
) -> ArchivedPost | None:
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
    wanted: dict[str, WantedMedia] = {}
    for url in urls:
        found = _classify(url)
        if found is not None:
            wanted.setdefault(found.url or found.prefix, found)
    if not wanted:
        return None
    kept = list(wanted.values())[:MAX_MEDIA]
    media = tuple(TweetMedia(w.kind, w.url or w.prefix) for w in kept)
    tweet = Tweet(
        id=tweet_id,
        screen_name=screen_name,
        name=None,
        text=text,
        created_at=None,
        media=media,
        source=f"status page ({archive})",
    )
    evidence = Evidence(f"{tweet_id}.archived.status.html", content)
    return ArchivedPost(to_post(tweet), tuple(kept), "status page", evidence)


def _classify(url: str) -> WantedMedia | None:
    """A tweet media file from a URL a page or answer names; None for avatars and the rest."""
    url = url.strip()
    wrapped = _WAYBACK_WRAP_RE.match(url)
    if wrapped:  # rewritten by the archive to its own replay of the file
        url = wrapped[1]
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host == "pbs.twimg.com":
        if _photo_key(url) is not None:
            return wanted_media(MediaKind.PHOTO, media_url(url))
        if thumb := _THUMB_RE.match(parts.path):
            prefix = f"https://video.twimg.com/{thumb['kind']}/{thumb['id']}/"
            return wanted_media(MediaKind.VIDEO, "", video_prefix=prefix)
        if gif := _GIF_THUMB_RE.match(parts.path):
            mp4 = f"https://video.twimg.com/tweet_video/{gif['key']}.mp4"
            return wanted_media(MediaKind.GIF, mp4)
        return None
    if host == "video.twimg.com" and parts.path.endswith(".mp4"):
        kind = MediaKind.GIF if parts.path.startswith("/tweet_video/") else MediaKind.VIDEO
        return wanted_media(kind, f"https://video.twimg.com{parts.path}")
    return None
