"""Finding the article body in an HTML page, leaving out navigation, sidebars and the like.

Pure functions over a parsed tree: nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .. import platforms

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
# A class names what an element is by its last word ("main-nav" is a nav, "content-sidebar-wrap"
# is a wrapper); a boilerplate word may also qualify one of these generic nouns ("related-posts").
_GENERIC_HEADS = frozenset(
    {"articles", "posts", "stories", "links", "items", "list", "buttons", "button", "icons"}
    | {"tools", "bar", "box", "widget", "widgets", "area", "module", "block", "section", "tabs"}
    | {"content", "container"}
)
# "has-sidebar", "no-comments" describe a layout, not the element itself.
_LAYOUT_PREFIXES = frozenset({"has", "no", "with", "without"})
# Utility-class namespaces: "l-" layout, "u-" utility, "o-" object, "c-" component.
_NAMESPACES = frozenset({"l", "u", "o", "c"})
_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_NEVER_CONTENT = frozenset({"script", "style", "template"})
_BOILERPLATE_TAGS = _NEVER_CONTENT | {"nav", "aside"}


def _token_is_boilerplate(token: str) -> bool:
    if token.lower().startswith("js-"):
        return False  # a hook for a script, not a description of the element
    block, _, element = token.partition("__")
    element = element.rsplit("__", 1)[-1].split("--")[0]
    # BEM: "sidebar__main" is the main column of a sidebar layout, "card__header" a heading.
    name = element or block.split("--")[0]
    words = [word.lower() for word in _WORD_RE.findall(name)]
    if words and words[0] in _NAMESPACES and len(words) > 1:
        words = words[1:]
    if not words or words[0] in _LAYOUT_PREFIXES:
        return False
    if element and words[-1] in ("header", "footer"):
        return False
    if words[-1] in _BOILERPLATE_WORDS:
        return True
    return len(words) >= 2 and words[-2] in _BOILERPLATE_WORDS and words[-1] in _GENERIC_HEADS


def _names_boilerplate(value: str | None) -> bool:
    return any(_token_is_boilerplate(token) for token in (value or "").split())


def is_embed(node: LexborNode) -> bool:
    """Whether the element itself embeds a post of a registered platform."""
    return node.is_element_node and platforms.embed(node, None) is not None


def embeds_in(node: LexborNode) -> set[int]:
    """The mem_ids of the elements embedding a post, the node itself included."""
    if not platforms.EMBED_SELECTOR:
        return set()
    return {found.mem_id for found in node.css(platforms.EMBED_SELECTOR) if is_embed(found)}


def has_embed(node: LexborNode) -> bool:
    """Whether the element embeds a post or holds an element that does."""
    return bool(platforms.EMBED_SELECTOR) and any(
        is_embed(found) for found in node.css(platforms.EMBED_SELECTOR)
    )


def _embed_holders(node: LexborNode) -> set[int]:
    """The mem_ids of the elements under `node`, itself included, that embed a post or hold
    one: one query, and each element climbed once, however deep the embeds lie."""
    holders: set[int] = set()
    for found in node.css(platforms.EMBED_SELECTOR) if platforms.EMBED_SELECTOR else ():
        if not is_embed(found):
            continue
        current: LexborNode | None = found
        while current is not None and current.mem_id not in holders:
            holders.add(current.mem_id)
            current = None if current.mem_id == node.mem_id else current.parent
    return holders


def is_boilerplate(node: LexborNode, *, page_level: bool) -> bool:
    """Whether an element is navigation, a sidebar, share buttons and the like."""
    tag = node.tag or ""
    if tag in _NEVER_CONTENT:
        return True
    if tag in _BOILERPLATE_TAGS:
        # An <aside> inside the article holding an embed is the embed set beside the text.
        return page_level or tag != "aside" or not has_embed(node)
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


def _weight(node: LexborNode) -> int:
    """How much article a candidate holds: its text, and each embedded post counted as a
    paragraph."""
    marked = embeds_in(node)  # one query for the candidate, not one a node
    text = 0
    embeds = 0
    for child, entering in walk_content(node):
        if not entering:
            continue
        if child.is_element_node:
            embeds += child.mem_id in marked
        else:
            text += len((child.text_content or "").strip())
    return text + 300 * embeds


def _is_embed_holder(node: LexborNode) -> bool:
    """An element beside the article holding an embedded post and little else."""
    if not node.is_element_node or node.tag in _NEVER_CONTENT:
        return False
    if is_boilerplate(node, page_level=True) or not has_embed(node):
        return False
    return len(node.text(strip=True)) < 1000


def _adjacent_embeds(root: LexborNode) -> list[LexborNode]:
    """Embeds that sit right before or after the article, outside its element."""
    found: dict[str, list[LexborNode]] = {"prev": [], "next": []}
    for step, nodes in found.items():
        sibling = getattr(root, step)
        while sibling is not None:
            if sibling.is_element_node and sibling.tag not in _NEVER_CONTENT:
                if not _is_embed_holder(sibling):
                    break
                nodes.append(sibling)
            elif not sibling.is_element_node and (sibling.text_content or "").strip():
                break
            sibling = getattr(sibling, step)
    return [*reversed(found["prev"]), root, *found["next"]]


def content_roots(tree: LexborHTMLParser) -> list[LexborNode]:
    """The elements holding the article itself: <article>s, else the main content, else <body>.

    Among several candidates the one holding the most text and embeds is the article, with
    candidates beside it under the same parent (the posts of a live blog); candidates in an
    <aside>, <nav> or a page header/footer are page furniture. A wrapper named like a sidebar
    only counts against a candidate when a better one exists elsewhere: the article's own
    ancestors are never discarded.
    """
    page = frozenset({"body", "html", "-document", None})
    in_boilerplate = _Ancestry(lambda parent: is_boilerplate(parent, page_level=True), page)
    in_furniture = _Ancestry(
        lambda parent: parent.tag in _BOILERPLATE_TAGS or parent.tag in ("header", "footer"), page
    )
    for selector in ("article", *_MAIN_SELECTORS):
        nodes = [
            node
            for node in tree.css(selector)
            if node.tag not in _BOILERPLATE_TAGS and not in_furniture(node)
        ]
        nodes = _outermost(nodes)
        if not nodes:
            continue
        weights = {
            node.mem_id: _weight(node) // (4 if in_boilerplate(node) else 1) for node in nodes
        }
        best = max(nodes, key=lambda node: weights[node.mem_id])
        parent = best.parent.mem_id if best.parent is not None else None
        roots = [
            node
            for node in nodes
            if node.mem_id == best.mem_id
            or (
                node.parent is not None
                and node.parent.mem_id == parent
                and not in_boilerplate(node)
                and node.tag == best.tag
            )
        ]
        return _adjacent_embeds(best) if len(roots) == 1 else roots
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
    # The elements holding embeds under the outermost <aside> asked about, found once for it:
    # an <aside> nested in it is answered from them, not by searching its subtree again.
    searched: tuple[int, set[int]] | None = None

    def holds_embed(aside: LexborNode) -> bool:
        nonlocal searched
        if searched is None:
            searched = aside.mem_id, _embed_holders(aside)
        return aside.mem_id in searched[1]

    open_elements = [root]  # entered, not yet left: as deep as the tree, which markup bounds
    node = root.child
    while True:
        if node is None:
            left = open_elements.pop()
            if searched is not None and left.mem_id == searched[0]:
                searched = None
            yield left, False
            if not open_elements:
                return
            node = left.next
            continue
        if node.is_element_node and node.tag in _NEVER_CONTENT:
            # Reported, not entered: an embed may be a <script> (Telegram's widget) whose
            # attributes name the post; its code is no article text.
            yield node, True
            yield node, False
            node = node.next
            continue
        if node.is_element_node and (
            # is_boilerplate's rule for an <aside> in the article, with the search shared
            not holds_embed(node)
            if node.tag == "aside" and not page_level
            else is_boilerplate(node, page_level=page_level)
        ):
            if searched is not None and node.mem_id == searched[0]:
                searched = None
            node = node.next
            continue
        yield node, True
        if node.is_element_node:
            open_elements.append(node)
            node = node.child
        else:
            node = node.next
