"""Finding the links an article points at: in plain text, in an HTML body, in a page's redirect.

Pure functions: nothing here touches the network.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .. import platforms
from ..model import FoundIn, Link, LinkKind
from ..platforms import normalise, unwrap, with_scheme
from ..platforms.base import PostRef
from .content import content_roots, walk_content
from .decoding import decode
from .markup import parse_html
from .urls import is_web_url, join_url, split_url

# normalise and unwrap are the registry's; other modules have long imported them from here.
__all__ = [
    "Found",
    "Origin",
    "html_links",
    "html_meta_refresh",
    "links_in_html",
    "links_in_text",
    "normalise",
    "origin_in_text",
    "text_links",
    "unwrap",
]

_SHORT_LINKS = {"ift.tt": LinkKind.IFTTT}  # IFTTT's, which leads to a syndicated article


def _kind(url: str, ref: PostRef | None) -> LinkKind:
    """How a normalised URL is handled, judged by the URL alone (and the post it names)."""
    if ref is not None:
        return platforms.platform(ref.site).link_kind
    parts = split_url(url)
    host = parts.netloc if parts else ""
    return platforms.short_link_kind(host) or _SHORT_LINKS.get(host, LinkKind.URL)


def _link(
    url: str,
    kind: LinkKind | None = None,
    *,
    raw: str | None = None,
    found_in: FoundIn = FoundIn.ARTICLE,
    attribution: str | None = None,
) -> Link:
    """A Link for url, its kind judged from the URL unless given; raw defaults to url."""
    raw = url if raw is None else raw
    url = normalise(url)
    ref = platforms.claims(url)
    return Link(
        url=url,
        kind=kind or _kind(url, ref),
        raw=raw,
        found_in=found_in,
        attribution=attribution,
        post=ref.key if ref else None,
    )


@dataclass(frozen=True)
class Found:
    """The links kept from an article, in order, and how many more were left out over the cap."""

    links: tuple[Link, ...]
    skipped: int = 0  # links past the cap (each address once per place it was found)


@dataclass
class _Keeper:
    """Keeps the first occurrence of each URL, up to a cap; past it, only counts.

    Past the cap nothing is kept, so memory stays flat however many links a page holds.
    """

    limit: int | None
    known: frozenset[str] = frozenset()  # already kept elsewhere: count toward the cap, not again
    kept: dict[str, Link] = field(default_factory=dict)
    skipped: int = 0

    @property
    def full(self) -> bool:
        return self.limit is not None and len(self.known) + len(self.kept) >= self.limit

    def add(self, link: Link) -> None:
        url = link.url
        if url in self.kept or url in self.known or not is_web_url(url):
            return  # what no browser could fetch is left out
        if self.full:
            self.skipped += 1
        else:
            self.kept[url] = link

    def found(self) -> Found:
        return Found(tuple(self.kept.values()), self.skipped)


def _unique(links: Iterable[Link]) -> list[Link]:
    """First occurrence of each URL, in order; what no browser could fetch is left out."""
    keeper = _Keeper(None)
    for link in links:
        keeper.add(link)
    return list(keeper.kept.values())


# --- plain text ---------------------------------------------------------------------------------


def _hosts(hosts: Iterable[str]) -> str:
    return "|".join(re.escape(host) for host in sorted(set(hosts))) or "(?!)"


_URL_CHARS = r"[\w\-.~:/?#\[\]@!$&'()*+,;=%]+"
_TEXT_URL_RE = re.compile(
    # Short-link codes are ASCII only, so whatever follows them (…, non-Latin text) is not eaten.
    rf"(?P<short>(?<![\w.@/-])(?:https?://)?(?:{_hosts([*_SHORT_LINKS, *platforms.SHORT_LINKS])})"
    r"/[A-Za-z0-9]+(?![A-Za-z0-9]))"
    # A URL may follow a slash: web.archive.org/web/2022/https://…
    rf"|(?P<url>(?<![\w.@-])https?://{_URL_CHARS})"
    # A platform's host written without a scheme: a link only where it names a post.
    rf"|(?P<bare>(?<![\w.@/-])(?:(?:www|mobile|m)\.)?(?:{_hosts(platforms.BARE_HOSTS)})"
    rf"/{_URL_CHARS})",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"”’»)]}"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_VIA_RE = re.compile(
    r"^[ \t]*via[ \t]+(?P<name>\S[^\n]{0,80}?)[ \t]+(?P<url>(?:https?://|ift\.tt/)\S+)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Origin:
    """The "via <Source Name> <url>" footer of a syndicated post."""

    name: str
    url: str  # normalised, not resolved
    raw: str


def _trim(url: str) -> str:
    """Drop sentence punctuation after a URL; a closing bracket stays when it has its pair."""
    while url and url[-1] in _TRAILING:
        opener = _BRACKETS.get(url[-1])
        if opener and url.count(opener) >= url.count(url[-1]):
            break
        url = url[:-1]
    return url


def _urls_in_line(line: str) -> Iterator[str]:
    for match in _TEXT_URL_RE.finditer(line):
        if match["short"]:
            yield match["short"]
            continue
        found = _trim(match[0])
        if match["bare"] and platforms.claims(with_scheme(found)) is None:
            continue  # a platform's host without a scheme is only taken when it names a post
        if (parts := split_url(with_scheme(found))) and parts.netloc:
            yield found


def origin_in_text(text: str) -> Origin | None:
    """The last "via <Source Name> <url>" line, which names where a syndicated post came from."""
    matches = list(_VIA_RE.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    raw = _trim(last["url"])
    url = normalise(raw)
    return (
        Origin(name=" ".join(last["name"].split()), url=url, raw=raw) if is_web_url(url) else None
    )


def _text_links(text: str, origin: Origin | None) -> Iterator[Link]:
    """Each link in plain text in order, an attribution line given to the links just above it."""
    previous: list[Link] = []  # the last non-blank line's links, held until the next line
    for line in text.splitlines():
        if not line.strip():
            continue
        if found := platforms.byline(line):
            # A byline under a pasted post ("— Name (@handle) date") names the links above it.
            attribution, kinds = found
            previous = [
                replace(link, attribution=attribution) if link.kind in kinds else link
                for link in previous
            ]
        yield from previous
        previous = []
        for raw in _urls_in_line(line):
            link = _link(raw)
            if origin and link.url == origin.url:
                link = replace(link, kind=LinkKind.ORIGIN)
            previous.append(link)
    yield from previous


def text_links(text: str, *, limit: int | None = None) -> Found:
    """The links in plain text, normalised, first occurrence first; at most `limit` of them."""
    keeper = _Keeper(limit)
    for link in _text_links(text, origin_in_text(text)):
        keeper.add(link)
    return keeper.found()


def links_in_text(text: str) -> list[Link]:
    """Every link in plain text, normalised, first occurrence first."""
    return list(text_links(text).links)


# --- HTML: links --------------------------------------------------------------------------------


def _as_text(html: str | bytes) -> str:
    return decode(html, html=True) if isinstance(html, bytes) else html


_OG_VIDEO = frozenset({"og:video", "og:video:url", "og:video:secure_url"})
_PLAYER_RE = re.compile(
    r"youtube(?:-nocookie)?\.com/embed|player\.vimeo\.com"
    r"|dailymotion\.com|rumble\.com|streamable\.com|facebook\.com/plugins/video"
    r"|odysee\.com|bitchute\.com|embed|player",
    re.IGNORECASE,
)


def _absolute(href: str | None, base: str | None) -> str | None:
    """An http(s) URL for an attribute value, or None for fragments, mailto: and the like."""
    return platforms.absolute(href, base)


def _base(tree: LexborHTMLParser, base_url: str | None) -> str | None:
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    if not href:
        return with_scheme(base_url) if base_url else None
    joined = join_url(base_url or "", with_scheme(href.strip()))
    return joined or (with_scheme(base_url) if base_url else None)


def _iframe_link(url: str, raw: str, found_in: FoundIn) -> Link | None:
    # A player of a video site, or a platform's own frame showing one of its posts.
    if page := _player_page(url) or platforms.player(url):
        return _link(page, LinkKind.IFRAME, raw=raw, found_in=found_in)
    if not _PLAYER_RE.search(url):
        return None
    return _link(url, LinkKind.IFRAME, raw=raw, found_in=found_in)


def _media_source(node: LexborNode) -> str | None:
    """The attribute of an element that may point at footage, by tag."""
    tag, attributes = node.tag, node.attributes
    if tag == "a":
        return attributes.get("href")
    parent = node.parent
    if tag in ("video", "audio") or (
        tag == "source" and parent is not None and parent.tag in ("video", "audio")
    ):
        # A <video poster> is a still picked by the publisher, not footage.
        return attributes.get("src")
    if tag == "iframe":
        src = attributes.get("src")
        if not src or src.strip() == "about:blank":
            # Lazy loaders keep the real address aside until the frame scrolls into view.
            return attributes.get("data-src") or attributes.get("data-lazy-src")
        return src
    return None


def _node_link(
    node: LexborNode, base: str | None, embeds: dict[int, Link], found_in: FoundIn
) -> Link | None:
    if node.mem_id in embeds:
        return embeds.pop(node.mem_id)  # the element an embed names its post by
    raw = _media_source(node)
    url = _absolute(raw, base)
    if raw is None or url is None:
        return None
    raw = raw.strip()
    if node.tag == "iframe":
        return _iframe_link(url, raw, found_in)
    if node.tag != "a":
        return _link(url, LinkKind.VIDEO, raw=raw, found_in=found_in)
    return _link(url, raw=raw, found_in=found_in)


def _og_videos(tree: LexborHTMLParser, base: str | None, found_in: FoundIn) -> Iterator[Link]:
    for meta in tree.css("meta[content]"):
        attributes = meta.attributes
        name = (attributes.get("property") or attributes.get("name") or "").strip().lower()
        if name in _OG_VIDEO and (url := _absolute(attributes.get("content"), base)):
            raw = (attributes.get("content") or "").strip()
            yield _link(url, LinkKind.OG_VIDEO, raw=raw, found_in=found_in)


# The platforms whose posts people write out without a scheme, and those hosts.
_BARE_SITES = tuple((p.site, p.bare_hosts) for p in platforms.PLATFORMS if p.bare_hosts)


def _text_post_links(text: str, found_in: FoundIn) -> Iterator[Link]:
    """Posts' URLs written out as text (a footnote, a credit) name the post as a link does,
    on the hosts people write without a scheme."""
    lowered = text.lower()
    sites = {site for site, hosts in _BARE_SITES if any(host in lowered for host in hosts)}
    if not sites:
        return  # most text names no such host: the common answer, cheaply
    for raw in _urls_in_line(" ".join(text.split())):
        url = with_scheme(raw)
        if (ref := platforms.claims(url)) is not None and ref.site in sites:
            yield _link(url, raw=raw, found_in=found_in)


# --- HTML: embeds of video platforms --------------------------------------------------------
# Each names one post by its page URL, spelled the way yt-dlp's extractor for the site claims
# it, so the resolver hands it to yt-dlp without fetching the player itself.

_YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com"}
    | {"youtube-nocookie.com", "www.youtube-nocookie.com"}
)
_FACEBOOK_HOSTS = frozenset(
    {"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"}
)
# "videoseries" (a playlist) and "live_stream" (a channel's stream) are 11 characters too.
_YOUTUBE_EMBED_RE = re.compile(r"/embed/(?!videoseries|live_stream)(?P<id>[\w-]{11})/?", re.ASCII)
_VIMEO_PLAYER_RE = re.compile(r"/video/(?P<id>\d+)/?")
# instagram.com/p/<code>/, /reel/, /tv/, with or without the account first, /embed/ after.
_INSTAGRAM_RE = re.compile(r"/(?:[\w.]+/)?(?P<type>p|reels?|tv)/(?P<code>[\w-]+)(?:/.*)?", re.ASCII)
_TIKTOK_VIDEO_RE = re.compile(r"/@(?P<user>[\w.-]+)/video/(?P<id>\d+)/?", re.ASCII)
_TIKTOK_EMBED_RE = re.compile(r"/embed(?:/v2)?/(?P<id>\d+)/?")
_REDDIT_RE = re.compile(r"/(?P<post>(?:(?:r|user)/[^/]+/)?comments/[^/]+)(?P<rest>/.*)?")
_FACEBOOK_PLUGIN_RE = re.compile(r"(?:/v[\d.]+)?/plugins/(?:video|post)\.php")
# The embed elements that name a post by attribute or by the first link inside them.
_EMBED_BLOCKS = {
    "blockquote": frozenset({"instagram-media", "tiktok-embed", "reddit-embed-bq", "reddit-card"}),
    "div": frozenset({"fb-post", "fb-video"}),
}


def _host_path(url: str) -> tuple[str, str]:
    parts = split_url(url)
    return ((parts.hostname or "").lower(), parts.path) if parts else ("", "")


def _digits(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value.isascii() and value.isdigit() else None


def _instagram_post(url: str) -> str | None:
    host, path = _host_path(url)
    match = (
        _INSTAGRAM_RE.fullmatch(path) if host in ("instagram.com", "www.instagram.com") else None
    )
    return f"https://www.instagram.com/{match['type']}/{match['code']}/" if match else None


def _tiktok_video(url: str) -> str | None:
    host, path = _host_path(url)
    if host not in ("tiktok.com", "www.tiktok.com"):
        return None
    if match := _TIKTOK_VIDEO_RE.fullmatch(path):
        return f"https://www.tiktok.com/@{match['user']}/video/{match['id']}"
    if match := _TIKTOK_EMBED_RE.fullmatch(path):
        return f"https://www.tiktok.com/embed/{match['id']}"
    return None


def _reddit_post(url: str) -> str | None:
    host, path = _host_path(url)
    match = _REDDIT_RE.fullmatch(path)
    if match is None or not (host == "reddit.com" or host.endswith(".reddit.com")):
        return None
    # embed.reddit.com, old.reddit.com and the like show the same post as www.
    return f"https://www.reddit.com/{match['post']}{match['rest'] or '/'}"


def _facebook_post(url: str) -> str | None:
    return url if _host_path(url)[0] in _FACEBOOK_HOSTS else None


def _player_page(url: str) -> str | None:
    """The page of the post a platform's player <iframe> plays, or None for other frames."""
    host, path = _host_path(url)
    if host in _YOUTUBE_HOSTS and (match := _YOUTUBE_EMBED_RE.fullmatch(path)):
        return f"https://www.youtube.com/watch?v={match['id']}"
    if host == "player.vimeo.com" and (match := _VIMEO_PLAYER_RE.fullmatch(path)):
        # An unlisted video plays only with its hash, which the page URL carries after the id.
        secret = parse_qs(urlsplit(url).query).get("h", [""])[0]
        tail = f"/{secret}" if secret.isascii() and secret.isalnum() else ""
        return f"https://vimeo.com/{match['id']}{tail}"
    if host in _FACEBOOK_HOSTS and _FACEBOOK_PLUGIN_RE.fullmatch(path):
        href = _absolute(parse_qs(urlsplit(url).query).get("href", [""])[0], None)
        return _facebook_post(href) if href else None
    return _instagram_post(url) or _tiktok_video(url) or _reddit_post(url)


def _embed_block(node: LexborNode) -> bool:
    """Whether the element is a platform's embed markup, the post's fallback links inside it."""
    classes = _EMBED_BLOCKS.get(node.tag or "")
    return classes is not None and not classes.isdisjoint(
        (node.attributes.get("class") or "").split()
    )


def _first_post(
    candidates: Iterable[str | None], base: str | None, find: Callable[[str], str | None]
) -> tuple[str, str] | None:
    for raw in candidates:
        if (url := _absolute(raw, base)) and (post := find(url)):
            return post, (raw or "").strip()
    return None


def _block_post(node: LexborNode, base: str | None) -> tuple[str, str] | None:
    """(post URL, as written) of a platform's embed markup: by attribute, else its links."""
    attributes = node.attributes
    classes = (attributes.get("class") or "").split()
    links = (anchor.attributes.get("href") for anchor in node.css("a[href]"))
    if "fb-post" in classes or "fb-video" in classes:
        # Its links name the page that posted as well as the post: only data-href is sure.
        return _first_post([attributes.get("data-href")], base, _facebook_post)
    if "instagram-media" in classes:
        named = attributes.get("data-instgrm-permalink")
        return _first_post(itertools.chain([named], links), base, _instagram_post)
    if "tiktok-embed" in classes:
        if found := _first_post([attributes.get("cite")], base, _tiktok_video):
            return found
        # A creator embed names an account, not a post: only a video id makes it one.
        video_id = _digits(attributes.get("data-video-id"))
        return (f"https://www.tiktok.com/embed/{video_id}", video_id) if video_id else None
    return _first_post(links, base, _reddit_post)


def _body_links(root: LexborNode, base: str | None, found_in: FoundIn) -> Iterator[Link]:
    embeds: dict[int, Link] = {}  # an embed's post, held for the element that names it
    # The platform embed being walked: its links are the post's fallback markup (its account,
    # hashtags, sound), not footage of the article, so only the post itself is kept.
    block: int | None = None
    for node, entering in walk_content(root):
        if not entering:
            if node.mem_id == block:
                block = None
            continue
        if block is not None:
            continue
        if node.is_element_node and _embed_block(node):
            block = node.mem_id
            if named := _block_post(node, base):
                yield _link(named[0], LinkKind.PLATFORM_EMBED, raw=named[1], found_in=found_in)
            continue
        if not node.is_element_node:
            yield from _text_post_links(node.text_content or "", found_in)
            continue
        if found := platforms.embed(node, base):
            platform, embed = found
            post = _link(
                embed.url,
                platform.embed_kind,
                raw=embed.raw,
                found_in=found_in,
                attribution=embed.attribution,
            )
            if embed.at is None:
                yield post
            else:
                embeds[embed.at] = post
        if link := _node_link(node, base, embeds, found_in):
            yield link


def html_links(
    html: str | bytes | LexborHTMLParser,
    *,
    base_url: str | None = None,
    found_in: FoundIn = FoundIn.ARTICLE,
    limit: int | None = None,
    known: Iterable[str] = (),
    roots: list[LexborNode] | None = None,
) -> Found:
    """The links in an HTML article's body (plus its og:video), normalised, in document order.

    At most `limit` are kept, counting the URLs in `known` (kept already, not repeated); a tree
    already parsed is used as it is, so a page is parsed once, and `roots` its body when the
    caller found it already (`content_roots`).
    """
    tree = html if isinstance(html, LexborHTMLParser) else parse_html(_as_text(html))
    base = _base(tree, base_url)
    keeper = _Keeper(limit, frozenset(known))
    for link in _og_videos(tree, base, found_in):
        keeper.add(link)
    for root in content_roots(tree) if roots is None else roots:
        for link in _body_links(root, base, found_in):
            keeper.add(link)
    return keeper.found()


def links_in_html(
    html: str | bytes, *, base_url: str | None = None, found_in: FoundIn = FoundIn.ARTICLE
) -> list[Link]:
    """Every link in an HTML article's body (plus its og:video), normalised, in document order."""
    return list(html_links(html, base_url=base_url, found_in=found_in).links)


# --- HTML: redirects written into the page ------------------------------------------------------

_REFRESH_RE = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(?P<url>.*?)\s*$", re.IGNORECASE)
_LOCATION_REPLACE_RE = re.compile(
    r"""location\.replace\(\s*(?P<q>["'])(?P<url>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*\)""", re.DOTALL
)
# http-equiv="refresh", or a value with a character reference that may spell it.
_REFRESH_META_RE = re.compile(r"http-equiv\s*=\s*[\"']?\s*(?:refresh|&)", re.IGNORECASE)
_JS_ESCAPE_RE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(.))", re.DOTALL)


def _js_unescape(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match[1] or match[2]
        return chr(int(code, 16)) if code else match[3]

    return _JS_ESCAPE_RE.sub(one, value)


def _refresh_target(content: str) -> str | None:
    match = _REFRESH_RE.match(content)
    target = match["url"].strip() if match else ""
    if len(target) >= 2 and target[0] == target[-1] and target[0] in "'\"":
        target = target[1:-1].strip()
    return target or None


def html_meta_refresh(html: str | bytes, base_url: str) -> str | None:
    """Where a page sends the browser by <meta http-equiv=refresh> or location.replace("…")."""
    text = _as_text(html)
    # Most pages are no redirect: only one that may be gets a parse of its own (the article's
    # reader parses the page that is kept).
    has_meta = _REFRESH_META_RE.search(text) is not None
    for meta in parse_html(text).css("meta[http-equiv][content]") if has_meta else ():
        attributes = meta.attributes
        if (attributes.get("http-equiv") or "").strip().lower() == "refresh" and (
            target := _refresh_target(attributes.get("content") or "")
        ):
            return join_url(base_url, target)
    if match := _LOCATION_REPLACE_RE.search(text):
        return join_url(base_url, _js_unescape(match["url"]))
    return None
