"""Finding the links an article points at, and putting each in one canonical form.

Pure functions: nothing here touches the network.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from embedarc.model import Link, LinkKind

# --- tweets -------------------------------------------------------------------------------------

STATUS_RE = re.compile(
    r"(?<![\w.@-])(?:https?://)?(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/"
    r"(?:i/web/status|statuses|(?P<user>\w{1,15})/status(?:es)?)/(?P<id>\d{1,20})"
    r"(?:/(?:photo|video)/\d{1,2})?/?(?![\w/])",
    re.IGNORECASE | re.ASCII,
)


def tweet_ref(url: str) -> tuple[str | None, str] | None:
    """(screen name, or None for i/web forms; tweet id) of a status URL, else None."""
    url = url.strip()
    match = STATUS_RE.match(url)
    if match is None or url[match.end() :][:1] not in ("", "?", "#"):
        return None
    user = match["user"]
    # twitter.com/i/status/<id> is the same anonymous form as i/web
    return (None if user is None or user.lower() == "i" else user), match["id"]


def is_status_url(url: str) -> bool:
    """Whether the URL names a single tweet."""
    return tweet_ref(url) is not None


def _tweet_url(ref: tuple[str | None, str]) -> str:
    user, tweet_id = ref
    return f"https://twitter.com/{user or 'i/web'}/status/{tweet_id}"


# --- normalisation ------------------------------------------------------------------------------

# Hosts people paste without a scheme; anything else without one is not taken as a URL.
_SCHEMELESS_RE = re.compile(
    r"(?:(?:www|mobile|m)\.)?(?:pic\.twitter\.com|t\.co|ift\.tt|twitter\.com|x\.com)/",
    re.IGNORECASE,
)
_TRACKING = frozenset({"fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref_src", "ref_url"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PBS_MEDIA_RE = re.compile(
    r"/media/(?P<key>[\w-]+)(?:\.(?P<ext>jpe?g|png|webp|gif))?(?::\w+)?$", re.IGNORECASE
)


def _with_scheme(url: str) -> str:
    if url.startswith("//"):
        return "https:" + url
    if _SCHEMELESS_RE.match(url):
        return "https://" + url
    return url


def _netloc(scheme: str, netloc: str) -> str:
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport.lower(), ""
    if not host.endswith("]") and ":" in host:
        host, _, port = host.rpartition(":")
    if port and _DEFAULT_PORTS.get(scheme) == (int(port) if port.isdigit() else None):
        port = ""
    return (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")


def _without_tracking(query: str) -> str:
    # Split by hand so the parameters that stay keep their order and their exact encoding.
    kept = []
    for part in query.split("&"):
        name = part.split("=", 1)[0].lower()
        if part and not name.startswith("utm_") and name not in _TRACKING:
            kept.append(part)
    return "&".join(kept)


def _pbs_original(path: str, query: str) -> str | None:
    match = _PBS_MEDIA_RE.search(path)
    if match is None or not path.startswith("/media/"):
        return None
    ext = match["ext"] or parse_qs(query).get("format", [""])[0]
    if not ext:
        return None
    ext = "jpg" if ext.lower() == "jpeg" else ext.lower()
    # Every other name= is a downscaled copy; orig is the upload itself.
    return f"https://pbs.twimg.com/media/{match['key']}?format={ext}&name=orig"


def normalise(url: str) -> str:
    """The canonical form of a URL, so the same target is always spelled the same way."""
    url = _with_scheme(url.strip())
    ref = tweet_ref(url)
    if ref is not None:
        return _tweet_url(ref)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return url
    netloc = _netloc(scheme, parts.netloc)
    if netloc == "pbs.twimg.com" and (original := _pbs_original(parts.path, parts.query)):
        return original
    return urlunsplit((scheme, netloc, parts.path, _without_tracking(parts.query), ""))


def unwrap(url: str) -> str | None:
    """The target of a twitter.com/safety/unsafe_link_warning interstitial, else None."""
    parts = urlsplit(_with_scheme(url.strip()))
    host = parts.netloc.lower().removeprefix("www.").removeprefix("mobile.")
    if host not in ("twitter.com", "x.com") or parts.path.rstrip("/") != (
        "/safety/unsafe_link_warning"
    ):
        return None
    targets = parse_qs(parts.query).get("unsafe_link")
    return targets[0] if targets else None


def _kind(url: str) -> LinkKind:
    """How a normalised URL is handled, judged by the URL alone."""
    if is_status_url(url):
        return LinkKind.TWEET
    host = urlsplit(url).netloc
    return {
        "pic.twitter.com": LinkKind.PIC_TWITTER,
        "t.co": LinkKind.TCO,
        "ift.tt": LinkKind.IFTTT,
    }.get(host, LinkKind.URL)


def _link(
    url: str,
    kind: LinkKind | None = None,
    *,
    raw: str | None = None,
    found_in: str = "article",
    attribution: str | None = None,
) -> Link:
    """A Link for url, its kind judged from the URL unless given; raw defaults to url."""
    raw = url if raw is None else raw
    url = normalise(url)
    ref = tweet_ref(url)
    return Link(
        url=url,
        kind=kind or _kind(url),
        raw=raw,
        found_in=found_in,
        attribution=attribution,
        tweet_id=ref[1] if ref else None,
    )


def _unique(links: Iterable[Link]) -> list[Link]:
    """First occurrence of each URL, in order."""
    seen: dict[str, Link] = {}
    for link in links:
        seen.setdefault(link.url, link)
    return list(seen.values())


# --- plain text ---------------------------------------------------------------------------------

_URL_CHARS = r"[\w\-.~:/?#\[\]@!$&'()*+,;=%]+"
_TEXT_URL_RE = re.compile(
    # Short-link codes are ASCII only, so whatever follows them (…, non-Latin text) is not eaten.
    r"(?P<short>(?<![\w.@/-])(?:https?://)?(?:pic\.twitter\.com|t\.co|ift\.tt)/[A-Za-z0-9]+"
    r"(?![A-Za-z0-9]))"
    # A URL may follow a slash: web.archive.org/web/2022/https://…
    rf"|(?P<url>(?<![\w.@-])https?://{_URL_CHARS})"
    rf"|(?P<status>(?<![\w.@/-])(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/{_URL_CHARS})",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"”’»)]}"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
_ATTRIBUTION_RE = re.compile(r"^\s*(?:—|&mdash;|--|–)\s*(?P<who>.*\(@\w{1,15}\).*?)\s*$")
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
        if match["status"] and not is_status_url(found):
            continue  # a scheme-less twitter.com link is only taken when it names a tweet
        if urlsplit(_with_scheme(found)).netloc:
            yield found


def origin_in_text(text: str) -> Origin | None:
    """The last "via <Source Name> <url>" line, which names where a syndicated post came from."""
    matches = list(_VIA_RE.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    raw = _trim(last["url"])
    return Origin(name=" ".join(last["name"].split()), url=normalise(raw), raw=raw)


def _attribution(line: str) -> str | None:
    match = _ATTRIBUTION_RE.match(line)
    return "— " + " ".join(match["who"].split()) if match else None


def links_in_text(text: str) -> list[Link]:
    """Every link in plain text, normalised, first occurrence first."""
    origin = origin_in_text(text)
    found: list[Link] = []
    previous: list[int] = []  # indexes into found of the last non-blank line's links
    for line in text.splitlines():
        if not line.strip():
            continue
        attribution = _attribution(line)
        if attribution:
            for index in previous:
                if found[index].kind in (LinkKind.PIC_TWITTER, LinkKind.TCO, LinkKind.TWEET):
                    found[index] = replace(found[index], attribution=attribution)
        start = len(found)
        for raw in _urls_in_line(line):
            link = _link(raw)
            if origin and link.url == origin.url:
                link = replace(link, kind=LinkKind.ORIGIN)
            found.append(link)
        previous = list(range(start, len(found)))
    return _unique(found)


# --- decoding -----------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# Browsers read these labels as windows-1252, and so do publishers who declare them.
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})


def bom_encoding(raw: bytes) -> str | None:
    """The encoding a byte-order mark at the start announces, if any."""
    return next((name for bom, name in _BOMS if raw.startswith(bom)), None)


def _declared(raw: bytes, content_type: str | None, html: bool) -> list[str]:
    """Charsets the Content-Type header and then the page itself declare."""
    names = []
    if content_type and (match := _CHARSET_RE.search(content_type)):
        names.append(match[1].lower())
    if html and (meta_match := _META_CHARSET_RE.search(raw[:4096])):
        meta = meta_match[1].decode("ascii", "replace").lower()
        # A page that could read its own <meta> was not UTF-16; browsers take UTF-8 then.
        names.append("utf-8" if meta.startswith(("utf-16", "utf-32")) else meta)
    return ["cp1252" if name in _AS_CP1252 else name for name in names]


def decode(raw: bytes, *, content_type: str | None = None, html: bool = False) -> str:
    """Bytes as text: BOM, then declared charset, then UTF-8, then cp1252; never raises."""
    bom = bom_encoding(raw)
    for encoding in ([bom] if bom else []) + _declared(raw, content_type, html) + ["utf-8"]:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue  # an unknown or wrong label is common; the next guess may fit
    return raw.decode("cp1252", errors="replace")


def _as_text(html: str | bytes) -> str:
    return decode(html, html=True) if isinstance(html, bytes) else html


# --- HTML: the article body ---------------------------------------------------------------------

_MAIN_SELECTORS = (
    "main",
    "[role=main]",
    "[itemprop=articleBody]",
    ".entry-content",
    ".article-body",
    ".article-content",
    ".post-content",
    ".post-body",
    ".story-body",
    "#content",
    ".content",
    ".post",
)
_BOILERPLATE_WORDS = frozenset(
    {"nav", "navbar", "navigation", "menu", "sidebar", "footer", "header", "related", "share"}
    | {"sharing", "comments", "comment", "breadcrumb", "breadcrumbs"}
)
# "has-sidebar", "no-comments" describe a layout, not the element itself.
_LAYOUT_PREFIXES = frozenset({"has", "no", "with", "without"})
_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NEVER_CONTENT = frozenset({"script", "style", "template"})


def _names_boilerplate(value: str | None) -> bool:
    for token in (value or "").split():
        words = [word.lower() for word in _WORD_RE.findall(token)]
        if words and words[0] not in _LAYOUT_PREFIXES and _BOILERPLATE_WORDS.intersection(words):
            return True
    return False


def is_boilerplate(node: LexborNode, *, page_level: bool) -> bool:
    """Whether an element is navigation, a sidebar, share buttons and the like."""
    tag = node.tag or ""
    if tag in _NEVER_CONTENT or tag in ("nav", "aside"):
        return True
    # An <article>'s own <header>/<footer> hold its headline and byline; the page's do not.
    if page_level and tag in ("header", "footer"):
        return True
    attributes = node.attributes
    return _names_boilerplate(attributes.get("class")) or _names_boilerplate(attributes.get("id"))


def _in_boilerplate(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html", "-document", None):
        if is_boilerplate(parent, page_level=True):
            return True
        parent = parent.parent
    return False


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    ids = {node.mem_id for node in nodes}
    outer = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ids:
            parent = parent.parent
        if parent is None:
            outer.append(node)
    return outer


def content_roots(tree: LexborHTMLParser) -> list[LexborNode]:
    """The elements holding the article itself: <article>s, else the main content, else <body>."""
    for selector in ("article", *_MAIN_SELECTORS):
        nodes = [node for node in tree.css(selector) if not _in_boilerplate(node)]
        if nodes:
            return _outermost(nodes)
    return [tree.body] if tree.body is not None else []


def walk_content(root: LexborNode) -> Iterator[tuple[LexborNode, bool]]:
    """(node, entering) for every element and text node under root, boilerplate left out.

    Each element is reported when entered and again when left, so callers can see its extent.
    """
    page_level = root.tag == "body"
    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if not entering:
            yield node, False
            continue
        if (
            node is not root
            and node.is_element_node
            and is_boilerplate(node, page_level=page_level)
        ):
            continue
        yield node, True
        if node.is_element_node:
            stack.append((node, False))
            children = list(node.iter(include_text=True))
            stack.extend((child, True) for child in reversed(children))


# --- HTML: links --------------------------------------------------------------------------------

_OG_VIDEO = frozenset({"og:video", "og:video:url", "og:video:secure_url"})
_PLAYER_RE = re.compile(
    r"youtube(?:-nocookie)?\.com/embed|player\.vimeo\.com|platform\.twitter\.com/embed"
    r"|dailymotion\.com|rumble\.com|streamable\.com|facebook\.com/plugins/video"
    r"|odysee\.com|bitchute\.com|embed|player",
    re.IGNORECASE,
)
_TWEET_EMBED_CLASSES = frozenset({"twitter-tweet", "twitter-video"})


def _absolute(href: str | None, base: str | None) -> str | None:
    """An http(s) URL for an attribute value, or None for fragments, mailto: and the like."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    href = _with_scheme(href)
    if base and not urlsplit(href).scheme:
        href = urljoin(base, href)
    parts = urlsplit(href)
    return href if parts.scheme.lower() in _DEFAULT_PORTS and parts.netloc else None


def _base(tree: LexborHTMLParser, base_url: str | None) -> str | None:
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    if not href:
        return _with_scheme(base_url) if base_url else None
    return urljoin(base_url or "", _with_scheme(href.strip())) or None


def _tweet_embed(quote: LexborNode, base: str | None) -> tuple[int, str | None] | None:
    """(mem_id of the anchor naming the tweet, attribution) of a twitter-tweet blockquote."""
    anchors = [
        anchor
        for anchor in quote.css("a[href]")
        if (url := _absolute(anchor.attributes.get("href"), base)) and is_status_url(url)
    ]
    if not anchors:
        return None
    # The byline is whatever follows the tweet's own <p>: "— Name (@handle) date".
    byline = [
        (child.text() if child.is_element_node else child.text_content) or ""
        for child in quote.iter(include_text=True)
        if child.tag != "p"
    ]
    text = " ".join("".join(byline).replace("&mdash;", "—").split())
    if not quote.css_first("p"):
        text = text[text.rfind("—") :] if "—" in text else ""
    return anchors[-1].mem_id, text or None


def _iframe_link(url: str, raw: str, found_in: str) -> Link | None:
    if not _PLAYER_RE.search(url):
        return None
    if "platform.twitter.com/embed" in url.lower():
        tweet_id = parse_qs(urlsplit(url).query).get("id", [""])[0]
        if tweet_id.isdigit():
            url = f"https://twitter.com/i/web/status/{tweet_id}"
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
    node: LexborNode, base: str | None, embeds: dict[int, str | None], found_in: str
) -> Link | None:
    raw = _media_source(node)
    url = _absolute(raw, base)
    if raw is None or url is None:
        return None
    raw = raw.strip()
    if node.tag == "iframe":
        return _iframe_link(url, raw, found_in)
    if node.tag != "a":
        return _link(url, LinkKind.VIDEO, raw=raw, found_in=found_in)
    if node.mem_id in embeds:
        attribution = embeds[node.mem_id]
        return _link(url, LinkKind.TWEET_EMBED, raw=raw, found_in=found_in, attribution=attribution)
    return _link(url, raw=raw, found_in=found_in)


def _og_videos(tree: LexborHTMLParser, base: str | None, found_in: str) -> Iterator[Link]:
    for meta in tree.css("meta[content]"):
        attributes = meta.attributes
        name = (attributes.get("property") or attributes.get("name") or "").strip().lower()
        if name in _OG_VIDEO and (url := _absolute(attributes.get("content"), base)):
            raw = (attributes.get("content") or "").strip()
            yield _link(url, LinkKind.OG_VIDEO, raw=raw, found_in=found_in)


def _body_links(root: LexborNode, base: str | None, found_in: str) -> Iterator[Link]:
    embeds: dict[int, str | None] = {}
    for node, entering in walk_content(root):
        if not entering or not node.is_element_node:
            continue
        classes = set((node.attributes.get("class") or "").split())
        is_embed = node.tag == "blockquote" and classes & _TWEET_EMBED_CLASSES
        if is_embed and (embed := _tweet_embed(node, base)):
            embeds[embed[0]] = embed[1]
        if link := _node_link(node, base, embeds, found_in):
            yield link


def links_in_html(
    html: str | bytes, *, base_url: str | None = None, found_in: str = "article"
) -> list[Link]:
    """Every link in an HTML article's body (plus its og:video), normalised, in document order."""
    tree = LexborHTMLParser(_as_text(html))
    base = _base(tree, base_url)
    found = list(_og_videos(tree, base, found_in))
    for root in content_roots(tree):
        found.extend(_body_links(root, base, found_in))
    return _unique(found)


# --- HTML: redirects written into the page ------------------------------------------------------

_REFRESH_RE = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(?P<url>.*?)\s*$", re.IGNORECASE)
_LOCATION_REPLACE_RE = re.compile(
    r"""location\.replace\(\s*(?P<q>["'])(?P<url>(?:\\.|(?!(?P=q)).)*)(?P=q)\s*\)""", re.DOTALL
)
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
    for meta in LexborHTMLParser(text).css("meta[http-equiv][content]"):
        attributes = meta.attributes
        if (attributes.get("http-equiv") or "").strip().lower() == "refresh" and (
            target := _refresh_target(attributes.get("content") or "")
        ):
            return urljoin(base_url, target)
    if match := _LOCATION_REPLACE_RE.search(text):
        return urljoin(base_url, _js_unescape(match["url"]))
    return None
