"""Readers that turn an article's bytes into a model.Article; nothing here touches the network."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .. import platforms
from ..errors import InputError
from ..model import Article, FoundIn
from ..platforms import normalise
from .content import content_roots, walk_content
from .decoding import bom_encoding, decode
from .links import Found, html_links, origin_in_text, text_links
from .markup import parse_html
from .urls import is_web_url

TITLE_LIMIT = 300

# ZeroHedge's dateline: "Tue, 01/04/2022 – 20:25" (month first).
_DATELINE_RE = re.compile(
    r"^\s*(?:[A-Za-z]{3,9},?\s+)?(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
    r"\s*[–—-]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*$"
)
_ISO_LINE_RE = re.compile(
    r"^\s*(?P<iso>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?)\s*$"
)
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    | {"tr", "section", "article", "figure", "figcaption", "pre", "header", "footer", "hr"}
    | {"table", "dl", "dt", "dd", "main", "video", "iframe"}
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _title(text: str) -> str:
    return _one_line(text)[:TITLE_LIMIT].rstrip()


def _iso(value: str) -> str | None:
    """An ISO 8601 string in one form, or None when the value is not one."""
    value = value.strip()
    try:
        # fromisoformat in 3.11 takes "Z", but not every site's "+0000" without a colon.
        parsed = datetime.fromisoformat(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value))
    except ValueError:
        return None
    if len(value) == 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _dateline(line: str) -> str | None:
    if match := _DATELINE_RE.match(line):
        try:
            when = datetime(
                int(match["year"]),
                int(match["month"]),
                int(match["day"]),
                int(match["hour"]),
                int(match["minute"]),
            )
        except ValueError:
            return None
        # The page gives no timezone, so none is invented.
        return when.isoformat()
    if match := _ISO_LINE_RE.match(line):
        return _iso(match["iso"])
    return None


# --- plain text ---------------------------------------------------------------------------------


def read_text(
    raw: bytes, *, source: str, content_type: str | None = None, max_links: int | None = None
) -> Article:
    """A plain-text article: title on the first line, links and "via" footer in the text.

    At most `max_links` links are kept; how many more there were is `links_skipped`.
    """
    text = decode(raw, content_type=content_type).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    origin = origin_in_text(text)
    found = text_links(text, limit=max_links)
    return Article(
        source=source,
        raw=raw,
        media_type="text/plain",
        title=_title(lines[first]) if first < len(lines) else "",
        text="\n".join(lines[first + 1 :]).strip("\n"),
        links=found.links,
        links_skipped=found.skipped,
        published=next(filter(None, map(_dateline, lines)), None),
        origin_name=origin.name if origin else None,
        origin_url=origin.url if origin else None,
    )


# --- HTML ---------------------------------------------------------------------------------------


def _meta(tree: LexborHTMLParser, *names: str) -> str | None:
    """The content of the first <meta property|name> among names, in the order given."""
    found: dict[str, str] = {}
    for meta in tree.css("meta[content]"):
        attributes = meta.attributes
        key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
        content = (attributes.get("content") or "").strip()
        if key in names and content:
            found.setdefault(key, content)
    return next((found[name] for name in names if name in found), None)


def _html_title(tree: LexborHTMLParser) -> str:
    # Open Graph first, then the title a platform's card markup gives (its `title_meta`).
    if title := _meta(tree, "og:title", *platforms.TITLE_META):
        return _title(title)
    for selector in ("title", "h1"):
        node = tree.css_first(selector)
        if node is not None and (text := _title(node.text())):
            return text
    return ""


def _canonical(tree: LexborHTMLParser, url: str | None) -> str | None:
    hrefs = [
        node.attributes.get("href")
        for node in tree.css("link[rel][href]")
        if "canonical" in (node.attributes.get("rel") or "").lower().split()
    ]
    for href in [*hrefs, _meta(tree, "og:url"), url]:
        if href and is_web_url(canonical := normalise(_joined(url or "", href))):
            return canonical
    return None


def _joined(base: str, href: str) -> str:
    try:
        return urljoin(base, href.strip())
    except ValueError:  # an unbalanced "[" in either; such an address is no canonical one
        return ""


def _json_ld_dates(value: Any) -> Iterator[str]:
    """Every datePublished in a JSON-LD value, however deeply @graph and lists nest it."""
    pending = [value]  # a stack, not recursion: nesting is the page's choice, not ours
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(date := item.get("datePublished"), str):
                yield date
            pending.extend(reversed([v for v in item.values() if isinstance(v, list | dict)]))
        elif isinstance(item, list):
            pending.extend(reversed(item))


def _published_candidates(tree: LexborHTMLParser, roots: list[LexborNode]) -> Iterator[str]:
    if published := _meta(tree, "article:published_time"):
        yield published
    for root in roots:
        for node in root.css("time[datetime]"):
            yield node.attributes.get("datetime") or ""
    for node in tree.css("[itemprop=datePublished]"):
        attributes = node.attributes
        yield attributes.get("content") or attributes.get("datetime") or node.text()
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            yield from _json_ld_dates(json.loads(script.text() or "null"))
        except (ValueError, RecursionError):
            # Broken JSON-LD is common and says nothing about the article; nor does JSON nested
            # deeper than Python's parser goes.
            continue


def _published(tree: LexborHTMLParser, roots: list[LexborNode]) -> str | None:
    return next(filter(None, map(_iso, _published_candidates(tree, roots))), None)


def body_text(roots: list[LexborNode]) -> str:
    """The article body as plain text: one line per paragraph, whitespace collapsed."""
    parts: list[str] = []
    hidden = 0  # depth inside <noscript>, whose text repeats or apologises for the page
    for root in roots:
        for node, entering in walk_content(root):
            if node.tag == "noscript":
                hidden += 1 if entering else -1
            elif node.tag in _BLOCKS:
                parts.append("\n")
            elif node.is_text_node and not hidden:
                parts.append(node.text_content or "")
        parts.append("\n")
    lines = (_one_line(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def read_html(
    raw: bytes,
    *,
    source: str,
    url: str | None = None,
    content_type: str | None = None,
    max_links: int | None = None,
) -> Article:
    """An HTML article: metadata from the head, text and links from the article body only.

    The page is parsed once. At most `max_links` links are kept; how many more there were is
    `links_skipped`.
    """
    tree = parse_html(decode(raw, content_type=content_type, html=True))
    roots = content_roots(tree)
    canonical = _canonical(tree, url)
    found = html_links(tree, base_url=url or canonical, limit=max_links, roots=roots)
    return Article(
        source=source,
        raw=raw,
        media_type="text/html",
        title=_html_title(tree),
        text=body_text(roots),
        links=found.links,
        links_skipped=found.skipped,
        canonical_url=canonical,
        published=_published(tree, roots),
    )


def read_origin_page(
    raw: bytes, *, url: str, max_links: int | None = None, known: Iterable[str] = ()
) -> tuple[str, Found]:
    """The original page behind an article's "via" link: its canonical URL and its embeds.

    One parse. The embeds are resolved against the canonical URL, as they have always been, so
    that a later run finds the same links; `known` are the article's own links (see html_links).
    """
    tree = parse_html(decode(raw, html=True))
    canonical = _canonical(tree, url) or normalise(url)
    found = html_links(
        tree, base_url=canonical, found_in=FoundIn.ORIGIN, limit=max_links, known=known
    )
    return canonical, found


# --- choosing a reader --------------------------------------------------------------------------


def looks_like_html(raw: bytes) -> bool:
    """Whether the start of the bytes reads as an HTML document."""
    start = decode(raw[:1024]).lower()
    return any(marker in start for marker in _HTML_MARKERS)


def read_article(
    raw: bytes,
    *,
    source: str,
    content_type: str | None = None,
    url: str | None = None,
    max_links: int | None = None,
) -> Article:
    """An article from bytes, read as HTML or text by content type, else by sniffing."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in _HTML_TYPES or (media_type != "text/plain" and looks_like_html(raw)):
        return read_html(
            raw, source=source, url=url, content_type=content_type, max_links=max_links
        )
    return read_text(raw, source=source, content_type=content_type, max_links=max_links)


def _looks_binary(raw: bytes) -> bool:
    # UTF-16/32 text is full of NUL bytes; anything else with them is not text.
    if bom_encoding(raw) in (None, "utf-8-sig") and b"\x00" in raw:
        return True
    sample = decode(raw[:8192])
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\n\r\f\v")
    return controls > len(sample) // 10


def _check_text(raw: bytes, where: str) -> None:
    """Raise InputError when raw is empty or not text at all."""
    if not decode(raw).strip():
        raise InputError(f"{where} is empty: there is no article to read.")
    if _looks_binary(raw):
        raise InputError(f"{where} holds binary data, not an article's text or HTML.")


def _check_size(size: int, max_size: int | None, where: str) -> None:
    if max_size is not None and size > max_size:
        raise InputError(
            f"{where} is larger than {max_size} bytes: not an article (see --max-article-size)."
        )


def read_path(path: Path, *, max_size: int | None = None, max_links: int | None = None) -> Article:
    """An article from a local file; InputError says in a sentence why one cannot be read."""
    try:
        with path.open("rb") as f:
            raw = f.read() if max_size is None else f.read(max_size + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: there is no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: this is a folder; give the article's file instead.") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; the file cannot be read.") from None
    except OSError as error:
        raise InputError(f"{path}: the file cannot be read ({error.strerror}).") from None
    _check_size(len(raw), max_size, str(path))
    _check_text(raw, str(path))
    content_type = "text/html" if path.suffix.lower() in _HTML_SUFFIXES else None
    return read_article(raw, source=str(path), content_type=content_type, max_links=max_links)


def read_stdin(raw: bytes, *, max_size: int | None = None, max_links: int | None = None) -> Article:
    """An article piped in on standard input, already read as bytes; its source is "-"."""
    _check_size(len(raw), max_size, "standard input")
    _check_text(raw, "standard input")
    return read_article(raw, source="-", max_links=max_links)
