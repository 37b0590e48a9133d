"""What a source's item may be: an http(s) URL from a feed or a list, a file of its folder.

Feeds and lists are written by others (a remote feed, a list another program appends to), so
nothing they offer is ever read as a local path; and a bad item is refused with a reason, alone.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..reading.urls import is_web_url, split_url

MAX_URL = 8192  # characters: longer is no article address
MAX_SHOWN = 200  # characters of a bad item kept as its key and shown in messages
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """Text from a stranger made safe to store as a key and print on one line: control
    characters escaped, and cut short when very long (with a hash, so keys stay distinct)."""
    safe = CONTROL_RE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)
    if len(safe) <= MAX_SHOWN:
        return safe
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]
    return f"{safe[:MAX_SHOWN]}… ({len(text)} characters, sha256 {digest})"


def url_problem(url: str) -> str | None:
    """Why an address a feed or a URL list gave cannot be fetched; None for an http(s) URL."""
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if CONTROL_RE.search(url) or any(c.isspace() for c in url):
        return "contains blanks or control characters"
    parts = split_url(url)
    if parts is None:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        what = f"a {parts.scheme}: URL" if parts.scheme else "a local path or relative address"
        return f"not an http(s) URL ({what}); only a folder source brings local files"
    if not parts.hostname:
        return "not a valid URL: no host"
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        return "not a valid URL: bad port"
    if not is_web_url(url):
        return "not a valid URL"
    return None


def file_problem(folder: str, target: str) -> str | None:
    """Why a folder item is not a file of that folder to read; None when it is one.

    A name is never a path (no separators, no `..`), and a symbolic link must not lead out of
    the folder: whoever may drop files must not be able to make embedarc copy other files.
    """
    path, base = Path(target), Path(folder)
    if "\x00" in target or path.parent != base or path.name in ("", ".", ".."):
        return "not a file directly inside the folder"
    try:
        real, real_base = path.resolve(strict=True), base.resolve(strict=True)
    except (OSError, RuntimeError):  # gone, or a symbolic link loop: read_path says which
        return None
    if real.parent != real_base:
        return "a symbolic link to a file outside the folder"
    return None
