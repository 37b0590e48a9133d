"""The plain data every stage shares.

Stages pass these frozen dataclasses to each other; nothing here does I/O.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    """The one state every link ends in."""

    ARCHIVED = "archived"
    ARCHIVED_FROM_WAYBACK = "archived_from_wayback"
    # From another web archive (archive.today, one a TimeMap aggregator found): the media
    # records name which, with the capture's time and URL.
    ARCHIVED_FROM_WEB_ARCHIVE = "archived_from_web_archive"
    GONE = "gone"
    LOGIN_REQUIRED = "login_required"
    NO_MEDIA = "no_media"
    REFUSED = "refused"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    FAILED_PERMANENTLY = "failed_permanently"

    @property
    def is_final(self) -> bool:
        """Whether trying again later could change the answer."""
        return self is not Outcome.FAILED

    @classmethod
    def for_http_status(cls, status: int) -> Outcome:
        """What an error status for a page or file says: gone, login required, or try later."""
        if status in (401, 403, 407):
            return cls.LOGIN_REQUIRED
        if status in (408, 425, 429) or status >= 500:
            return cls.FAILED
        return cls.GONE  # 404, 410, 451 and the other client errors


class Failure(enum.StrEnum):
    """What kind of failure a `failed` outcome was, told by where it happened, never read
    back out of a reason's text."""

    RATE_LIMITED = "rate_limited"  # HTTP 429, or a service's own "slow down"
    SERVER_ERROR = "server_error"  # HTTP 5xx
    HTTP_ERROR = "http_error"  # another HTTP status that may change (403 from a CDN, say)
    NETWORK = "network"  # no answer: refused, reset, timed out, TLS
    BAD_ANSWER = "bad_answer"  # an answer of a shape that said nothing usable
    OTHER = "other"  # interrupted, or embedarc's own error

    @classmethod
    def for_status(cls, status: int | None) -> Failure:
        if status is None:
            return cls.NETWORK
        if status == 429:
            return cls.RATE_LIMITED
        return cls.SERVER_ERROR if status >= 500 else cls.HTTP_ERROR


class LinkKind(enum.StrEnum):
    """Where and how a link was found."""

    URL = "url"  # a plain http(s) URL in text or an <a href>
    PIC_TWITTER = "pic_twitter"  # pic.twitter.com/<code>
    TCO = "tco"  # t.co/<code>
    IFTTT = "ifttt"  # ift.tt/<code>
    TWEET = "tweet"  # (twitter|x).com/<user>/status/<id>
    TWEET_EMBED = "tweet_embed"  # <blockquote class="twitter-tweet">
    VIDEO = "video"  # <video src> / <source src>
    IFRAME = "iframe"  # <iframe src> of a player
    OG_VIDEO = "og_video"  # <meta property="og:video">
    ORIGIN = "origin"  # the article's "via" link / ift.tt footer: leads to the original article
    POST = "post"  # a post on a registered platform (Bluesky, Telegram, Mastodon, ...)
    POST_EMBED = "post_embed"  # a platform's embed element in an article's HTML
    PLATFORM_EMBED = "platform_embed"  # an Instagram/TikTok/Reddit/Facebook embed for yt-dlp


class FoundIn(enum.StrEnum):
    """Where in an article a link was found."""

    ARTICLE = "article"
    ORIGIN = "origin"  # the original page the article's "via" link led to


@dataclass(frozen=True)
class Link:
    """A link found in an article, normalised."""

    url: str
    kind: LinkKind
    raw: str = ""  # as it appeared in the input
    found_in: FoundIn = FoundIn.ARTICLE
    attribution: str | None = None  # "— Name (@handle) date" of an embedded tweet
    post: str | None = None  # "site:id" when the URL itself names a platform's post


@dataclass(frozen=True)
class Article:
    """An article as read from its source, before anything is fetched for it."""

    source: str  # path, URL or "-" as given by the user
    raw: bytes  # the original bytes, kept as they came
    media_type: str  # "text/plain" or "text/html"
    title: str
    text: str  # the body as plain text
    links: tuple[Link, ...] = ()
    canonical_url: str | None = None
    published: str | None = None  # ISO 8601 when known
    origin_name: str | None = None  # "ZeroHedge News" from "via ZeroHedge News <url>"
    origin_url: str | None = None  # the "via" link, unresolved
    links_skipped: int = 0  # links found past the cap (--max-links), neither kept nor followed

    @functools.cached_property
    def content_sha256(self) -> str:
        """The SHA-256 of the original bytes, taken once however many stages ask."""
        return hashlib.sha256(self.raw).hexdigest()


class Via(enum.StrEnum):
    """How a hop pointed to the next."""

    HTTP = "http"  # a 3xx answer's Location
    META = "meta"  # a page's meta refresh
    JS = "js"  # a page's location.replace(…)
    UNWRAP = "unwrap"  # an interstitial's target, read from its URL without a request


@dataclass(frozen=True)
class Hop:
    """One step of a redirect chain, as it happened."""

    url: str
    status: int | None  # None when no HTTP answer came (network error)
    location: str | None  # where it pointed next
    time: str  # UTC, ISO 8601
    via: Via = Via.HTTP


class Stop(enum.StrEnum):
    """Why resolution stopped where it did."""

    FINAL = "final"  # a page or file that leads nowhere else
    TWEET = "tweet"  # a tweet status URL, as releases before tweets were posts recorded it
    POST = "post"  # a post a registered platform claims: its API says the rest
    EXTRACTOR = "extractor"  # a URL yt-dlp has a dedicated extractor for
    LOOP = "loop"
    HOP_LIMIT = "hop_limit"
    HTTP_ERROR = "http_error"  # the chain ended on a 4xx/5xx
    NETWORK_ERROR = "network_error"
    REFUSED = "refused"
    TOO_LARGE = "too_large"  # a page or file over the limits
    BAD_URL = "bad_url"  # no request can be made for it: malformed, data:, javascript:


@dataclass(frozen=True)
class Resolution:
    """Where a link leads, hop by hop."""

    url: str
    hops: tuple[Hop, ...]
    final_url: str
    stop: Stop
    status: int | None = None  # of the last answer
    content_type: str | None = None  # of the last answer
    error: str | None = None
    retry_after: str | None = None


class MediaKind(enum.StrEnum):
    """What a post's file is."""

    PHOTO = "photo"
    VIDEO = "video"
    GIF = "gif"
    AUDIO = "audio"
    UNKNOWN = "unknown"  # a file the site itself did not classify


class Method(enum.StrEnum):
    """How a file was obtained."""

    HTTP = "http"  # embedarc's own streaming download
    YTDLP = "ytdlp"  # yt-dlp, a file as served
    HLS = "hls"  # yt-dlp, an HLS stream's segments joined
    MERGED = "merged"  # yt-dlp, separate video and audio streams merged
    WAYBACK = "wayback"  # a Wayback Machine capture, as served (its id_ form)
    MEMENTO = "memento"  # a capture found through a TimeMap
    ARCHIVE_COPY = "archive_copy"  # archive.today's own copy, which may be re-encoded


@dataclass(frozen=True)
class MediaFile:
    """A file in the content-addressed store and how it was obtained."""

    sha256: str
    size: int
    mime: str
    path: str  # relative to the archive folder
    source_url: str
    fetched_at: str  # UTC, ISO 8601
    method: Method = Method.HTTP
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    headers: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    author: str | None = None
    kind: MediaKind | None = None  # for a post's file
    remuxed: bool = False
    tool: str | None = None  # "yt-dlp 2026.10.26" when yt-dlp fetched it
    post: str | None = None  # "site:id" of the platform post it belongs to
    # Taken from a web archive: which, when it captured the file, the capture's URL, and the
    # URL it was a capture of. None for files fetched from where they were published.
    archive: str | None = None
    captured_at: str | None = None  # UTC, ISO 8601
    capture_url: str | None = None
    original_url: str | None = None


@dataclass(frozen=True)
class Evidence:
    """A raw answer from a service, kept in the article folder as proof of what it said."""

    name: str  # file name inside the article's evidence folder
    data: bytes


# -- posts: what a platform (platforms/) says a post is ------------------------------------


@dataclass(frozen=True)
class PostRef:
    """A post named by a URL: the site, the post's id on it, the URL to show for it."""

    site: str
    id: str  # unique on the site: an at:// URI, "channel/123", "instance/123"
    url: str

    @property
    def key(self) -> str:
        return f"{self.site}:{self.id}"


@dataclass(frozen=True)
class PostMedia:
    """One file of a post: the original's URL, and other renditions the site serves."""

    url: str
    kind: MediaKind
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    also: tuple[str, ...] = ()  # the same footage elsewhere (a CDN's re-encode): recorded
    item_id: str | None = None  # the item's own id on the site (one message of an album)


@dataclass(frozen=True)
class Post:
    site: str
    id: str
    url: str
    author: str | None  # the handle, as the site writes it
    author_name: str | None
    text: str
    created_at: str | None  # ISO 8601 UTC
    media: tuple[PostMedia, ...] = ()
    quoted: Post | None = None
    reposted: Post | None = None  # a repost's original, which holds the media
    source: str = ""  # which service answered
    origin_url: str | None = None  # where a post copied from another server was first published
    card: str | None = None  # the kind of link card a post without media shows instead

    @property
    def key(self) -> str:
        return f"{self.site}:{self.id}"

    def all_media(self) -> tuple[tuple[Post, PostMedia], ...]:
        """This post's media, the reposted original's, then the quoted post's."""
        own = tuple((self, m) for m in self.media)
        original = self.reposted.all_media() if self.reposted else ()
        return own + original + (self.quoted.all_media() if self.quoted else ())


@dataclass(frozen=True)
class LinkResult:
    """Everything that happened to one link."""

    link: Link
    outcome: Outcome
    resolution: Resolution | None = None
    reason: str | None = None
    media: tuple[MediaFile, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    post: Post | None = None  # the post the link led to
    failure: Failure | None = None  # with a `failed` outcome: what kind of failure
