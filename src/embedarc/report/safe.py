"""What may become a link in the view: titles, URLs and paths all come from strangers."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, urlsplit

# Only these leave the archive when clicked; `javascript:`, `data:`, `file:` and the rest are
# shown as text, never as an href.
WEB_SCHEMES = ("http", "https")
# Blanks and controls: browsers strip or skip them ("java\tscript:"), so no link has them.
_BLANK_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def web_href(url: object) -> str | None:
    """`url` when it is an http(s) URL with a host, else None (shown as text only)."""
    if not isinstance(url, str) or not url or _BLANK_OR_CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return None
    return url


def local_href(base: str, target: object) -> str | None:
    """A relative link from folder `base` to `target` (both relative to the archive folder),
    or None when `target` is not a plain path inside the archive."""
    if not isinstance(target, str) or not target or "\\" in target or "\0" in target:
        return None
    if target.startswith("/") or ":" in target.split("/", 1)[0]:
        return None  # absolute, or a scheme (javascript:, file:, c:)
    normal = posixpath.normpath(target)
    if normal.startswith("../") or normal in ("..", "."):
        return None
    # relpath without asking for the working folder: both paths are relative to the archive.
    here = [p for p in posixpath.normpath(base or ".").split("/") if p not in ("", ".")]
    there = normal.split("/") if normal != "." else []
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    relative = "/".join([".."] * (len(here) - common) + there[common:]) or "."
    # Quoted, so a name with '#', '?' or '%' still names the file.
    return quote(relative, safe="/-_.~")
