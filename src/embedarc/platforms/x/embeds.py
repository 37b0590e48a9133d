"""Tweets embedded in articles: Twitter's blockquote with its byline, the widget its script
renders, CMSs' own elements, and the byline under a tweet pasted as text.

Pure functions over a parsed tree: nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...reading.urls import absolute_url, schemeless
from ..base import Embed
from .urls import BARE_HOSTS, SHORT_LINKS, is_status_url, status_url

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

# Tweets as embedded by Twitter's script, before and after it ran, and by CMSs.
SELECTOR = (
    "blockquote.twitter-tweet, blockquote.twitter-video, iframe.twitter-tweet, twitter-widget,"
    " [data-tweet-id], [data-tweet-url], div.tweet[data-url]"
)
_BARE = schemeless([*BARE_HOSTS, *SHORT_LINKS])
# "— Name (@handle) date", the line under a tweet pasted as text, matched on the stripped
# line: blanks taken possessively and no lazy tail, so a long line costs linear time.
_ATTRIBUTION_RE = re.compile(r"(?:—|&mdash;|--|–)\s*+(?P<who>.*\(@\w{1,15}\).*)")


def _absolute(href: str | None, base: str | None) -> str | None:
    return absolute_url(href, base, _BARE)


_QUOTE_CLASSES = frozenset({"twitter-tweet", "twitter-video"})


def _is_quote(node: LexborNode) -> bool:
    classes = (node.attributes.get("class") or "").split()
    return node.tag == "blockquote" and not _QUOTE_CLASSES.isdisjoint(classes)


def _own_nodes(quote: LexborNode) -> Iterator[tuple[LexborNode, LexborNode]]:
    """(node, the quote's child holding it) for each node inside a tweet's blockquote, in
    document order, but those of another tweet's blockquote nested in it: that one is read
    on its own. So each node is read once however deep a page nests them, not once a level."""
    node, level = quote.child, 0
    top = node
    while node is not None:
        if level == 0:
            top = node
        nested = _is_quote(node)
        if not nested and top is not None:
            yield node, top
        if not nested and node.child is not None:
            node, level = node.child, level + 1
            continue
        while node is not None and node.next is None:
            node, level = node.parent, level - 1
            if level < 0:
                return
        node = node.next if node is not None else None


def _blockquote(quote: LexborNode, base: str | None) -> Embed | None:
    """The tweet of a twitter-tweet blockquote: its last status link, with the byline."""
    anchors: list[tuple[LexborNode, str]] = []
    byline: list[str] = []  # whatever follows the tweet's own <p>: "— Name (@handle) date"
    has_p = False
    for node, top in _own_nodes(quote):
        if node.tag == "p":
            has_p = True
        elif node.tag == "a":
            url = _absolute(node.attributes.get("href"), base)
            if url and is_status_url(url):
                anchors.append((node, url))
        elif node.tag == "-text" and top.tag != "p":
            byline.append(node.text_content or "")
    if not anchors:
        return None
    text = " ".join("".join(byline).replace("&mdash;", "—").split())
    if not has_p:
        text = text[text.rfind("—") :] if "—" in text else ""
    anchor, url = anchors[-1]
    raw = (anchor.attributes.get("href") or "").strip()
    return Embed(url, raw, attribution=text or None, at=anchor.mem_id)


def _rendered(node: LexborNode, base: str | None) -> Embed | None:
    """The tweet of an embed that names it by attribute: Twitter's script has replaced the
    blockquote by an <iframe>/<twitter-widget data-tweet-id>, or a CMS wrote its own element."""
    attributes = node.attributes
    tweet_id = (attributes.get("data-tweet-id") or "").strip()
    if tweet_id.isascii() and tweet_id.isdigit():
        return Embed(status_url(tweet_id, None), tweet_id)
    for name in ("data-tweet-url", "data-url"):
        raw = (attributes.get(name) or "").strip()
        if (url := _absolute(raw, base)) and is_status_url(url):
            return Embed(url, raw)
    return None


def embed(node: LexborNode, base: str | None) -> Embed | None:
    """The tweet an element matched by SELECTOR embeds, or None."""
    if node.tag == "blockquote" and (found := _blockquote(node, base)):
        return found
    return _rendered(node, base)


def byline(line: str) -> str | None:
    """The attribution of a "— Name (@handle) date" line, which names the tweet above it."""
    match = _ATTRIBUTION_RE.fullmatch(line.strip())
    return "— " + " ".join(match["who"].split()) if match else None
