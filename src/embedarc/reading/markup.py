"""Parsing HTML into a tree once, with its nesting bounded so that no page can stall the parser.

lexbor's tree builder checks the stack of open elements for every start tag, so a page of
200,000 nested <div>s costs it time in the square of the depth (minutes for 2.4 MB). Chromium
stops nesting at 512 elements for the same reason; here, markup nested deeper than MAX_DEPTH is
read flat before lexbor sees it: the elements past that depth lose their tags (their text stays),
except the ones links are read from (<a>, <iframe>, <video>, <audio>, <source>), which are kept
as empty elements beside the text, so no link is lost. Only such pages are rewritten; every other
page is parsed exactly as it came.

Pure functions: nothing here touches the network.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

log = logging.getLogger(__name__)

MAX_DEPTH = 512

_VOID = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input"}
    | {"keygen", "link", "meta", "param", "source", "track", "wbr", "image"}
)
# Elements whose end tag may be left out: the parser closes them when a sibling starts, so they
# never nest deeply and counting them would only mistake ordinary pages for deep ones.
_IMPLIED_END = frozenset(
    {"p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot"}
    | {"rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body"}
)
# A second one of these closes the first instead of nesting in it.
_NO_SELF_NESTING = frozenset({"a", "button", "nobr", "select", "form"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"}
)
_FOREIGN = frozenset({"svg", "math"})
# Past MAX_DEPTH these stay (as empty elements): the links of a page are read from them.
_LINK_TAGS = frozenset({"a", "video", "audio"})
_MEDIA = ("video", "audio")

_WS = "\t\n\f\r "
_TOKEN_RE = re.compile(
    rf"<(?:(?P<end>/)?(?P<name>[A-Za-z][^{_WS}/>]*+)"
    # Attributes: a quoted value may hold ">"; one left open runs to the end, as in a browser.
    rf"(?P<rest>(?:[^>=]++|=[{_WS}]*+(?:\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|))*+)(?:>|\Z)"
    r"|(?P<comment>!--)|[!?])"
)
_RAW_END_RES = {name: re.compile(rf"</{name}[{_WS}/>]", re.IGNORECASE) for name in _RAW_TEXT}


@dataclass
class _Open:
    name: str
    dropped: bool  # its tags are left out of the rewritten page


def flatten_deep(text: str, max_depth: int = MAX_DEPTH) -> tuple[str, int]:
    """The page with elements nested past max_depth read flat; how many elements lost their tags.

    A page that is not that deep comes back unchanged (the same string). One pass, linear in
    the length of the page.
    """
    if text.count("<") <= max_depth:
        return text, 0  # too few tags to nest that deep: the common case costs one count
    stack: list[_Open] = []
    counts: dict[str, int] = {}  # open elements per name, to match end tags in constant time
    foreign = 0  # open <svg>/<math>: there "<g/>" closes itself
    pieces: list[str] = []
    last = 0  # text[last:] is not yet copied into pieces
    dropped = 0
    pos = 0

    def pop_to(name: str) -> bool:
        """Close the innermost open `name` and everything inside it; whether its tags stay."""
        nonlocal foreign
        while True:
            top = stack.pop()
            counts[top.name] -= 1
            if top.name in _FOREIGN:
                foreign -= 1
            if top.name == name:
                return not top.dropped

    while (match := _TOKEN_RE.search(text, pos)) is not None:
        start, pos = match.start(), match.end()
        name = match["name"]
        if name is None:
            closer = "-->" if match["comment"] else ">"
            end = text.find(closer, pos)
            pos = len(text) if end < 0 else end + len(closer)
            continue
        name = name.lower()
        if match["end"]:
            if counts.get(name) and not pop_to(name):
                pieces.append(text[last:start])  # the end tag of a dropped element
                last = pos
            continue
        if name in _RAW_TEXT:
            # Its content is text, not markup; it never nests, so it stays as it is at any depth.
            end_match = _RAW_END_RES[name].search(text, pos)
            close = -1 if end_match is None else text.find(">", end_match.end() - 1)
            pos = len(text) if close < 0 else close + 1
            continue
        if name == "plaintext":
            break  # everything after it is text
        if name in _VOID or name in _IMPLIED_END:
            if name == "source" and stack and stack[-1].dropped and stack[-1].name in _MEDIA:
                # Past the cap its <video> is gone: give the <source> one of its own.
                pieces.append(f"{text[last:start]}<{stack[-1].name}>{text[start:pos]}")
                pieces.append(f"</{stack[-1].name}>")
                last = pos
            continue
        if match["rest"].endswith("/") and foreign:
            continue  # a self-closed element of SVG or MathML
        if name in _NO_SELF_NESTING and counts.get(name):
            pop_to(name)
        elif name in _HEADINGS and stack and stack[-1].name in _HEADINGS:
            pop_to(stack[-1].name)
        deep = len(stack) >= max_depth
        stack.append(_Open(name, deep))
        counts[name] = counts.get(name, 0) + 1
        if name in _FOREIGN:
            foreign += 1
        if deep:
            dropped += 1
            kept = f"{text[start:pos]}</{name}>" if name in _LINK_TAGS else ""
            pieces.append(text[last:start] + kept)
            last = pos
    if not pieces:
        return text, 0
    pieces.append(text[last:])
    return "".join(pieces), dropped


def parse_html(text: str) -> LexborHTMLParser:
    """The one parse of a page: a lexbor tree, nested at most about MAX_DEPTH deep."""
    flat, dropped = flatten_deep(text)
    if dropped:
        log.warning(
            "page nested deeper than %d elements: %d elements past that read flat",
            MAX_DEPTH,
            dropped,
        )
    return LexborHTMLParser(flat)
