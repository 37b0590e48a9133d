"""Finding the article body in an HTML page, leaving out navigation, sidebars and the like.

Pure functions over a parsed tree: nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

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
_BOILERPLATE_TAGS = _NEVER_CONTENT | {"nav", "aside"}


def _names_boilerplate(value: str | None) -> bool:
    for token in (value or "").split():
        words = [word.lower() for word in _WORD_RE.findall(token)]
        if words and words[0] not in _LAYOUT_PREFIXES and _BOILERPLATE_WORDS.intersection(words):
            return True
    return False


def is_boilerplate(node: LexborNode, *, page_level: bool) -> bool:
    """Whether an element is navigation, a sidebar, share buttons and the like."""
    tag = node.tag or ""
    if tag in _BOILERPLATE_TAGS:
        return True
    # An <article>'s own <header>/<footer> hold its headline and byline; the page's do not.
    if page_level and tag in ("header", "footer"):
        return True
    attributes = node.attributes
    return _names_boilerplate(attributes.get("class")) or _names_boilerplate(attributes.get("id"))


class _Ancestry:
    """Whether some ancestor of a node passes a test, remembered along the way.

    Each ancestor is tested once however many nodes below it are asked about, so asking for
    every node of a deep page costs time linear in its size, not in the square of its depth.
    """

    def __init__(self, test: Callable[[LexborNode], bool], stop: frozenset[str | None]) -> None:
        self.test = test
        self.stop = stop  # ancestors with these tags, and all above them, are not tested
        self.known: dict[int, bool] = {}  # mem_id -> whether a proper ancestor passes

    def __call__(self, node: LexborNode) -> bool:
        path: list[int] = []
        answer = False
        while True:
            path.append(node.mem_id)
            parent = node.parent
            if parent is None or parent.tag in self.stop:
                break
            if parent.mem_id in self.known:
                answer = self.known[parent.mem_id] or self.test(parent)
                break
            if self.test(parent):
                answer = True
                break
            node = parent
        for mem_id in path:
            self.known[mem_id] = answer
        return answer


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    ids = {node.mem_id for node in nodes}
    inside = _Ancestry(lambda parent: parent.mem_id in ids, frozenset())
    return [node for node in nodes if not inside(node)]


def content_roots(tree: LexborHTMLParser) -> list[LexborNode]:
    """The elements holding the article itself: <article>s, else the main content, else <body>."""
    in_boilerplate = _Ancestry(
        lambda parent: is_boilerplate(parent, page_level=True),
        frozenset({"body", "html", "-document", None}),
    )
    for selector in ("article", *_MAIN_SELECTORS):
        # <nav class="post"> matches a content selector, yet is still navigation.
        nodes = [
            node
            for node in tree.css(selector)
            if node.tag not in _BOILERPLATE_TAGS and not in_boilerplate(node)
        ]
        if nodes:
            return _outermost(nodes)
    return [tree.body] if tree.body is not None else []


def walk_content(root: LexborNode) -> Iterator[tuple[LexborNode, bool]]:
    """(node, entering) for every element and text node under root, boilerplate left out.

    Each element is reported when entered and again when left, so callers can see its extent.
    Siblings are followed one at a time, so an element with 100,000 children costs no more
    memory than one with ten.
    """
    page_level = root.tag == "body"
    yield root, True
    if not root.is_element_node:
        return
    open_elements = [root]  # entered, not yet left: as deep as the tree, which markup bounds
    node = root.child
    while True:
        if node is None:
            left = open_elements.pop()
            yield left, False
            if not open_elements:
                return
            node = left.next
            continue
        if node.is_element_node and is_boilerplate(node, page_level=page_level):
            node = node.next
            continue
        yield node, True
        if node.is_element_node:
            open_elements.append(node)
            node = node.child
        else:
            node = node.next
