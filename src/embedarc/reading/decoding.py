"""Turning an article's bytes into text the way a browser would: BOM, declared charset, guesses.

Pure functions: nothing here touches the network.
"""

from __future__ import annotations

import codecs
import re

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
        except (LookupError, UnicodeError):
            # An unknown or wrong label is common; the next guess may fit. UnicodeError, not
            # just UnicodeDecodeError: Python codecs such as "undefined" and "idna" raise it.
            continue
    return raw.decode("cp1252", errors="replace")
