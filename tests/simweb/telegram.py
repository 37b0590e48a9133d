"""Telegram's public web: t.me embed pages of channel posts, and the CDN that serves their media.

    sim = telegram.install(web)
    post = sim.post("newsroom", 120, "Storm hits the coast", when, [Photo(), Video(), Photo()])
    post.files                         # what the CDN serves for it (real JPEG/MP4 bytes)
    sim.deleted("newsroom", 121)       # the embed page says "Post not found"
    sim.withheld("newsroom", 122)      # "Please open Telegram to view this post"
    sim.recorded("album_84")           # a message recorded from the real t.me, served as is

A post of several media is an album, as Telegram keeps them: one message id per item, the
page of each showing them all, every item linking to its own message (`?single`). Pages are
written in the markup of the messages recorded in tests/fixtures/telegram (see PROVENANCE.md);
the page around the message is a minimal widget frame. Any other post's embed page is
"Post not found", as t.me answers (200, with an error block) for posts it does not know.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .media import make_jpeg, make_mp4
from .messages import Request, Response, html_response
from .tweets import Photo, Video
from .web import SimWeb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"
CDN = "cdn4.telesco.pe"
# Telegram's CDN hosts, then and now: pages recorded in 2023 name cdn*.telegram-cdn.org.
CDN_HOSTS = tuple(f"cdn{n}.telesco.pe" for n in range(1, 6)) + tuple(
    f"cdn{n}.telegram-cdn.org" for n in range(1, 6)
)
PAGE_HOSTS = ("t.me", "telegram.me")

_FRAME = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>Telegram Widget</title>
    <base target="_blank">
    <meta name="robots" content="noindex, nofollow">
  </head>
  <body class="body_widget_post emoji_default">
{body}
    <script src="//telegram.org/js/widget-frame.js?64"></script>
  </body>
</html>
"""
_NOT_FOUND = '<div class="tgme_widget_message_error">Post not found</div>'
_WITHHELD = """<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{post}">
    <div class="tgme_widget_message_bubble">
      <div class="tgme_widget_message_author accent_color">
        <a class="tgme_widget_message_owner_name" href="https://t.me/{channel}">
          <span dir="auto">{name}</span></a></div>
      <div class="media_not_supported_cont"><div class="message_media_not_supported_wrap">
        <div class="message_media_not_supported">
          <div class="message_media_not_supported_label">
            Please open Telegram to view this post</div>
          <a href="https://t.me/{post}" class="message_media_view_in_telegram">VIEW IN TELEGRAM</a>
      </div></div></div>
      <div class="tgme_widget_message_footer compact js-message_footer">
        <div class="tgme_widget_message_info short js-message_info">
          <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date"
            href="https://t.me/{post}"><time datetime="{when}" class="time">00:00</time></a></span>
      </div></div>
    </div>
  </div>
</div>"""


@dataclass(frozen=True)
class CdnFile:
    url: str
    data: bytes = field(repr=False)
    content_type: str
    kind: str  # photo | video
    item_id: str  # "channel/id" of the album item's own message

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class TelegramPost:
    channel: str
    id: int
    text: str
    files: tuple[CdnFile, ...]
    ids: tuple[int, ...]  # every message of the album (the first is the post's own)

    @property
    def url(self) -> str:
        return f"https://t.me/{self.channel}/{self.id}"


def frame(body: str) -> str:
    """An embed page around a message's markup."""
    return _FRAME.format(body=body)


def message_html(
    channel: str, first: int, text: str, when: datetime, name: str, items: list[CdnFile]
) -> str:
    """A channel message in the markup t.me writes (the recorded fixtures' shape)."""
    post = f"{channel}/{first}"
    media = [_item(f, grouped=len(items) > 1) for f in items]
    if len(items) > 1:
        media_html = (
            '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap"'
            ' data-margin-w="2" data-margin-h="2" style="width:453px;">'
            '<div class="tgme_widget_message_grouped js-message_grouped" style="padding-top:75%">'
            '<div class="tgme_widget_message_grouped_layer js-message_grouped_layer"'
            ' style="width:453px;height:340px">' + "".join(media) + "</div></div></div>"
        )
    else:
        media_html = "".join(media)
    body = "<br/>".join(html.escape(line) for line in text.split("\n"))
    stamp = when.isoformat(timespec="seconds")
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{post}">
    <div class="tgme_widget_message_user"><a href="https://t.me/{channel}">
      <i class="tgme_widget_message_user_photo bgcolor6" data-content="{name[:1]}">
        <img src="https://{CDN}/file/avatar-{channel}.jpg"></i></a></div>
    <div class="tgme_widget_message_bubble">
      <div class="tgme_widget_message_author accent_color">
        <a class="tgme_widget_message_owner_name" href="https://t.me/{channel}">
          <span dir="auto">{html.escape(name)}</span></a></div>
      {media_html}
      <div class="tgme_widget_message_text js-message_text" dir="auto">{body}</div>
      <div class="tgme_widget_message_footer compact js-message_footer">
        <div class="tgme_widget_message_info short js-message_info">
          <span class="tgme_widget_message_views">1.2K</span><span class="copyonly"> views</span>
          <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date"
            href="https://t.me/{post}"><time datetime="{stamp}" class="time">{when:%H:%M}</time></a>
          </span>
        </div>
      </div>
    </div>
  </div>
</div>"""


def _item(f: CdnFile, *, grouped: bool) -> str:
    extra = " grouped_media_wrap blured" if grouped else ""
    href = f"https://t.me/{f.item_id}" + ("?single" if grouped else "")
    if f.kind == "photo":
        return (
            f'<a class="tgme_widget_message_photo_wrap{extra} js-message_photo" href="{href}"'
            f" style=\"width:453px;background-image:url('{f.url}')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>'
        )
    return (
        f'<a class="tgme_widget_message_video_player{extra} js-message_video_player" href="{href}">'
        f'<i class="tgme_widget_message_video_thumb" style="background-image:url(\'https://{CDN}/file/thumb-{f.sha256[:12]}.jpg\')"></i>'
        '<div class="tgme_widget_message_video_wrap js-message_video_wrap">'
        f'<video src="{f.url}" class="tgme_widget_message_video js-message_video"'
        ' width="100%" height="100%"></video></div>'
        '<time class="message_video_duration js-message_video_duration">0:01</time></a>'
    )


class TelegramSim:
    def __init__(self, web: SimWeb) -> None:
        self.web = web
        self._pages: dict[tuple[str, int], str] = {}
        for host in PAGE_HOSTS:
            web.host(host, self._page)

    # -- pages

    def _page(self, request: Request) -> Response | None:
        parts = [p for p in request.path.split("/") if p]
        if parts and parts[0] == "s":
            parts = parts[1:]
        if len(parts) != 2 or not parts[1].isdigit():
            return None
        body = self._pages.get((parts[0].lower(), int(parts[1])), _NOT_FOUND)
        return html_response(frame(body))

    def page(self, channel: str, id: int, body: str) -> str:
        """Serve this markup as the embed page of channel/id; returns the post's URL."""
        self._pages[(channel.lower(), id)] = body
        return f"https://t.me/{channel}/{id}"

    def post(
        self,
        channel: str,
        id: int,
        text: str,
        when: datetime,
        media: list[Photo | Video] | None = None,
        name: str | None = None,
    ) -> TelegramPost:
        """A post with real media on the CDN; several items make an album (ids id, id+1, ...)."""
        items = media or []
        files = tuple(self._file(channel, id + n, item) for n, item in enumerate(items))
        ids = tuple(range(id, id + max(len(items), 1)))
        markup = message_html(channel, id, text, when, name or channel.title(), list(files))
        for each in ids:
            self.page(channel, each, markup)
        return TelegramPost(channel, id, text, files, ids)

    def _file(self, channel: str, id: int, item: Photo | Video) -> CdnFile:
        seed = int(hashlib.sha256(f"{channel}/{id}".encode()).hexdigest()[:8], 16)
        media_dir = self.web.media_dir
        if isinstance(item, Photo):
            data = make_jpeg(item.width, item.height, seed, cache_dir=media_dir)
            url = f"https://{CDN}/file/{seed:08x}{id}.jpg"
            f = CdnFile(url, data, "image/jpeg", "photo", f"{channel}/{id}")
        else:
            data = make_mp4(item.width, item.height, item.seconds, seed, cache_dir=media_dir)
            url = f"https://{CDN}/file/{seed:08x}{id}.mp4?token=t{seed:x}"
            f = CdnFile(url, data, "video/mp4", "video", f"{channel}/{id}")
        self.web.file(f.url, f.data, f.content_type)
        return f

    def deleted(self, channel: str, id: int) -> str:
        """What t.me shows once a post is deleted (the same as for one that never was)."""
        self._pages.pop((channel.lower(), id), None)
        return f"https://t.me/{channel}/{id}"

    def withheld(self, channel: str, id: int, when: datetime | None = None) -> str:
        """A post the web preview leaves out (a channel that restricts saving its content)."""
        stamp = (when or datetime(2024, 3, 1)).isoformat(timespec="seconds") + "+00:00"
        body = _WITHHELD.format(
            post=f"{channel}/{id}", channel=channel, name=channel.title(), when=stamp[:25]
        )
        return self.page(channel, id, body)

    def recorded(self, name: str, *, serve_media: bool = True) -> tuple[str, list[CdnFile]]:
        """A message recorded from the real t.me, served as its post's embed page, with real
        bytes at each CDN URL it names (photos as JPEGs, videos as MP4s). Returns the post URL
        and the files, in the page's order."""
        body = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
        match = re.search(r'data-post="([^"/]+)/(\d+)"', body)
        assert match, name
        channel, id = match.group(1), int(match.group(2))
        files: list[CdnFile] = []
        if serve_media:
            for kind, url in media_urls(body):
                seed = int(hashlib.sha256(url.encode()).hexdigest()[:8], 16)
                if kind == "photo":
                    data, ctype = (
                        make_jpeg(320, 240, seed, cache_dir=self.web.media_dir),
                        "image/jpeg",
                    )
                else:
                    data = make_mp4(320, 240, 0.5, seed, cache_dir=self.web.media_dir)
                    ctype = "video/mp4"
                files.append(CdnFile(url, data, ctype, kind, f"{channel}/{id}"))
                self.web.file(url, data, ctype)
        return self.page(channel, id, body), files


_PHOTO_RE = re.compile(
    r"tgme_widget_message_photo_wrap[^\"]*\"[^>]*background-image:url\('([^']+)'\)"
)
_VIDEO_RE = re.compile(r"<video\b[^>]*>")
_SRC_RE = re.compile(r'\ssrc="([^"]+)"')


def media_urls(body: str) -> list[tuple[str, str]]:
    """The (kind, URL) of each photo and video a recorded message names, in page order."""
    found = [(m.start(), "photo", m.group(1)) for m in _PHOTO_RE.finditer(body)]
    for m in _VIDEO_RE.finditer(body):
        src = _SRC_RE.search(m.group(0))
        if src and "blured" not in m.group(0):  # the blurred backdrop repeats the clear one
            found.append((m.start(), "video", src.group(1)))
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for _, kind, url in sorted(found):
        url = html.unescape(url)
        if url not in seen:
            seen.add(url)
            out.append((kind, url))
    return out


def install(web: SimWeb) -> TelegramSim:
    return TelegramSim(web)
