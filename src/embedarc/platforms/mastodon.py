"""Mastodon and the fediverse servers that speak its API: status URLs, embeds, the statuses API.

Any host may be an instance, so a URL of the right shape is claimed without the network, and
the look-up first asks the host what it is (nodeinfo, else the instance API), once per host
per run. A host that is no such server gives the link back (`PostAnswer.not_mine`): a blog's
`/@name/123` is then followed as an ordinary link.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..clock import iso
from ..model import Evidence, Failure, MediaKind, Outcome
from .base import Platform, Post, PostAnswer, PostMedia, PostRef, Session

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ..network.net import Fetched, Net
    from ..network.once import Once

SITE = "mastodon"
MAX_MEDIA = 64  # Mastodon allows 4 a post; more is a hostile answer
MAX_DEPTH = 3  # a post, the post it boosts, the post that quotes: deeper is not a real answer
SMALL_ANSWER = 256 * 1024  # nodeinfo and instance documents are a few KB
STATUS_ANSWER = 4 * 1024 * 1024

# Servers whose nodeinfo software.name says they answer /api/v1/statuses/<id> as Mastodon does.
# Misskey and its forks without the Mastodon API use other ids and URLs: they are not here.
API_SOFTWARE = frozenset(
    {
        "mastodon",
        "hometown",
        "glitch-soc",
        "glitchsoc",
        "fedibird",
        "pleroma",
        "akkoma",
        "gotosocial",
        "iceshrimp",
        "iceshrimp.net",
        "sharkey",
        "firefish",
        "takahe",
        "snac",
        "mitra",
        "friendica",
    }
)

# The minor version is compared as a number: a few digits, never one int() refuses.
_NODEINFO_REL = re.compile(r"^https?://nodeinfo\.diaspora\.software/ns/schema/2\.(\d{1,4})$")
_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,62})\.)+[a-z][a-z0-9-]{1,62}"
_USER = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
_ACCT = rf"{_USER}(?:@{_HOST})?"
_SNOWFLAKE = r"\d{15,20}"  # Mastodon ids since 2017; older posts are reached under /users/
_PATHS = (
    re.compile(rf"^/(?:web/)?@(?P<user>{_ACCT})/(?P<id>{_SNOWFLAKE})(?:/embed)?/?$", re.I),
    re.compile(rf"^/users/(?P<user>{_USER})/statuses/(?P<id>\d{{1,20}})(?:/activity)?/?$", re.I),
    re.compile(rf"^/web/statuses/(?P<id>{_SNOWFLAKE})/?$"),
)
_HOST_RE = re.compile(rf"^{_HOST}$")
# Big sites with /@name paths of their own: never an instance, so never asked whether they are.
# (A registered platform's own hosts are kept from every other platform by the registry.)
_NOT_INSTANCES = re.compile(
    r"(?:^|\.)(?:medium\.com|youtube\.com|tiktok\.com|threads\.net"
    r"|threads\.com|instagram\.com|facebook\.com)$"
)
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_KINDS = {
    "image": MediaKind.PHOTO,
    "video": MediaKind.VIDEO,
    "gifv": MediaKind.GIF,
    "audio": MediaKind.AUDIO,
    "unknown": MediaKind.UNKNOWN,
}


@dataclass(frozen=True)
class _Instance:
    """What a host said it is: a server with the Mastodon API, or not (and why), or no answer."""

    mine: bool
    reason: str
    evidence: tuple[Evidence, ...] = ()
    failed: PostAnswer | None = None  # no verdict now: ask again later

    @property
    def final(self) -> bool:
        return self.failed is None


class Mastodon(Platform):
    site = SITE
    embed_selector = "iframe.mastodon-embed, blockquote.mastodon-embed"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # One verdict per host per run: a run has one Net, so the cache lives and dies with it.
        self._instances: weakref.WeakKeyDictionary[Net, Once] = weakref.WeakKeyDictionary()

    # -- without the network ----------------------------------------------------------------

    def claims(self, url: str) -> PostRef | None:
        if "/@" not in url and "/users/" not in url and "/web/" not in url:
            return None  # asked of every link of every article: the common answer, cheaply
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or port not in (None, 80, 443):
            return None
        if not _HOST_RE.match(host) or _NOT_INSTANCES.search(host) or parts.username is not None:
            return None
        for pattern in _PATHS:
            match = pattern.match(parts.path)
            if match is not None:
                status_id = match["id"]
                path = parts.path.rstrip("/").removesuffix("/embed").removesuffix("/activity")
                return PostRef(SITE, f"{host}/{status_id}", f"https://{host}{path}")
        return None

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        from ..reading.urls import join_url

        attributes = node.attributes
        raw = attributes.get("data-embed-url") if node.tag == "blockquote" else None
        raw = raw or attributes.get("src") or attributes.get("data-src")
        url = join_url(base, raw.strip()) if base and raw else (raw or "").strip()
        ref = self.claims(url) if url else None
        return ref.url if ref is not None else None

    # -- through the network ----------------------------------------------------------------

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        host, _, status_id = ref.id.partition("/")
        instance = self._instance(net, host)
        if instance.failed is not None:
            return instance.failed
        if not instance.mine:
            return PostAnswer(not_mine=True, reason=instance.reason, evidence=instance.evidence)
        answer = _status(net, host, status_id, ref)
        evidence = instance.evidence + answer.evidence
        return replace(answer, evidence=evidence)

    def _instance(self, net: Net, host: str) -> _Instance:
        from ..network.once import Once

        with self._lock:
            once = self._instances.get(net)
            if once is None:
                once = self._instances[net] = Once()
        return once(host, lambda: _ask_instance(net, host), keep=lambda found: found.final)


# -- is the host a fediverse server? ----------------------------------------------------------


def _get(net: Net, url: str, max_bytes: int) -> Fetched:
    return net.fetch(url, headers={"Accept": "application/json"}, max_bytes=max_bytes)


def _transient(status: int) -> bool:
    return status in (408, 425, 429) or status >= 500


def _ask_instance(net: Net, host: str) -> _Instance:
    from ..network.net import NetworkError, Refused, retry_hint

    evidence: list[Evidence] = []
    try:
        software = _nodeinfo_software(net, host, evidence)
        if software is None:
            return _instance_api(net, host, evidence)
    except Refused as e:
        answer = PostAnswer(outcome=Outcome.REFUSED, reason=str(e), evidence=tuple(evidence))
        return _Instance(False, str(e), tuple(evidence), answer)
    except _Busy as e:
        answer = PostAnswer(
            outcome=Outcome.FAILED,
            reason=f"{host}: {e}",
            evidence=tuple(evidence),
            retry_after=retry_hint(e.fetched.headers),
            failure=Failure.for_status(e.fetched.status),
        )
        return _Instance(False, str(e), tuple(evidence), answer)
    except NetworkError as e:
        answer = PostAnswer(
            outcome=Outcome.FAILED,
            reason=str(e),
            evidence=tuple(evidence),
            failure=Failure.NETWORK,
        )
        return _Instance(False, str(e), tuple(evidence), answer)
    if software in API_SOFTWARE:
        return _Instance(True, f"{host} runs {software}", tuple(evidence))
    return _Instance(False, f"{host} runs {software}, not a Mastodon-API server", tuple(evidence))


class _Busy(Exception):
    """The host could not answer now (429, 5xx): its verdict is for a later run."""

    def __init__(self, fetched: Fetched) -> None:
        super().__init__(f"HTTP {fetched.status} from {fetched.url}")
        self.fetched = fetched


def _json_document(net: Net, url: str, evidence: list[Evidence], name: str) -> dict[str, Any]:
    """The JSON object at url, or {} when there is none; _Busy when the server is busy."""
    from ..errors import TooLarge

    try:
        fetched = _get(net, url, SMALL_ANSWER)
    except TooLarge:
        return {}
    if _transient(fetched.status):
        raise _Busy(fetched)
    if fetched.status != 200:
        return {}
    evidence.append(Evidence(name, fetched.content))
    try:
        data = fetched.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _nodeinfo_software(net: Net, host: str, evidence: list[Evidence]) -> str | None:
    """The software name the host's nodeinfo gives (lower case), or None without nodeinfo."""
    index = _json_document(
        net, f"https://{host}/.well-known/nodeinfo", evidence, f"{host}.well-known-nodeinfo.json"
    )
    links = index.get("links")
    best: tuple[int, str] | None = None
    for link in links[:16] if isinstance(links, list) else ():
        if not isinstance(link, dict):
            continue
        rel, href = link.get("rel"), link.get("href")
        match = _NODEINFO_REL.match(rel) if isinstance(rel, str) else None
        if match and _web_url(href) and (best is None or int(match[1]) > best[0]):
            best = (int(match[1]), str(href))
    if best is None:
        return None
    document = _json_document(net, best[1], evidence, f"{host}.nodeinfo.json")
    software = document.get("software")
    name = software.get("name") if isinstance(software, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None
    return name.strip().lower()[:64]


def _instance_api(net: Net, host: str, evidence: list[Evidence]) -> _Instance:
    """Without nodeinfo: a host that answers the instance API as Mastodon does is one."""
    for version in ("v2", "v1"):
        found = _json_document(
            net,
            f"https://{host}/api/{version}/instance",
            evidence,
            f"{host}.instance-{version}.json",
        )
        names = found.get("domain") if version == "v2" else found.get("uri")
        if isinstance(names, str) and isinstance(found.get("version"), str):
            return _Instance(True, f"{host} answers the instance API", tuple(evidence))
    why = f"{host} shows no nodeinfo and no instance API: not a fediverse server"
    return _Instance(False, why, tuple(evidence))


# -- the status --------------------------------------------------------------------------------


def _status(net: Net, host: str, status_id: str, ref: PostRef) -> PostAnswer:
    from ..errors import TooLarge
    from ..network.net import NetworkError, Refused, retry_hint

    url = f"https://{host}/api/v1/statuses/{status_id}"
    try:
        fetched = _get(net, url, STATUS_ANSWER)
    except Refused as e:
        return PostAnswer(outcome=Outcome.REFUSED, reason=str(e))
    except TooLarge as e:
        return PostAnswer(outcome=Outcome.TOO_LARGE, reason=str(e))
    except NetworkError as e:
        return PostAnswer(outcome=Outcome.FAILED, reason=str(e), failure=Failure.NETWORK)
    evidence = (Evidence(f"{host}.{status_id}.mastodon.json", fetched.content),)
    try:
        data = fetched.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if fetched.status != 200 or error is not None:
        said = f": {str(error)[:200]}" if error is not None else ""
        reason = f"HTTP {fetched.status} from {host}{said}"
        if _transient(fetched.status):
            return PostAnswer(
                outcome=Outcome.FAILED,
                reason=reason,
                evidence=evidence,
                retry_after=retry_hint(fetched.headers),
                failure=Failure.for_status(fetched.status),
            )
        if fetched.status in (401, 403) or "not allowed" in said or "authenticat" in said:
            # Followers-only posts, and instances that show nothing to visitors without login.
            return PostAnswer(outcome=Outcome.LOGIN_REQUIRED, reason=reason, evidence=evidence)
        if fetched.status in (404, 410):
            # Mastodon answers 404 for a deleted post and for one its visitor may not see.
            reason += " (deleted, or not public)"
        outcome = Outcome.for_http_status(fetched.status)
        failure = Failure.for_status(fetched.status) if outcome is Outcome.FAILED else None
        return PostAnswer(outcome=outcome, reason=reason, evidence=evidence, failure=failure)
    if not isinstance(data, dict):
        reason = f"{host}: the statuses API did not answer with a status"
        return PostAnswer(outcome=Outcome.FAILED, reason=reason, evidence=evidence)
    post = _post(data, host, ref.url, status_id, depth=0)
    return PostAnswer(post=post, evidence=evidence)


def _web_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 4096:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _text(value: object) -> str:
    """The text of a post's HTML content, a line per paragraph or line break."""
    if not isinstance(value, str) or not value:
        return ""
    from ..reading.markup import parse_html

    tree = parse_html(_BREAKS.sub("\n", value[:1_000_000]))
    body = tree.body
    return (body.text(separator="") if body is not None else "").strip()


def _when(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC), ms=True)
    except ValueError:  # not a time, or one that cannot be written in UTC
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and 0 <= value < 1e9 else None  # NaN, negatives


def _int(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _media(item: object) -> PostMedia | None:
    if not isinstance(item, dict):
        return None
    kind = _KINDS.get(str(item.get("type")))
    local, remote = item.get("url"), item.get("remote_url")
    # `url` is the instance's copy at original size; `remote_url` the origin server's file.
    url = local if _web_url(local) else remote if _web_url(remote) else None
    if kind is None or url is None:
        return None
    meta = _dict(item.get("meta"))
    original = _dict(meta.get("original"))
    also = (str(remote),) if _web_url(remote) and remote != url else ()
    return PostMedia(
        url=str(url),
        kind=kind,
        width=_int(original.get("width")) or _int(meta.get("width")),
        height=_int(original.get("height")) or _int(meta.get("height")),
        duration=_number(original.get("duration")) or _number(meta.get("duration")),
        also=also,
    )


def _quoted(data: dict[str, Any]) -> dict[str, Any] | None:
    """The status a post quotes: Mastodon 4.4's Quote holds it; Akkoma gives it directly."""
    quote = data.get("quote")
    if not isinstance(quote, dict):
        return None
    inner = quote.get("quoted_status")
    if isinstance(inner, dict):
        return inner
    return quote if "account" in quote and "id" in quote else None


def _post(data: dict[str, Any], host: str, url: str | None, status_id: str, depth: int) -> Post:
    account = _dict(data.get("account"))
    acct = account.get("acct")
    author = None
    if isinstance(acct, str) and acct:
        # Local accounts are written without their domain: the handle names it everywhere.
        author = f"@{acct}" if "@" in acct else f"@{acct}@{host}"
    name = account.get("display_name")
    own_url, uri = data.get("url"), data.get("uri")
    home = next((str(u) for u in (own_url, uri) if _web_url(u)), None)
    # A post copied from another server keeps the address where it was first published.
    origin = home if home is not None and _host(home) != host else None
    items = data.get("media_attachments")
    media = tuple(
        m for m in (_media(i) for i in (items[:MAX_MEDIA] if isinstance(items, list) else ())) if m
    )
    reposted = quoted = None
    if depth < MAX_DEPTH:
        reposted = _nested(data.get("reblog"), host, depth)
        quoted = _nested(_quoted(data), host, depth)
    # A deleted post, as its author sees it, has its source `text` instead of `content`.
    source = data.get("text")
    text = _text(data.get("content")) or (source if isinstance(source, str) else "")
    return Post(
        site=SITE,
        id=f"{host}/{status_id}",
        url=url or home or f"https://{host}/web/statuses/{status_id}",
        author=author,
        author_name=name if isinstance(name, str) and name else None,
        text=str(text),
        created_at=_when(data.get("created_at")),
        media=media,
        quoted=quoted,
        reposted=reposted,
        source="mastodon-api",
        origin_url=origin,
    )


def _nested(data: object, host: str, depth: int) -> Post | None:
    if not isinstance(data, dict):
        return None
    status_id = data.get("id")
    if isinstance(status_id, int) and not isinstance(status_id, bool):
        status_id = str(status_id)
    if not isinstance(status_id, str) or not re.fullmatch(r"[A-Za-z0-9]{1,32}", status_id):
        return None
    own = data.get("url")
    local = own if _web_url(own) and _host(str(own)) == host else None
    return _post(data, host, local, status_id, depth + 1)


MASTODON = Mastodon()
