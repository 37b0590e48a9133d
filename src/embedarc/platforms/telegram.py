"""Telegram channel posts: t.me links and the post widget, read from the public embed page.

A public channel's post has a web page Telegram's own widget frames:
`https://t.me/<channel>/<id>?embed=1&mode=tme`. It is HTML, with no login, carrying the text,
the date, photos (as CSS background images of `.tgme_widget_message_photo_wrap`) and videos
(`<video src>` on Telegram's CDN, cdn*.telesco.pe). An album is one message per item; the page
of any of them shows them all, each item linking to its own message (kept as the item's id).

What the page says when there is nothing to show:
- a `.tgme_widget_message_error` block ("Post not found"): the post is deleted, or the channel
  is gone or was never public: `gone`.
- "Please open Telegram to view this post" in place of the media: the channel forbids saving
  its content, or the post is a file the web preview leaves out: `login_required`, as the app
  (logged in) shows it.
- a video labelled "Media is too big" without a `src`: the web preview leaves it out; when that
  is all the post holds, `login_required` too.
Private channels (`t.me/c/<internal id>/<n>`) have no web page at all: they are claimed, so the
link is reported, and answered `login_required` without a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..clock import iso
from ..model import Evidence, Failure, MediaKind, Outcome
from ..reading.urls import join_url, split_url
from .base import Platform, Post, PostAnswer, PostMedia, PostRef, Session

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ..network.net import Net

SITE = "telegram"
_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"})
# Usernames: a letter, then letters, digits and underscores, 5 to 32 characters in all; a few
# old channels have 4, so 4 is let in. Paths that look like one but are Telegram's own pages:
_CHANNEL_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_RESERVED = frozenset(
    {"joinchat", "addstickers", "addemoji", "addtheme", "addlist", "share", "proxy", "socks"}
    | {"login", "iv", "setlanguage", "bg", "invoice", "boost", "contact", "confirmphone"}
    | {"giftcode", "nft", "stars", "premium", "blog", "apps", "widget", "embed", "auth"}
)
_ID_RE = re.compile(r"[0-9]{1,12}")
_PRIVATE_RE = re.compile(r"[0-9]{1,20}")
# Bounded: a hostile style repeating "url(" must cost time in proportion to its length.
_URL_IN_STYLE_RE = re.compile(
    r"""background-image\s{0,16}:\s{0,16}url\(\s{0,16}(['"]?)([^'")\s]{1,4096})\1\s{0,16}\)""",
    re.I,
)
STYLE_LIMIT = 8192  # characters of a style attribute read: a real one is a few hundred

PAGE_LIMIT = 4 * 1024 * 1024  # an embed page is ~20 KB; anything far larger is not one
MAX_MEDIA = 64  # an album holds at most 10 items; more is a hostile page
MAX_TEXT = 100_000
_LOGIN_LABELS = ("please open telegram to view this post",)
_WIDGET_SCRIPT = "/js/telegram-widget.js"
_NO_BASE = "https://base.invalid/"  # a page without a URL: `//t.me/...` still reads as https


def _post_path(path: str) -> tuple[str, str] | None:
    """(channel, message id) of a public post's path, ("c/<chat>", id) of a private one."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "s":  # the channel's web preview: t.me/s/<channel>/<id>
        parts = parts[1:]
    if len(parts) in (3, 4) and parts[0] == "c":
        # t.me/c/<internal chat id>/<id>, or /<topic>/<id> in a forum
        if all(_PRIVATE_RE.fullmatch(p) for p in parts[1:]):
            return f"c/{parts[1]}", parts[-1]
        return None
    if len(parts) in (2, 3) and _CHANNEL_RE.fullmatch(parts[0]):
        # t.me/<channel>/<id>, or t.me/<group>/<topic>/<id>
        if parts[0].lower() in _RESERVED or not all(_ID_RE.fullmatch(p) for p in parts[1:]):
            return None
        return parts[0], parts[-1]
    return None


def _ref(channel: str, message: str) -> PostRef:
    # Usernames are case-insensitive: one post, one key, however a link spells it.
    key = f"{channel.lower()}/{int(message)}"
    return PostRef(SITE, key, f"https://t.me/{key}")


def _safe_name(ref_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", ref_id)


def _text(node: LexborNode) -> str:
    """The text of a message as it reads: <br> as a line break, emoji images as their emoji."""
    out: list[str] = []
    stack: list[LexborNode] = [node]
    size = 0
    while stack and size < MAX_TEXT:
        current = stack.pop()
        if current.is_text_node:
            piece = current.text_content or ""
            out.append(piece)
            size += len(piece)
            continue
        if current.tag == "br":
            out.append("\n")
            continue
        children = []
        child = current.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend(reversed(children))
    lines = "".join(out)[:MAX_TEXT].split("\n")
    return "\n".join(" ".join(line.split()) for line in lines).strip()


def _inside(node: LexborNode, stop: LexborNode, classes: tuple[str, ...]) -> bool:
    """Whether node sits in an element of one of these classes, below `stop`."""
    current = node.parent
    while current is not None and current.mem_id != stop.mem_id:
        names = (current.attributes.get("class") or "").split()
        if any(name in names for name in classes):
            return True
        current = current.parent
    return False


# A reply's quote and a link preview carry another post's text and pictures, never this one's.
_FOREIGN = ("tgme_widget_message_reply", "tgme_widget_message_link_preview")


def _web_url(raw: str | None, base: str) -> str | None:
    """An absolute http(s) URL, or None: javascript:, data: and the like are dropped."""
    if not raw:
        return None
    raw = raw.strip()
    if not raw or any(ord(c) < 0x20 for c in raw):
        return None
    url = join_url(base, raw)
    parts = split_url(url) if url is not None else None
    if url is None or parts is None:  # an unclosed "[" in the host ("https://[cdn]x/…")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def _item_id(node: LexborNode, channel: str) -> str | None:
    """The message an album item links to (`https://t.me/<channel>/<id>?single`), as "ch/id"."""
    parts = split_url(node.attributes.get("href") or "")
    if parts is None or (parts.hostname or "").lower() not in _HOSTS:
        return None
    found = _post_path(parts.path)
    if found is None or found[0].lower() != channel.lower():
        return None
    return _ref(*found).id


@dataclass
class _Media:
    items: list[PostMedia]
    withheld: list[str]  # what the page says in place of media it leaves out


def _media(message: LexborNode, channel: str, base: str) -> _Media:
    found = _Media([], [])
    seen: set[str] = set()
    selector = (
        ".tgme_widget_message_photo_wrap, .tgme_widget_message_video_player,"
        " .tgme_widget_message_roundvideo_player"
    )
    for node in message.css(selector):
        if len(found.items) >= MAX_MEDIA:
            break
        if _inside(node, message, _FOREIGN):
            continue
        names = (node.attributes.get("class") or "").split()
        url: str | None = None
        kind = MediaKind.PHOTO
        if "tgme_widget_message_photo_wrap" in names:
            match = _URL_IN_STYLE_RE.search((node.attributes.get("style") or "")[:STYLE_LIMIT])
            url = _web_url(match.group(2) if match else None, base)
        else:
            kind = MediaKind.VIDEO
            # The player may hold a blurred copy too (js-message_video_blured): the clear one.
            videos = [v for v in node.css("video[src]") if "blured" not in _classes(v)]
            url = _web_url(videos[0].attributes.get("src") if videos else None, base)
            if url is None:
                label = node.css_first(".message_media_not_supported_label")
                found.withheld.append(_text(label) if label is not None else "video left out")
        if url is None or url in seen:
            continue
        seen.add(url)
        found.items.append(PostMedia(url, kind, item_id=_item_id(node, channel)))
    return found


def _classes(node: LexborNode) -> list[str]:
    return (node.attributes.get("class") or "").split()


def _created(message: LexborNode) -> str | None:
    node = message.css_first(".tgme_widget_message_date time[datetime]") or message.css_first(
        ".tgme_widget_message_footer time[datetime]"
    )
    raw = (node.attributes.get("datetime") or "") if node is not None else ""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    try:
        return iso(moment)
    except ValueError:  # a date that cannot be written in UTC
        return None


def _message(tree_root: LexborNode, ref: PostRef) -> LexborNode | None:
    """The post's message on its page: the one whose data-post names it, else the only one
    (an album item's page names the album's first message; old pages name none)."""
    messages = tree_root.css(".tgme_widget_message")[:MAX_MEDIA]
    for node in messages:
        if (node.attributes.get("data-post") or "").lower() == ref.id:
            return node
    return messages[0] if len(messages) == 1 else None


def _message_text(message: LexborNode) -> str:
    for node in message.css(".tgme_widget_message_text"):
        if "js-message_reply_text" in _classes(node) or _inside(node, message, _FOREIGN):
            continue
        return _text(node)
    return ""


def parse_page(html: str, ref: PostRef, page_url: str) -> PostAnswer:
    """What an embed page says about a post (no network); evidence is added by the caller."""
    from ..reading.markup import parse_html

    tree = parse_html(html)
    root = tree.root
    if root is None:
        return PostAnswer(outcome=Outcome.FAILED, reason="telegram: empty embed page")
    error = root.css_first(".tgme_widget_message_error")
    if error is not None:
        return PostAnswer(outcome=Outcome.GONE, reason=f"telegram: {_text(error) or 'error'}")
    message = _message(root, ref)
    if message is None:
        return PostAnswer(outcome=Outcome.FAILED, reason="telegram: no post on its embed page")
    channel = ref.id.split("/", 1)[0]
    media = _media(message, channel, page_url)
    labels = [
        _text(n).lower() for n in message.css(".message_media_not_supported_label")[:MAX_MEDIA]
    ]
    if not media.items and any(label in _LOGIN_LABELS for label in labels):
        return PostAnswer(
            outcome=Outcome.LOGIN_REQUIRED,
            reason="telegram: the web preview withholds this post (open Telegram to view it)",
        )
    if not media.items and media.withheld:
        return PostAnswer(
            outcome=Outcome.LOGIN_REQUIRED,
            reason=f"telegram: only the app shows its video ({media.withheld[0]})",
        )
    owner = message.css_first(".tgme_widget_message_owner_name")
    post = Post(
        site=SITE,
        id=ref.id,
        url=ref.url,
        author=channel,
        author_name=(_text(owner) or None) if owner is not None else None,
        text=_message_text(message),
        created_at=_created(message),
        media=tuple(media.items),
        source="t.me embed",
    )
    return PostAnswer(post=post)


class Telegram(Platform):
    site = SITE
    # The widget's script names the post; once run it is an <iframe> of the embed page.
    embed_selector = "script[data-telegram-post], iframe[src]"

    def owns(self, host: str) -> bool:
        return host in _HOSTS

    def claims(self, url: str) -> PostRef | None:
        lowered = url.lower()
        if "t.me/" not in lowered and "telegram." not in lowered:
            return None  # asked of every link of every article: the common answer, cheaply
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a bracket left open in the host, a port that is not a number
            return None
        if parts.scheme not in ("http", "https") or (parts.hostname or "") not in _HOSTS:
            return None
        if parts.username is not None or parts.password is not None or port is not None:
            return None
        found = _post_path(parts.path)
        return _ref(*found) if found is not None else None

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        attributes = node.attributes
        if node.tag == "iframe":
            src = _web_url(attributes.get("src"), base or _NO_BASE)
            return src if src is not None and self.claims(src) is not None else None
        src = _web_url(attributes.get("src"), base or _NO_BASE)
        if src is None:
            return None
        parts = urlsplit(src)
        if (parts.hostname or "").lower() != "telegram.org" or parts.path != _WIDGET_SCRIPT:
            return None
        post = (attributes.get("data-telegram-post") or "").strip().strip("/")
        ref = self.claims(f"https://t.me/{post}") if post.count("/") == 1 else None
        return ref.url if ref is not None and not ref.id.startswith("c/") else None

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        from ..errors import NetworkError, Refused
        from ..network.net import retry_hint
        from ..reading.decoding import decode

        if ref.id.startswith("c/"):
            return PostAnswer(
                outcome=Outcome.LOGIN_REQUIRED,
                reason="telegram: a private channel's post (t.me/c/…) is shown only to members",
            )
        page_url = f"{ref.url}?embed=1&mode=tme"
        try:
            got = net.fetch(page_url, max_bytes=PAGE_LIMIT)
        except Refused as e:
            return PostAnswer(outcome=Outcome.REFUSED, reason=f"telegram: {e}")
        except NetworkError as e:
            return PostAnswer(
                outcome=Outcome.FAILED, reason=f"telegram: {e}", failure=Failure.NETWORK
            )
        evidence = (Evidence(f"{_safe_name(ref.id)}.telegram.html", got.content),)
        if got.status == 404:
            return PostAnswer(outcome=Outcome.GONE, reason="telegram: HTTP 404", evidence=evidence)
        if got.status != 200:
            return PostAnswer(
                outcome=Outcome.FAILED,
                reason=f"telegram: HTTP {got.status}",
                evidence=evidence,
                retry_after=retry_hint(got.headers),
                failure=Failure.for_status(got.status),
            )
        html = decode(got.content, content_type=got.headers.get("content-type"), html=True)
        answer = parse_page(html, ref, got.url or page_url)
        return PostAnswer(answer.post, answer.outcome, answer.reason, evidence)


TELEGRAM = Telegram()
