"""Mastodon instances in the simulated web: nodeinfo, the instance API, /api/v1/statuses/<id>,
the media files (originals and smaller previews), and hosts that are no instance at all.

Answers are built from recorded and documented shapes (tests/fixtures/mastodon, see its
PROVENANCE.md) with the ids, hosts and file URLs of the simulated web.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .media import make_jpeg, make_mp4, resize_jpeg
from .messages import Request, Response, html_response, json_response

if TYPE_CHECKING:
    from .web import SimWeb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mastodon"
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/2.0"
STATUS_MODES = ("ok", "deleted", "private", "unauthenticated", "error", "ratelimit")

_ids = itertools.count(1)


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def snowflake(seq: int) -> str:
    """An 18-digit Mastodon id (milliseconds since 1970 << 16), from 2022-11-21 on."""
    return str(((1669062319911 + seq * 1000) << 16) | (seq & 0xFFFF))


@dataclass(frozen=True)
class Attachment:
    """One file of a post: its type as the API names it, and how big it is."""

    type: str  # image, video, gifv
    width: int = 64
    height: int = 48
    seconds: float = 1.0


@dataclass
class ServedFile:
    url: str
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class SimStatus:
    """A registered post: what its instance answers, and the files an archive of it must hold."""

    host: str
    id: str
    acct: str
    url: str  # the address to link to (on the instance asked)
    answer: dict[str, Any]
    mode: str = "ok"
    files: list[ServedFile] = field(default_factory=list)  # originals, in order
    previews: list[ServedFile] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"mastodon:{self.host}/{self.id}"

    @property
    def api_url(self) -> str:
        return f"https://{self.host}/api/v1/statuses/{self.id}"


class MastodonSim:
    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self.statuses: dict[tuple[str, str], SimStatus] = {}

    # -- servers ---------------------------------------------------------------------------

    def instance(self, host: str, software: str = "mastodon", *, nodeinfo: bool = True) -> str:
        """A fediverse server: nodeinfo naming `software` (or none), the instance API, statuses."""
        if nodeinfo:
            href = f"https://{host}/nodeinfo/2.0"
            self.web.json(
                f"https://{host}/.well-known/nodeinfo",
                {"links": [{"rel": NODEINFO_REL, "href": href}]},
            )
            self.web.json(href, _nodeinfo(software))
        self.web.json(
            f"https://{host}/api/v2/instance",
            {"domain": host, "title": host, "version": "4.3.2", "configuration": {}},
        )
        self.web.host(host, lambda request: self._answer(host, request))
        return host

    def blog(self, host: str, path: str, title: str = "A blog post") -> str:
        """A host that is no fediverse server, with a page at a path shaped like a status URL."""
        url = f"https://{host}{path}"
        self.web.page(url, f"<!DOCTYPE html><title>{title}</title><p>{title}: only words.</p>")
        return url

    # -- posts -----------------------------------------------------------------------------

    def status(
        self,
        host: str,
        user: str,
        media: list[Attachment] | None = None,
        *,
        text: str = "A post",
        mode: str = "ok",
        origin: str | None = None,
        reblog_of: SimStatus | None = None,
        quote_of: SimStatus | None = None,
    ) -> SimStatus:
        """A post on `host`; with `origin` (a host) it was written there and copied here."""
        if mode not in STATUS_MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {STATUS_MODES}")
        seq = next(_ids)
        status_id = snowflake(seq)
        home = origin or host
        acct = f"{user}@{origin}" if origin else user
        template = _fixture("reblog.json")
        answer: dict[str, Any] = copy.deepcopy(template["reblog"])
        answer["id"] = status_id
        answer["content"] = f"<p>{text}</p>"
        answer["account"]["acct"] = acct
        answer["account"]["username"] = user
        answer["account"]["display_name"] = user.title()
        answer["account"]["url"] = f"https://{home}/@{user}"
        remote_id = snowflake(seq + 500_000) if origin else status_id
        answer["url"] = f"https://{home}/@{user}/{remote_id}"
        answer["uri"] = f"https://{home}/users/{user}/statuses/{remote_id}"
        url = f"https://{host}/@{acct}/{status_id}"
        if reblog_of is not None:
            # A boost has no content or media of its own: its original holds them.
            answer = copy.deepcopy(template)
            answer["id"] = status_id
            answer["account"]["acct"] = acct
            answer["url"] = answer["uri"] = (
                f"https://{host}/users/{user}/statuses/{status_id}/activity"
            )
            answer["reblog"] = reblog_of.answer
            url = f"https://{host}/users/{user}/statuses/{status_id}"
        if quote_of is not None:
            answer["quote"] = {"state": "accepted", "quoted_status": quote_of.answer}
        status = SimStatus(host, status_id, acct, url, answer, mode)
        answer["media_attachments"] = [
            self._attachment(status, item, seq * 10 + n, origin)
            for n, item in enumerate(media or [])
        ]
        self.statuses[(host, status_id)] = status
        return status

    def _attachment(
        self, status: SimStatus, item: Attachment, seed: int, origin: str | None
    ) -> dict[str, Any]:
        examples = {a["type"]: a for a in _fixture("media_attachments.json")}
        answer: dict[str, Any] = copy.deepcopy(examples[item.type])
        digest = hashlib.sha256(f"{status.id}/{seed}".encode()).hexdigest()[:16]
        path = f"media_attachments/files/{status.id[:3]}/{status.id[3:6]}/{seed}"
        files = f"https://files.{status.host}"
        if origin:
            files += "/cache"  # an instance's copy of a remote file lives under /cache
        if item.type == "image":
            data = make_jpeg(item.width, item.height, seed, cache_dir=self.web.media_dir)
            preview = resize_jpeg(data, item.width // 2, item.height // 2, 70)
            original = ServedFile(f"{files}/{path}/original/{digest}.jpeg", data, "image/jpeg")
            small = ServedFile(f"{files}/{path}/small/{digest}.jpeg", preview, "image/jpeg")
        else:
            audio = item.type == "video"
            data = make_mp4(
                item.width,
                item.height,
                item.seconds,
                seed,
                audio=audio,
                cache_dir=self.web.media_dir,
            )
            still = make_jpeg(item.width // 2, item.height // 2, seed, cache_dir=self.web.media_dir)
            original = ServedFile(f"{files}/{path}/original/{digest}.mp4", data, "video/mp4")
            small = ServedFile(f"{files}/{path}/small/{digest}.png", still, "image/png")
        for served in (original, small):
            self.web.file(served.url, served.data, served.content_type)
        status.files.append(original)
        status.previews.append(small)
        answer["id"] = str(seed)
        answer["url"] = original.url
        answer["preview_url"] = small.url
        answer["remote_url"] = (
            f"https://{origin}/system/media_attachments/files/{digest}.bin" if origin else None
        )
        meta = answer["meta"]
        meta["original"]["width"], meta["original"]["height"] = item.width, item.height
        if item.type != "image":
            meta["original"]["duration"] = meta["duration"] = item.seconds
        return answer

    # -- answering -------------------------------------------------------------------------

    def _answer(self, host: str, request: Request) -> Response | None:
        prefix = "/api/v1/statuses/"
        if not request.path.startswith(prefix):
            return None
        status = self.statuses.get((host, request.path.removeprefix(prefix)))
        if status is None or status.mode == "deleted":
            return json_response({"error": "Record not found"}, 404)
        if status.mode == "private":
            return json_response({"error": "This action is not allowed"}, 403)
        if status.mode == "unauthenticated":
            return json_response({"error": "This method requires an authenticated user"}, 401)
        if status.mode == "error":
            return html_response("<h1>We're sorry, but something went wrong.</h1>", 503)
        if status.mode == "ratelimit":
            return json_response({"error": "Too many requests"}, 429, {"Retry-After": "120"})
        return json_response(status.answer)


def _nodeinfo(software: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "software": {"name": software, "version": "4.3.2"},
        "protocols": ["activitypub"],
        "services": {"outbound": [], "inbound": []},
        "usage": {"users": {"total": 3, "activeMonth": 1, "activeHalfyear": 2}, "localPosts": 9},
        "openRegistrations": False,
        "metadata": {"nodeName": "Mastodon", "nodeDescription": ""},
    }


def install(web: SimWeb) -> MastodonSim:
    """Make Mastodon instances answer in `web` (register each with `instance`)."""
    return MastodonSim(web)
