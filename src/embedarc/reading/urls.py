"""One canonical spelling for every URL, by the rules every web URL follows.

A platform's own spellings (its posts' URLs, its media files at original size) are added by the
registry (`platforms.normalise`), which sits above this module. Pure functions: nothing here
touches the network.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

from ..errors import BadURL
from ..network.guard import ends_in_number, parse_address

# --- normalisation ------------------------------------------------------------------------------

# Hosts people paste without a scheme, besides the platforms' (the registry adds theirs);
# anything else without one is not taken as a URL.
SCHEMELESS_HOSTS = ("ift.tt",)


def schemeless(hosts: Iterable[str]) -> re.Pattern[str]:
    """What starts a URL pasted without a scheme on one of these hosts (www., m., mobile. too)."""
    names = "|".join(re.escape(host) for host in sorted(set(hosts))) or "(?!)"
    return re.compile(rf"(?:(?:www|mobile|m)\.)?(?:{names})/", re.IGNORECASE)


_SCHEMELESS_RE = schemeless(SCHEMELESS_HOSTS)
_TRACKING = frozenset({"fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "ref_src", "ref_url"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


# A browser trims blanks and control characters off both ends of an address, drops tabs and
# newlines inside it, and percent-encodes what else cannot appear in one.
_BLANK = r"[\s\x00-\x1f\x7f-\x9f]"
_EDGES_RE = re.compile(rf"^{_BLANK}+|{_BLANK}+\Z")
_BLANK_RE = re.compile(_BLANK)
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")


def clean(url: str) -> str:
    """The URL as a browser reads what was written: blanks trimmed, tabs and newlines dropped."""
    url = _EDGES_RE.sub("", url).translate(_TAB_NEWLINE)
    return _BLANK_RE.sub(lambda match: quote(match[0], safe=""), url)


def split_url(url: str) -> SplitResult | None:
    """urlsplit(url), or None for an address it refuses."""
    try:
        return urlsplit(url)
    except ValueError:  # an unbalanced "[" or a character NFKC turns into "/", "?", "#" or "@"
        return None


def join_url(base: str, url: str) -> str | None:
    """urljoin(base, url), or None when either is an address it refuses."""
    try:
        return urljoin(base, url)
    except ValueError:
        return None


def is_web_url(url: str) -> bool:
    """Whether a URL is one a browser could fetch: http(s), a host, a valid port, no blanks."""
    parts = split_url(url)
    if parts is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        return False
    return not _BLANK_RE.search(url)


# --- what a request is made for -----------------------------------------------------------------

# Code points a host may not contain (the WHATWG URL standard's forbidden host code points).
FORBIDDEN_HOST_RE = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_USERINFO_RE = re.compile(r"(?<=//)[^/?#]*@")
SHOWN_MAX = 120


def redact(url: str) -> str:
    """Drop userinfo from a URL before it is logged or recorded, malformed URLs included."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return parts._replace(netloc=netloc).geturl()
    except ValueError:  # an unbalanced "[" or a bad port: cut out whatever precedes an "@"
        return _USERINFO_RE.sub("", url, count=1)


def shown(url: str) -> str:
    """A URL as a message shows it: without credentials, and short (data: URLs can be huge)."""
    text = redact(url)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def _bad(url: str, why: str) -> BadURL:
    return BadURL(f"malformed URL {shown(url)}: {why}", why=why)


def request_url(url: str) -> str:
    """The URL a request is made for, its host read as a browser reads it; else BadURL.

    Only http(s) with a host and a valid port. A non-ASCII host is NFKC-normalised (so
    `①②⑦.0.0.1` is `127.0.0.1`, as UTS #46 maps it), and a numeric host in any spelling
    resolvers accept (`127.000.000.001`, `0x7f.1`) becomes its dotted form, so the address
    guard judges the address that would be reached and the HTTP client never sees a spelling
    it cannot parse. What fails here will fail the same way every time.
    """
    parts = split_url(url.strip())
    if parts is None:
        raise _bad(url, "unbalanced brackets or a character not allowed in a host")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        what = f"a {scheme}: URL" if scheme else "not an absolute URL"
        raise BadURL(
            f"not a web address: {shown(url)} ({what}; only http and https are fetched)",
            why=f"{what}; only http and https URLs can be fetched",
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise _bad(url, "the port is not a number from 0 to 65535") from None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    bracketed = hostport.startswith("[")
    host = parts.hostname or ""
    if not host:
        raise _bad(url, "there is no host")
    if bracketed:
        return url  # an IPv6 literal: the HTTP client checks its form, the guard its address
    mapped = unquote(host)
    if not mapped.isascii():
        mapped = unicodedata.normalize("NFKC", mapped).lower()
    if bad := FORBIDDEN_HOST_RE.search(mapped):
        raise _bad(url, "the host contains " + ("a space" if bad[0] == " " else repr(bad[0])))
    address = parse_address(mapped)
    if address is None and ends_in_number(mapped):
        raise _bad(url, "the host ends in a number but is not an IPv4 address")
    if address is not None:
        mapped = str(address)
    if mapped == host:
        return url
    netloc = (userinfo + "@" if "@" in parts.netloc else "") + mapped
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


# --- what a person probably meant ----------------------------------------------------------------

_SCHEME_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*):(?P<slashes>/*)(?P<rest>.*)\Z", re.I | re.S)
# A host with a dotted name and a top-level domain, then a path: "www.site.com/x", "x.com/a".
_BARE_HOST_RE = re.compile(r"(?:[\w-]+\.)+[a-z]{2,63}(?::\d{1,5})?/", re.I)
_DEFANGED = {"hxxp": "http", "hxxps": "https"}  # how threat reports write links not to click


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) turning a into b."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            best = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                best = min(best, rows[-2][j - 2] + 1)
            row.append(best)
        rows.append(row)
    return rows[-1][-1]


def meant_url(text: str) -> str | None:
    """The http(s) URL a mistyped one probably meant ("htps://site.com/a", "www.site.com/x",
    "https:/site.com"), or None when the text does not look like a try at one."""
    text = text.strip()
    if match := _SCHEME_RE.match(text):
        scheme, rest = match["scheme"].lower(), match["rest"]
        fixed = _DEFANGED.get(scheme)
        if fixed is None and scheme not in _DEFAULT_PORTS:
            # "httsp" is one edit from both: https is what sites use now.
            fixed = min(("https", "http"), key=lambda known: _distance(scheme, known))
            if _distance(scheme, fixed) > 1:
                return None  # another scheme (ftp:, mailto:) or a drive letter (C:)
        if fixed is None and match["slashes"] == "//":
            return None  # http(s):// already: malformed, not mistyped
        return f"{fixed or scheme}://{rest}" if rest else None
    if text.startswith("//") and _BARE_HOST_RE.match(text[2:]):
        return "https:" + text
    if text.lower().startswith("www.") or _BARE_HOST_RE.match(text):
        return "https://" + text
    return None


def with_scheme(url: str, bare: re.Pattern[str] = _SCHEMELESS_RE) -> str:
    """The URL with https:// in front when it is "//host/…" or a host pasted without one
    (`bare`, made by `schemeless`; the registry passes the platforms' hosts too)."""
    if url.startswith("//"):
        return "https:" + url
    if bare.match(url):
        return "https://" + url
    return url


def absolute_url(
    href: str | None, base: str | None, bare: re.Pattern[str] = _SCHEMELESS_RE
) -> str | None:
    """An http(s) URL for an attribute value (relative to `base`, or a `bare` host pasted
    without a scheme), or None for fragments, mailto: and the like."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    href = with_scheme(href, bare)
    parts = split_url(href)
    if base and parts is not None and not parts.scheme:
        href = join_url(base, href) or ""
        parts = split_url(href)
    return href if parts and parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _netloc(scheme: str, netloc: str) -> str:
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport.lower(), ""
    if not host.endswith("]") and ":" in host:
        host, _, port = host.rpartition(":")
    if port and _DEFAULT_PORTS.get(scheme) == (int(port) if _is_number(port) else None):
        port = ""
    return (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")


def _is_number(value: str) -> bool:
    # str.isdigit() is also true of "²" and "٣", which int() and URL parsers refuse.
    return value.isascii() and value.isdigit()


def _without_tracking(query: str) -> str:
    # Split by hand so the parameters that stay keep their order and their exact encoding.
    kept = []
    for part in query.split("&"):
        name = part.split("=", 1)[0].lower()
        if part and not name.startswith("utm_") and name not in _TRACKING:
            kept.append(part)
    return "&".join(kept)


def canonical(url: str) -> str:
    """The canonical form of a URL by the rules every web URL follows: scheme and host in
    lower case, no default port, no fragment, no tracking parameters.

    A platform's own spelling of its URLs is not applied here: `platforms.normalise` is the
    canonical form the rest of embedarc uses.
    """
    url = with_scheme(clean(url))
    parts = split_url(url)
    scheme = parts.scheme.lower() if parts else ""
    # Without a host, "https:////h/" and "https://@//h/" would be rebuilt as "https://h/":
    # another URL, with another host, each pass. Such a URL is left as it is: not a web URL.
    if parts is None or scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    netloc = _netloc(scheme, parts.netloc)
    return urlunsplit((scheme, netloc, parts.path, _without_tracking(parts.query), ""))
