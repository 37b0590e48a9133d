"""Bluesky as its public services answer: the AppView, the PLC directory, a PDS, the CDNs.

    sim = bluesky.install(web)
    alice = sim.account("alice.example.com", "Alice")          # a did:plc on sim.PDS
    post = sim.post(alice, "3lbdyqv6l5k2a", "text", images=[BskyImage(640, 480, seed=1)])
    post.url, post.uri, post.originals, post.cdn_copies
    sim.gone(post)                                              # getPostThread: 400 NotFound

Shapes follow the AT Protocol lexicons (app.bsky.feed.defs#threadViewPost / #postView,
app.bsky.embed.images#view, video#view, record#view, recordWithMedia#view). The PDS serves each
blob as uploaded (getBlob); cdn.bsky.app serves a re-encoded JPEG, video.bsky.app an HLS
stream, so a test can tell which copy was kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .hls import hls_stream
from .media import make_jpeg, make_mp4, resize_jpeg
from .messages import Request, Response, file_response, json_response
from .web import SimWeb

APPVIEW = "public.api.bsky.app"
PLC = "plc.directory"
PDS = "https://morel.us-east.host.bsky.network"
CDN = "cdn.bsky.app"
VIDEO_CDN = "video.bsky.app"
WHEN = "2024-12-11T10:50:36.582Z"


def cid_of(data: bytes) -> str:
    """The CID a PDS gives a blob: CIDv1, raw codec, sha2-256, base32 ("bafkrei…")."""
    raw = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def plc_did(name: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    digest = hashlib.sha256(name.encode()).digest()
    return "did:plc:" + "".join(alphabet[b % 32] for b in digest[:24])


@dataclass(frozen=True)
class BskyImage:
    width: int
    height: int
    seed: int


@dataclass(frozen=True)
class BskyVideo:
    seed: int
    gif: bool = False


@dataclass
class Account:
    handle: str
    did: str
    display_name: str | None
    pds: str | None  # None: the DID document names no PDS
    labels: list[str] = field(default_factory=list)


@dataclass
class SimPost:
    account: Account
    rkey: str
    view: dict[str, Any]  # the app.bsky.feed.defs#postView
    originals: list[bytes]  # as uploaded: what the PDS serves
    cdn_copies: list[bytes]  # what cdn.bsky.app serves (images) / the HLS playlist (videos)

    @property
    def uri(self) -> str:
        return f"at://{self.account.did}/app.bsky.feed.post/{self.rkey}"

    @property
    def url(self) -> str:
        return f"https://bsky.app/profile/{self.account.handle}/post/{self.rkey}"

    @property
    def did_url(self) -> str:
        return f"https://bsky.app/profile/{self.account.did}/post/{self.rkey}"

    @property
    def hashes(self) -> set[str]:
        return {hashlib.sha256(data).hexdigest() for data in self.originals}


class BlueskySim:
    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self.accounts: dict[str, Account] = {}  # by DID
        self.threads: dict[str, tuple[int, object]] = {}  # uri → (status, answer)
        self.blobs: dict[tuple[str, str], tuple[bytes, str]] = {}  # (did, cid) → data, type
        self.cdn: dict[str, bytes] = {}  # path on cdn.bsky.app → bytes
        self.did_documents: dict[str, tuple[int, object]] = {}
        self.down: set[str] = set()  # hosts answering 503 (with Retry-After) until removed
        web.host(APPVIEW, self._appview)
        web.host(PLC, self._plc)
        web.host(CDN, self._cdn)

    # -- the world

    def account(
        self,
        handle: str,
        display_name: str | None = None,
        *,
        did: str | None = None,
        pds: str | None = PDS,
        labels: list[str] | None = None,
    ) -> Account:
        account = Account(handle, did or plc_did(handle), display_name, pds, labels or [])
        self.accounts[account.did] = account
        self.did_documents[account.did] = (200, self.did_document(account))
        host = urlsplit(pds).hostname if pds is not None else None
        if host:
            self.web.host(host, self._pds)
        return account

    def did_document(self, account: Account) -> dict[str, Any]:
        """As plc.directory answers (its "service" list names the PDS)."""
        document: dict[str, Any] = {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": account.did,
            "alsoKnownAs": [f"at://{account.handle}"],
            "verificationMethod": [
                {
                    "id": f"{account.did}#atproto",
                    "type": "Multikey",
                    "controller": account.did,
                    "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
                }
            ],
            "service": [],
        }
        if account.pds is not None:
            document["service"].append(
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": account.pds,
                }
            )
        return document

    def image(self, account: Account, spec: BskyImage) -> tuple[bytes, bytes, dict[str, Any]]:
        """(original, CDN copy, the record's image entry) for an uploaded image."""
        original = make_jpeg(spec.width, spec.height, spec.seed, cache_dir=self.web.media_dir)
        copy = resize_jpeg(original, spec.width, spec.height, quality=70)
        cid = cid_of(original)
        self.blobs[(account.did, cid)] = (original, "image/jpeg")
        for preset in ("feed_fullsize", "feed_thumbnail"):
            self.cdn[f"/img/{preset}/plain/{account.did}/{cid}@jpeg"] = copy
        entry = {
            "alt": f"picture {spec.seed}",
            "aspectRatio": {"height": spec.height, "width": spec.width},
            "image": {
                "$type": "blob",
                "ref": {"$link": cid},
                "mimeType": "image/jpeg",
                "size": len(original),
            },
        }
        return original, copy, entry

    def video(self, account: Account, spec: BskyVideo) -> tuple[bytes, str, dict[str, Any]]:
        """(original mp4, HLS playlist URL, the record's video embed) for an uploaded video."""
        original = make_mp4(160, 90, 1.0, spec.seed, cache_dir=self.web.media_dir)
        cid = cid_of(original)
        self.blobs[(account.did, cid)] = (original, "video/mp4")
        base = f"https://{VIDEO_CDN}/watch/{quote(account.did, safe='')}/{cid}"
        hls_stream(self.web, f"{base}/playlist.m3u8", seed=spec.seed + 1000)
        embed = {
            "$type": "app.bsky.embed.video",
            "aspectRatio": {"height": 90, "width": 160},
            "video": {
                "$type": "blob",
                "ref": {"$link": cid},
                "mimeType": "video/mp4",
                "size": len(original),
            },
        }
        return original, f"{base}/playlist.m3u8", embed

    def post(
        self,
        account: Account,
        rkey: str,
        text: str,
        *,
        images: list[BskyImage] | None = None,
        video: BskyVideo | None = None,
        quote: SimPost | None = None,
        created_at: str = WHEN,
    ) -> SimPost:
        originals: list[bytes] = []
        copies: list[bytes] = []
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": created_at}
        media_record: dict[str, Any] | None = None
        media_view: dict[str, Any] | None = None
        if images:
            entries, views = [], []
            for spec in images:
                original, copy, entry = self.image(account, spec)
                originals.append(original)
                copies.append(copy)
                entries.append(entry)
                cid = entry["image"]["ref"]["$link"]
                views.append(
                    {
                        "thumb": f"https://{CDN}/img/feed_thumbnail/plain/{account.did}/{cid}@jpeg",
                        "fullsize": f"https://{CDN}/img/feed_fullsize/plain/{account.did}/{cid}@jpeg",
                        "alt": entry["alt"],
                        "aspectRatio": entry["aspectRatio"],
                    }
                )
            media_record = {"$type": "app.bsky.embed.images", "images": entries}
            media_view = {"$type": "app.bsky.embed.images#view", "images": views}
        elif video:
            original, playlist, media_record = self.video(account, video)
            originals.append(original)
            cid = media_record["video"]["ref"]["$link"]
            media_view = {
                "$type": "app.bsky.embed.video#view",
                "cid": cid,
                "playlist": playlist,
                "thumbnail": playlist.replace("playlist.m3u8", "thumbnail.jpg"),
                "aspectRatio": media_record["aspectRatio"],
            }
            if video.gif:
                media_view["presentation"] = "gif"
        embed_record, embed_view = media_record, media_view
        if quote is not None:
            ref = {"uri": quote.uri, "cid": quote.view["cid"]}
            quoted_view = {"$type": "app.bsky.embed.record#view", "record": _view_record(quote)}
            if media_record is not None and media_view is not None:
                embed_record = {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "media": media_record,
                    "record": {"$type": "app.bsky.embed.record", "record": ref},
                }
                embed_view = {
                    "$type": "app.bsky.embed.recordWithMedia#view",
                    "media": media_view,
                    "record": quoted_view,
                }
            else:
                embed_record = {"$type": "app.bsky.embed.record", "record": ref}
                embed_view = quoted_view
        if embed_record is not None:
            record["embed"] = embed_record
        record["langs"] = ["en"]
        record["text"] = text
        uri = f"at://{account.did}/app.bsky.feed.post/{rkey}"
        view: dict[str, Any] = {
            "uri": uri,
            "cid": cid_of(json.dumps(record, sort_keys=True).encode()),
            "author": self._author(account),
            "record": record,
        }
        if embed_view is not None:
            view["embed"] = embed_view
        view |= {
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 2,
            "quoteCount": 0,
            "indexedAt": created_at.replace(".582Z", ".652Z"),
            "labels": [],
        }
        self.threads[uri] = (
            200,
            {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": []}},
        )
        return SimPost(account, rkey, view, originals, copies)

    def _author(self, account: Account) -> dict[str, Any]:
        author: dict[str, Any] = {"did": account.did, "handle": account.handle}
        if account.display_name:
            author["displayName"] = account.display_name
        author["avatar"] = f"https://{CDN}/img/avatar/plain/{account.did}/bafkreiavatar@jpeg"
        author["labels"] = [
            {"src": account.did, "uri": f"at://{account.did}/app.bsky.actor.profile/self",
             "cid": "bafyreilabel", "val": value, "cts": WHEN}
            for value in account.labels
        ]  # fmt: skip
        author["createdAt"] = "2023-06-17T10:17:43.112Z"
        return author

    # -- what can happen to a post

    def gone(self, post: SimPost) -> None:
        """Deleted: the AppView answers 400 NotFound, as the lexicon names it."""
        self.threads[post.uri] = (
            400,
            {"error": "NotFound", "message": f"Post not found: {post.uri}"},
        )

    def not_found_in_thread(self, post: SimPost) -> None:
        self.threads[post.uri] = (
            200,
            {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": post.uri,
                        "notFound": True}},
        )  # fmt: skip

    def blocked(self, post: SimPost) -> None:
        self.threads[post.uri] = (
            200,
            {"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": post.uri,
                        "blocked": True, "author": {"did": post.account.did}}},
        )  # fmt: skip

    def answer(self, uri: str, obj: object, status: int = 200) -> None:
        """Any answer for a post URI: recorded real ones, hostile ones."""
        self.threads[uri] = (status, obj)

    # -- the services

    def _outage(self, request: Request) -> Response | None:
        if request.host not in self.down:
            return None
        return json_response(
            {"error": "InternalServerError", "message": "Internal Server Error"},
            503,
            headers={"Retry-After": "120"},
        )

    def _appview(self, request: Request) -> Response | None:
        if outage := self._outage(request):
            return outage
        params = request.params
        if request.path == "/xrpc/com.atproto.identity.resolveHandle":
            handle = params.get("handle", "").lower()
            for account in self.accounts.values():
                if account.handle == handle:
                    return json_response({"did": account.did})
            return json_response(
                {"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400
            )
        if request.path == "/xrpc/app.bsky.feed.getPostThread":
            uri = params.get("uri", "")
            if uri not in self.threads:
                return json_response(
                    {"error": "NotFound", "message": f"Post not found: {uri}"}, 400
                )
            status, answer = self.threads[uri]
            return json_response(answer, status)
        return None

    def _plc(self, request: Request) -> Response | None:
        if outage := self._outage(request):
            return outage
        did = unquote(request.path.lstrip("/"))
        if did not in self.did_documents:
            return json_response({"message": f"DID not registered: {did}"}, 404)
        status, document = self.did_documents[did]
        return json_response(document, status)

    def _pds(self, request: Request) -> Response | None:
        if request.path != "/xrpc/com.atproto.sync.getBlob":
            return None
        key = (request.params.get("did", ""), request.params.get("cid", ""))
        if key not in self.blobs:
            return json_response({"error": "BlobNotFound", "message": "Blob not found"}, 400)
        data, content_type = self.blobs[key]
        return file_response(request, data, content_type)

    def _cdn(self, request: Request) -> Response | None:
        data = self.cdn.get(request.path)
        return file_response(request, data, "image/jpeg") if data is not None else None


def _view_record(post: SimPost) -> dict[str, Any]:
    """A post as app.bsky.embed.record#viewRecord shows it inside the post quoting it."""
    view = post.view
    record: dict[str, Any] = {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": view["uri"],
        "cid": view["cid"],
        "author": view["author"],
        "value": view["record"],
        "labels": [],
        "likeCount": 0,
        "replyCount": 0,
        "repostCount": 0,
        "quoteCount": 1,
        "indexedAt": view["indexedAt"],
    }
    if "embed" in view:
        record["embeds"] = [view["embed"]]
    return record


def install(web: SimWeb) -> BlueskySim:
    return BlueskySim(web)
