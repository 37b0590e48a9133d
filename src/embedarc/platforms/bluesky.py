"""Bluesky posts: bsky.app links and `blockquote.bluesky-embed` embeds, looked up without login.

The public AppView (`public.api.bsky.app`) says what a post is: text, author, time, quoted
post, and its media as CDN URLs (`cdn.bsky.app` images, `video.bsky.app` HLS), which are
re-encodes. The files as the author uploaded them are blobs in the author's own repository:
the DID document names the author's PDS, and `com.atproto.sync.getBlob` there returns the
original bytes. So each file is fetched from the PDS, and the CDN rendition is recorded beside
it (`PostMedia.also`). Shapes: the AT Protocol lexicons (app.bsky.feed.defs, getPostThread,
app.bsky.embed.*) and recorded answers (tests/fixtures/bluesky/PROVENANCE.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from ..clock import iso
from ..errors import BadURL, NetworkError, Refused
from ..model import Evidence, Failure, MediaKind, Outcome
from .base import Platform, Post, PostAnswer, PostMedia, PostRef, Session

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ..network.net import Fetched, Net

SITE = "bluesky"
APPVIEW = "https://public.api.bsky.app/xrpc"
PLC_DIRECTORY = "https://plc.directory"
POST_COLLECTION = "app.bsky.feed.post"
MAX_MEDIA = 64  # per post and its quotes together: an answer may list any number
MAX_QUOTE_DEPTH = 4  # a quote of a quote of ...: the AppView nests a few levels
THREAD_BYTES = 4 * 1024 * 1024
SMALL_BYTES = 256 * 1024  # a DID document, a resolved handle

_HOSTS = frozenset({"bsky.app", "www.bsky.app"})
_EMBED_HOST = "embed.bsky.app"
# Handles are domain names (atproto handle grammar): two labels or more, the last starting
# with a letter.
_HANDLE_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
# The DID methods Bluesky accepts: did:plc (24 base32 characters) and did:web (a host name,
# a port written %3A).
_DID_RE = re.compile(r"did:plc:[a-z2-7]{24}|did:web:" + _HANDLE_RE.pattern + r"(?:%3A[0-9]{1,5})?")
# The record-key grammar; a post's key is normally a TID (13 sortable base32 characters).
_RKEY_RE = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_CID_RE = re.compile(r"[A-Za-z0-9]{8,128}")
# cdn.bsky.app/img/<preset>/plain/<did>/<cid>@jpeg: where the image view names the blob
_CDN_CID_RE = re.compile(r"/img/[a-z_]+/plain/[^/]+/([A-Za-z0-9]{8,128})(?:@[a-z]+)?$")

T_THREAD = "app.bsky.feed.defs#threadViewPost"
T_NOT_FOUND = "app.bsky.feed.defs#notFoundPost"
T_BLOCKED = "app.bsky.feed.defs#blockedPost"
T_IMAGES = "app.bsky.embed.images#view"
T_VIDEO = "app.bsky.embed.video#view"
T_RECORD = "app.bsky.embed.record#view"
T_WITH_MEDIA = "app.bsky.embed.recordWithMedia#view"
T_VIEW_RECORD = "app.bsky.embed.record#viewRecord"
# Authors who set this label ask that logged-out visitors not be shown their posts;
# bsky.app shows such a post only after login.
NO_UNAUTHENTICATED = "!no-unauthenticated"


def _actor(raw: str) -> str | None:
    """A handle (lower-cased) or a DID, or None for anything else."""
    actor = unquote(raw).strip()
    if _DID_RE.fullmatch(actor):
        return actor
    actor = actor.lower()
    if len(actor) <= 253 and _HANDLE_RE.fullmatch(actor):
        return actor
    return None


def _rkey(raw: str) -> str | None:
    return raw if _RKEY_RE.fullmatch(raw) and raw not in (".", "..") else None


def post_ref(actor: str, rkey: str) -> PostRef:
    return PostRef(
        SITE,
        f"at://{actor}/{POST_COLLECTION}/{rkey}",
        f"https://bsky.app/profile/{actor}/post/{rkey}",
    )


def parse_claim(url: str) -> tuple[str, str] | None:
    """(actor, rkey) of a post URL: bsky.app, the embed frame's URL, or an at:// URI."""
    try:
        parts = urlsplit(url.strip())
        # An at:// authority is a DID, whose colons are no port.
        port = parts.port if parts.scheme.lower() != "at" else None
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    segments = parts.path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash
    if scheme == "at":
        # at://<authority>/<collection>/<rkey>; the authority holds colons, so netloc.
        if parts.query or parts.fragment or len(segments) != 2:
            return None
        authority, (collection, key) = parts.netloc, segments
    elif scheme in ("http", "https"):
        if parts.username is not None or parts.password is not None or port is not None:
            return None
        host = (parts.hostname or "").lower()
        if host in _HOSTS and len(segments) == 4 and segments[0] == "profile":
            if segments[2] != "post":
                return None
            authority, collection, key = segments[1], POST_COLLECTION, segments[3]
        elif host == _EMBED_HOST and len(segments) == 4 and segments[0] == "embed":
            authority, collection, key = segments[1], segments[2], segments[3]
        else:
            return None
    else:
        return None
    actor, rkey = _actor(authority), _rkey(key)
    if collection != POST_COLLECTION or actor is None or rkey is None:
        return None
    return actor, rkey


class Bluesky(Platform):
    """The platform: see the module's docstring."""

    site: str = SITE
    embed_selector: str = "blockquote.bluesky-embed[data-bluesky-uri]"

    def owns(self, host: str) -> bool:
        return host in _HOSTS or host == _EMBED_HOST

    def claims(self, url: str) -> PostRef | None:
        lowered = url[:16].lower()
        if "bsky" not in url.lower() and not lowered.startswith("at://"):
            return None  # asked of every link of every article: the common answer, cheaply
        found = parse_claim(url)
        return post_ref(*found) if found else None

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        ref = self.claims(node.attributes.get("data-bluesky-uri") or "")
        return ref.url if ref else None

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        return _LookUp(net, ref).run()


# -- the look-up ---------------------------------------------------------------------------


class _Stop(Exception):
    """Ends a look-up with an answer that has no post."""

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        retry_after: str | None = None,
        failure: Failure | None = None,
    ) -> None:
        super().__init__(reason)
        self.outcome, self.reason, self.retry_after = outcome, reason, retry_after
        self.failure = failure


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _web_url(value: object) -> str | None:
    """An http(s) URL with a host, else None: an answer may name anything."""
    text = _str(value)
    if text is None or len(text) > 4096:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return text


def _safe(text: str) -> str:
    """A file-name part: ASCII letters, digits, dot, dash, underscore; long ones hashed."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "post"
    if len(cleaned) > 100:
        cleaned = cleaned[:80] + "_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return cleaned


def _time(value: object) -> str | None:
    """ISO 8601 UTC from the AT Protocol's datetime strings; None if it is not one."""
    text = _str(value)
    if text is None or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text)
        return iso(moment, ms=bool(moment.microsecond))
    except ValueError:  # not a time, or one that cannot be written in UTC
        return None


def _blob_cid(blob: object) -> str | None:
    """The CID of a blob reference: {"ref": {"$link": cid}}, or the legacy {"cid": cid}."""
    blob = _dict(blob)
    cid = _str(_dict(blob.get("ref")).get("$link")) or _str(blob.get("cid"))
    return cid if cid and _CID_RE.fullmatch(cid) else None


def _post_uri(value: object) -> tuple[str, str] | None:
    """(DID, rkey) of an at:// post URI whose authority is a DID."""
    text = _str(value)
    found = parse_claim(text) if text and len(text) < 1024 else None
    if found is None or not found[0].startswith("did:"):
        return None
    return found


def _did_document_url(did: str) -> str:
    if did.startswith("did:web:"):
        host = unquote(did.removeprefix("did:web:"))
        return f"https://{host}/.well-known/did.json"
    return f"{PLC_DIRECTORY}/{did}"


@dataclass
class _LookUp:
    net: Net
    ref: PostRef
    evidence: list[Evidence] = field(default_factory=list)
    pds: dict[str, str | None] = field(default_factory=dict)  # DID → its PDS (None: unknown)
    media_left: int = MAX_MEDIA

    def run(self) -> PostAnswer:
        try:
            post = self._post()
        except _Stop as stop:
            return PostAnswer(
                None,
                stop.outcome,
                stop.reason,
                tuple(self.evidence),
                stop.retry_after,
                failure=stop.failure,
            )
        return PostAnswer(post, evidence=tuple(self.evidence))

    # -- asking

    def _get(self, url: str, name: str, what: str, max_bytes: int) -> Fetched:
        try:
            got = self.net.fetch(url, headers={"Accept": "application/json"}, max_bytes=max_bytes)
        except (Refused, BadURL) as e:
            raise _Stop(Outcome.REFUSED, f"{what}: {e}") from None
        except NetworkError as e:
            raise _Stop(Outcome.FAILED, f"{what}: {e}", failure=Failure.NETWORK) from None
        self.evidence.append(Evidence(name, got.content))
        return got

    def _json(self, got: Fetched, what: str) -> dict[str, Any]:
        try:
            data = got.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _Stop(Outcome.FAILED, f"{what}: HTTP {got.status}, not a JSON object")
        return data

    def _trouble(self, got: Fetched, what: str) -> _Stop:
        """The answer for an HTTP status that is no post."""
        from ..network.net import retry_hint

        error = ""
        try:
            body = got.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            error = " ".join(filter(None, [_str(body.get("error")), _str(body.get("message"))]))
        why = f"{what}: HTTP {got.status}" + (f" ({error[:200]})" if error else "")
        if got.status in (401, 403):
            return _Stop(Outcome.LOGIN_REQUIRED, why)
        return _Stop(Outcome.FAILED, why, retry_hint(got.headers), Failure.for_status(got.status))

    def _did(self, actor: str) -> str:
        if actor.startswith("did:"):
            return actor
        what = f"resolving the handle {actor}"
        got = self._get(
            f"{APPVIEW}/com.atproto.identity.resolveHandle?handle={quote(actor)}",
            f"{_safe(actor)}.bluesky.handle.json",
            what,
            SMALL_BYTES,
        )
        if got.status == 400:
            # {"error":"InvalidRequest","message":"Unable to resolve handle"}: no account
            # holds this handle now (deleted, or renamed).
            raise _Stop(Outcome.GONE, f"the handle {actor} does not resolve to an account")
        if got.status != 200:
            raise self._trouble(got, what)
        did = _str(self._json(got, what).get("did"))
        if did is None or not _DID_RE.fullmatch(did):
            raise _Stop(Outcome.FAILED, f"{what}: no DID in the answer")
        return did

    def _post(self) -> Post:
        found = parse_claim(self.ref.id) or parse_claim(self.ref.url)
        if found is None:
            raise _Stop(Outcome.FAILED, f"not a Bluesky post: {self.ref.url}")
        actor, rkey = found
        did = self._did(actor)
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        what = f"Bluesky's AppView about {uri}"
        got = self._get(
            f"{APPVIEW}/app.bsky.feed.getPostThread?uri={quote(uri, safe='')}"
            "&depth=0&parentHeight=0",
            f"{_safe(did)}_{_safe(rkey)}.bluesky.json",
            what,
            THREAD_BYTES,
        )
        if got.status == 400:
            error = _str(_dict(_safe_json(got)).get("error"))
            if error == "NotFound":  # the lexicon's one named error: deleted, or never was
                raise _Stop(Outcome.GONE, f"{what}: post not found")
            raise self._trouble(got, what)
        if got.status != 200:
            raise self._trouble(got, what)
        thread = _dict(self._json(got, what).get("thread"))
        kind = thread.get("$type")
        if kind == T_NOT_FOUND or thread.get("notFound") is True:
            raise _Stop(Outcome.GONE, f"{what}: post not found")
        if kind == T_BLOCKED or thread.get("blocked") is True:
            raise _Stop(Outcome.LOGIN_REQUIRED, f"{what}: the post is blocked for this viewer")
        view = _dict(thread.get("post"))
        if kind != T_THREAD or not view:
            raise _Stop(Outcome.FAILED, f"{what}: no post in the answer")
        if _post_uri(view.get("uri")) != (did, rkey):
            raise _Stop(Outcome.FAILED, f"{what}: the answer is about another post")
        author = _dict(view.get("author"))
        labels = {_str(_dict(label).get("val")) for label in _list(author.get("labels"))[:100]}
        if NO_UNAUTHENTICATED in labels:
            raise _Stop(
                Outcome.LOGIN_REQUIRED,
                f"{what}: the author shows their posts to logged-in visitors only",
            )
        record = _dict(view.get("record"))
        post = self._parse(
            uri=view.get("uri"),
            author=author,
            record=record,
            view_embed=view.get("embed"),
            indexed_at=view.get("indexedAt"),
            depth=0,
        )
        return post

    # -- reading

    def _parse(
        self,
        *,
        uri: object,
        author: dict[str, Any],
        record: dict[str, Any],
        view_embed: object,
        indexed_at: object,
        depth: int,
    ) -> Post:
        found = _post_uri(uri)
        if found is None:
            raise _Stop(Outcome.FAILED, "a post without an at:// URI")
        did, rkey = found
        author_did = _str(author.get("did"))
        if author_did is None or not _DID_RE.fullmatch(author_did):
            author_did = did
        handle = _str(author.get("handle"))
        handle = handle if handle and len(handle) <= 253 else None
        view_embed, record_embed = _dict(view_embed), _dict(record.get("embed"))
        media = tuple(self._media(author_did, view_embed, record_embed))
        quoted = self._quoted(view_embed, depth)
        url = self.ref.url if depth == 0 else f"https://bsky.app/profile/{did}/post/{rkey}"
        text = record.get("text")
        return Post(
            site=SITE,
            id=f"at://{did}/{POST_COLLECTION}/{rkey}",
            url=url,
            author=handle,
            author_name=(_str(author.get("displayName")) or "")[:640] or None,
            text=text if isinstance(text, str) else "",
            created_at=_time(record.get("createdAt")) or _time(indexed_at),
            media=media,
            quoted=quoted,
            source="public.api.bsky.app",
        )

    def _quoted(self, view_embed: dict[str, Any], depth: int) -> Post | None:
        kind = view_embed.get("$type")
        if kind == T_WITH_MEDIA:
            view_embed = _dict(view_embed.get("record"))
            kind = view_embed.get("$type") or T_RECORD
        if kind != T_RECORD or depth >= MAX_QUOTE_DEPTH:
            return None
        # A quoted post the viewer may see (not #viewNotFound, #viewBlocked, #viewDetached,
        # nor a feed generator or list): its record is under "value", its media views
        # under "embeds".
        quoted = _dict(view_embed.get("record"))
        if quoted.get("$type") != T_VIEW_RECORD or _post_uri(quoted.get("uri")) is None:
            return None
        embeds = _list(quoted.get("embeds"))
        return self._parse(
            uri=quoted.get("uri"),
            author=_dict(quoted.get("author")),
            record=_dict(quoted.get("value")),
            view_embed=embeds[0] if embeds else None,
            indexed_at=quoted.get("indexedAt"),
            depth=depth + 1,
        )

    def _media(self, did: str, view: dict[str, Any], record: dict[str, Any]) -> Iterator[PostMedia]:
        kind = view.get("$type")
        if kind == T_WITH_MEDIA:
            view, record = _dict(view.get("media")), _dict(record.get("media"))
            kind = view.get("$type")
        if kind == T_IMAGES:
            blobs = _list(record.get("images"))
            for i, image in enumerate(_list(view.get("images"))[:MAX_MEDIA]):
                image = _dict(image)
                fullsize = _web_url(image.get("fullsize"))
                cid = _blob_cid(_dict(blobs[i]).get("image")) if i < len(blobs) else None
                if cid is None and fullsize:
                    match = _CDN_CID_RE.search(urlsplit(fullsize).path)
                    cid = match.group(1) if match else None
                item = self._item(did, cid, fullsize, MediaKind.PHOTO, image.get("aspectRatio"))
                if item is not None:
                    yield item
        elif kind == T_VIDEO:
            cid = _str(view.get("cid"))
            cid = cid if cid and _CID_RE.fullmatch(cid) else _blob_cid(record.get("video"))
            playlist = _web_url(view.get("playlist"))
            gif = view.get("presentation") == "gif"
            item = self._item(
                did,
                cid,
                playlist,
                MediaKind.GIF if gif else MediaKind.VIDEO,
                view.get("aspectRatio"),
            )
            if item is not None:
                yield item

    def _item(
        self, did: str, cid: str | None, cdn: str | None, kind: MediaKind, ratio: object
    ) -> PostMedia | None:
        """The original from the author's PDS when its CID and the PDS are known, with the
        CDN's rendition beside it; else the CDN's rendition alone."""
        if self.media_left <= 0:
            return None
        pds = self._pds(did) if cid else None
        if pds and cid:
            url = f"{pds}/xrpc/com.atproto.sync.getBlob?did={quote(did, safe=':')}&cid={cid}"
            also: tuple[str, ...] = (cdn,) if cdn else ()
        elif cdn:
            url, also = cdn, ()
        else:
            return None
        self.media_left -= 1
        size = _dict(ratio)
        return PostMedia(url, kind, _int(size.get("width")), _int(size.get("height")), also=also)

    def _pds(self, did: str) -> str | None:
        """The author's PDS from their DID document; None if it names none (a deactivated
        DID). Trouble reaching the directory ends the look-up as failed: asked again later,
        it may name the originals."""
        if did in self.pds:
            return self.pds[did]
        what = f"the DID document of {did}"
        try:
            got = self._get(
                _did_document_url(did), f"{_safe(did)}.bluesky.did.json", what, SMALL_BYTES
            )
        except _Stop as stop:
            if stop.outcome is not Outcome.REFUSED:
                raise
            got = None  # a did:web host the guard refuses: the CDN's copies only
        pds = None
        if got is not None and got.status in (404, 410):
            pds = None  # unknown or tombstoned DID
        elif got is not None and got.status != 200:
            raise self._trouble(got, what)
        elif got is not None:
            pds = _endpoint(did, _dict(_safe_json(got)))
        self.pds[did] = pds
        return pds


def _safe_json(got: Fetched) -> object:
    try:
        return got.json()
    except ValueError:
        return None


def _endpoint(did: str, document: dict[str, Any]) -> str | None:
    """The #atproto_pds service's endpoint, as an http(s) origin without a trailing slash."""
    if document.get("id") != did:
        return None  # a document for another DID says nothing about this one
    for service in _list(document.get("service"))[:64]:
        service = _dict(service)
        if service.get("id") not in ("#atproto_pds", f"{did}#atproto_pds"):
            continue
        url = _web_url(service.get("serviceEndpoint"))
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.query or parts.fragment or parts.username or parts.password:
            return None
        return url.rstrip("/")
    return None


BLUESKY = Bluesky()
