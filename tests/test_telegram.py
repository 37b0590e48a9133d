"""Telegram channel posts: claimed links, the post widget, the embed page, the media archived."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from embedarc import platforms
from embedarc.config import Settings
from embedarc.model import LinkKind
from embedarc.platforms.telegram import MAX_MEDIA, TELEGRAM, parse_page
from embedarc.reading.links import html_links
from tests.conftest import LoopbackServer, run_embedarc
from tests.helpers import html_input, link_entry, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, Video
from tests.simweb import telegram as tg

WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- which links are posts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://t.me/durov/43", "telegram:durov/43"),
        ("http://t.me/durov/43", "telegram:durov/43"),
        ("https://t.me/Durov/43", "telegram:durov/43"),
        ("https://t.me/durov/43/", "telegram:durov/43"),
        ("https://t.me/s/durov/43", "telegram:durov/43"),
        ("https://www.t.me/durov/43", "telegram:durov/43"),
        ("https://telegram.me/durov/43", "telegram:durov/43"),
        ("https://www.telegram.me/durov/43", "telegram:durov/43"),
        ("https://telegram.dog/durov/43", "telegram:durov/43"),
        ("https://t.me/durov/43?single", "telegram:durov/43"),
        ("https://t.me/durov/43?embed=1", "telegram:durov/43"),
        ("https://t.me/durov/43?embed=1&mode=tme", "telegram:durov/43"),
        ("https://t.me/durov/43?comment=1234", "telegram:durov/43"),
        ("https://t.me/news_room_2/0043", "telegram:news_room_2/43"),
        ("https://t.me/forumgroup/7/120", "telegram:forumgroup/120"),  # a topic's message
        ("https://t.me/c/1234567890/55", "telegram:c/1234567890/55"),  # a private channel
    ],
)
def test_every_form_of_a_post_link_is_claimed(url: str, key: str) -> None:
    ref = TELEGRAM.claims(url)
    assert ref is not None and ref.key == key
    assert platforms.claims(url) == ref


@pytest.mark.parametrize(
    "url",
    [
        "https://t.me/durov",  # a channel, not a post
        "https://t.me/s/durov",
        "https://t.me/joinchat/AAAAAEkk2WdoDrB4-Q8-gg",
        "https://t.me/+AbCdEfGhIjKlMnOp",
        "https://t.me/somebot?start=abc",
        "https://t.me/somebot/app?startapp=1",
        "https://t.me/addstickers/Animals",
        "https://t.me/share/url?url=https://example.org",
        "https://t.me/proxy/1",
        "https://t.me/iv/123",
        "https://t.me/durov/abc",
        "https://t.me/ab/1",  # too short for a username
        "https://t.me/1durov/2",  # usernames start with a letter
        "https://t.me/c/abc/2",
        "https://t.me.evil.example/durov/43",
        "https://evil.example/t.me/durov/43",
        "https://user@t.me/durov/43",
        "https://t.me:8443/durov/43",
        "ftp://t.me/durov/43",
        "https://telegram.org/durov/43",
    ],
)
def test_look_alikes_are_not_claimed(url: str) -> None:
    assert TELEGRAM.claims(url) is None


# -- the widget in an article ------------------------------------------------------------------

WIDGET = (
    '<script async src="https://telegram.org/js/telegram-widget.js?22"'
    ' data-telegram-post="{post}" data-width="100%"></script>'
)


def _article(body: str, sidebar: str = "") -> str:
    filler = "<p>" + "Reporters on the ground describe the scene. " * 12 + "</p>"
    return (
        f"<html><body><article><h1>Storm</h1>{filler}{body}{filler}</article>"
        f"<aside class='sidebar'>{sidebar}</aside></body></html>"
    )


def test_the_widget_script_names_the_post() -> None:
    found = html_links(_article(WIDGET.format(post="newsroom/120")), base_url="https://n.example/")
    [link] = [link for link in found.links if link.kind is LinkKind.POST_EMBED]
    assert link.url == "https://t.me/newsroom/120"


def test_the_widget_iframe_names_the_post() -> None:
    iframe = '<iframe src="https://t.me/newsroom/121?embed=1" width="100%"></iframe>'
    found = html_links(_article(iframe), base_url="https://n.example/")
    posts = [platforms.claims(link.url) for link in found.links]
    assert [ref.key for ref in posts if ref] == ["telegram:newsroom/121"]
    assert found.links[0].kind is LinkKind.POST_EMBED


@pytest.mark.parametrize(
    "script",
    [
        # the attribute without Telegram's script: any page may write it
        '<script src="https://evil.example/js/telegram-widget.js" data-telegram-post="a_chan/1">',
        '<script src="https://telegram.org/js/other.js" data-telegram-post="a_chan/1">',
        '<script src="https://telegram.org/js/telegram-widget.js" data-telegram-post="a_chan">',
        '<script src="https://telegram.org/js/telegram-widget.js" data-telegram-post="joinchat/1">',
        '<script src="https://telegram.org/js/telegram-widget.js" data-telegram-post="c/123/4">',
        '<script src="javascript:1" data-telegram-post="a_chan/1">',
    ],
)
def test_a_widget_that_is_not_telegrams_names_no_post(script: str) -> None:
    found = html_links(_article(script + "</script>"), base_url="https://n.example/")
    assert not [link for link in found.links if platforms.claims(link.url)]


def test_a_widget_in_the_sidebar_is_not_the_articles() -> None:
    found = html_links(
        _article("<p>no embed here</p>", sidebar=WIDGET.format(post="other_chan/9")),
        base_url="https://n.example/",
    )
    assert not [link for link in found.links if platforms.claims(link.url)]


# -- the embed page, as recorded from the real t.me --------------------------------------------


def _parse(name: str) -> tuple[object, object]:
    body = (FIXTURES / f"{name}.html").read_text(encoding="utf-8")
    ref = TELEGRAM.claims("https://t.me/" + body.split('data-post="', 1)[1].split('"', 1)[0])
    assert ref is not None
    answer = parse_page(tg.frame(body), ref, f"{ref.url}?embed=1&mode=tme")
    return ref, answer


def test_a_recorded_album_keeps_every_item_with_its_own_message() -> None:
    _, answer = _parse("album_84")
    post = answer.post  # type: ignore[attr-defined]
    assert post.text == "Multiple videos and pictures"
    assert post.created_at == "2023-02-24T11:01:46Z"
    assert post.author == "tchantest" and post.author_name == "tchan's test channel 👍"
    assert [(m.kind, m.item_id) for m in post.media] == [
        ("video", "tchantest/84"),
        ("photo", "tchantest/85"),
        ("video", "tchantest/86"),
        ("photo", "tchantest/87"),
    ]
    assert all(m.url.startswith("https://cdn1.telegram-cdn.org/file/") for m in post.media)


def test_a_recorded_video_is_read_once_without_its_blurred_backdrop() -> None:
    _, answer = _parse("video_18")
    [video] = answer.post.media  # type: ignore[attr-defined]
    assert video.kind == "video" and ".mp4?token=" in video.url


def test_a_recorded_round_video_is_a_video() -> None:
    _, answer = _parse("roundvideo_17")
    [video] = answer.post.media  # type: ignore[attr-defined]
    assert video.kind == "video" and "68145c80a1.mp4" in video.url


def test_a_reply_keeps_its_own_text_not_the_quoted_posts_picture() -> None:
    _, answer = _parse("reply_20")
    post = answer.post  # type: ignore[attr-defined]
    assert post.text == "Reply to a video (not recorded in telegram)"
    assert post.media == ()


def test_a_video_the_web_preview_leaves_out_needs_the_app() -> None:
    _, answer = _parse("video_big_5343")
    assert str(answer.outcome) == "login_required"  # type: ignore[attr-defined]
    assert "Media is too big" in (answer.reason or "")  # type: ignore[attr-defined]


# -- end to end through archive() ---------------------------------------------------------------


def test_an_album_of_three_is_archived_whole(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 120, "Storm hits\nthe coast", WHEN, [Photo(), Video(), Photo()])
    [report] = run(settings, text_input(f"Footage: {post.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, post.url)
    assert entry["kind"] == "post" and entry["outcome"] == "archived"
    assert entry["post"] == "telegram:newsroom/120"
    stored = {m["sha256"]: m for m in data["media"]}
    assert len(post.files) == 3 and {f.sha256 for f in post.files} <= set(stored)
    for f in post.files:
        assert stored[f.sha256]["post"] == "telegram:newsroom/120"
        assert stored[f.sha256]["kind"] == f.kind
        path = settings.archive_dir / stored[f.sha256]["path"]
        assert _sha(path.read_bytes()) == f.sha256
    [entry_post] = data["posts"]
    assert entry_post["text"] == "Storm hits\nthe coast"
    assert entry_post["created_at"] == "2024-03-01T12:00:00Z"
    assert [m["item_id"] for m in entry_post["media"]] == [
        "newsroom/120",
        "newsroom/121",
        "newsroom/122",
    ]
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    row = db.table("posts").get("telegram:newsroom/120")
    assert row["site"] == "telegram" and row["author"] == "newsroom"
    db.close()


def test_a_link_to_an_albums_second_item_archives_the_album_once(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 130, "Three views", WHEN, [Photo(), Photo(), Photo()])
    text = f"{post.url}\nhttps://t.me/newsroom/131?single\nhttps://t.me/s/newsroom/130\n"
    [report] = run(settings, text_input(text))

    data = sidecar_of(settings.archive_dir, report)
    assert {f.sha256 for f in post.files} <= {m["sha256"] for m in data["media"]}
    pages = [r for r in simweb.requests_to("t.me") if r.path == "/newsroom/130"]
    assert len(pages) == 1  # t.me/s/newsroom/130 is the same post: asked once


def test_the_widget_in_an_article_is_archived(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 140, "Flooded street", WHEN, [Video()])
    html = _article(WIDGET.format(post="newsroom/140"))
    [report] = run(settings, html_input(html, url="https://news.example.org/storm"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, post.url)
    assert entry["kind"] == "post_embed" and entry["outcome"] == "archived"
    assert post.files[0].sha256 in {m["sha256"] for m in data["media"]}


def test_a_recorded_album_page_is_archived_item_by_item(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    url, files = sim.recorded("album_84")
    [report] = run(settings, text_input(f"{url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, url)["outcome"] == "archived"
    assert len(files) == 4 and {f.sha256 for f in files} <= {m["sha256"] for m in data["media"]}


def test_a_deleted_post_is_gone(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    sim.post("newsroom", 150, "soon gone", WHEN, [Photo()])
    url = sim.deleted("newsroom", 150)
    [report] = run(settings, text_input(f"{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "gone" and "Post not found" in entry["reason"]


def test_a_withheld_post_needs_a_login(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    url = sim.withheld("restricted_chan", 7)
    [report] = run(settings, text_input(f"{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "login_required"


def test_a_private_channels_post_needs_a_login_and_no_request(
    simweb: SimWeb, settings: Settings
) -> None:
    url = "https://t.me/c/1234567890/55"
    [report] = run(settings, text_input(f"{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "login_required" and entry["post"] == "telegram:c/1234567890/55"
    assert simweb.requests_to("t.me") == []


def test_a_text_post_has_no_media(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 160, "Only words", WHEN)
    [report] = run(settings, text_input(f"{post.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, post.url)["outcome"] == "no_media"
    assert data["posts"][0]["text"] == "Only words"


def test_a_server_error_is_a_transient_failure(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 170, "later", WHEN, [Photo()])
    simweb.fail("https://t.me/newsroom/170", 503, headers={"Retry-After": "120"})
    [report] = run(settings, text_input(f"{post.url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), post.url)
    assert entry["outcome"] == "failed" and "503" in entry["reason"]


# -- hostile pages --------------------------------------------------------------------------------


def _photo_wrap(url: str) -> str:
    style = f"background-image:url('{url}')"
    return f'<a class="tgme_widget_message_photo_wrap" style="{style}"></a>'


def _hostile_message(channel: str, id: int, wraps: str) -> str:
    return (
        '<div class="tgme_widget_message js-widget_message"'
        f' data-post="{channel}/{id}">{wraps}'
        '<div class="tgme_widget_message_text js-message_text">hostile</div>'
        '<a class="tgme_widget_message_date"><time datetime="not a date"></time></a></div>'
    )


def test_a_photo_on_a_loopback_address_is_refused_before_connecting(
    simweb: SimWeb, settings: Settings, loopback_server: LoopbackServer
) -> None:
    sim = tg.install(simweb)
    local = f"http://127.0.0.1:{loopback_server.port}/secret.jpg"
    wrap = f'<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'{local}\')">'
    url = sim.page("hostile_chan", 1, _hostile_message("hostile_chan", 1, wrap + "</a>"))
    [report] = run(settings, text_input(f"{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "refused"
    assert loopback_server.hits == []


def test_script_urls_are_dropped_and_good_media_kept(simweb: SimWeb, settings: Settings) -> None:
    sim = tg.install(simweb)
    good = sim.post("hostile_chan", 2, "decoy", WHEN, [Photo()]).files[0]
    wraps = (
        _photo_wrap("javascript:alert(1)")
        + '<a class="tgme_widget_message_video_player">'
        + '<video src="javascript:alert(2)"></video></a>'
        + _photo_wrap("data:image/png;base64,AAAA")
        + _photo_wrap(good.url)
    )
    url = sim.page("hostile_chan", 3, _hostile_message("hostile_chan", 3, wraps))
    [report] = run(settings, text_input(f"{url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, url)["outcome"] == "archived"
    [post] = data["posts"]
    assert [m["url"] for m in post["media"]] == [good.url]
    assert post["created_at"] is None


def test_ten_thousand_photo_wraps_are_capped() -> None:
    wraps = "".join(_photo_wrap(f"https://cdn4.telesco.pe/file/{n}.jpg") for n in range(10_000))
    ref = TELEGRAM.claims("https://t.me/hostile_chan/4")
    assert ref is not None
    answer = parse_page(tg.frame(_hostile_message("hostile_chan", 4, wraps)), ref, ref.url)
    assert answer.post is not None and len(answer.post.media) == MAX_MEDIA


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<div>no message at all</div>",
        '<div class="tgme_widget_message" data-post="other_chan/1"></div>'
        '<div class="tgme_widget_message" data-post="other_chan/2"></div>',
        '<div class="tgme_widget_message" data-post="hostile_chan/5">'
        '<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'\')"></a>'
        '<a class="tgme_widget_message_photo_wrap" style="color:red"></a>'
        '<a class="tgme_widget_message_video_player"><video></video></a>'
        '<time datetime="2024-99-99T00:00:00"></time></div>',
        "\x00\xff<<<>>>" * 1000,
    ],
)
def test_odd_pages_never_crash(body: str) -> None:
    ref = TELEGRAM.claims("https://t.me/hostile_chan/5")
    assert ref is not None
    answer = parse_page(tg.frame(body), ref, ref.url)
    assert answer.post is not None or answer.outcome is not None


# -- once through the installed command ---------------------------------------------------------


def test_the_command_archives_a_telegram_album(simweb: SimWeb, tmp_path: Path) -> None:
    sim = tg.install(simweb)
    post = sim.post("newsroom", 180, "From the command", WHEN, [Photo(), Video(), Photo()])
    (tmp_path / "a.txt").write_text(f"Seen on Telegram: {post.url}\n")
    done = run_embedarc("archive", "a.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    [folder] = list((tmp_path / "archive" / "articles").iterdir())
    data = json.loads((folder / "article.json").read_text())
    assert {f.sha256 for f in post.files} <= {m["sha256"] for m in data["media"]}
    assert data["posts"][0]["key"] == "telegram:newsroom/180"


def test_a_reply_quote_written_as_message_text_is_not_the_posts_text() -> None:
    # Newer pages write the quoted post's excerpt with the body's own class, first.
    body = (
        '<div class="tgme_widget_message js-widget_message" data-post="newsroom/9">'
        '<a class="tgme_widget_message_reply" href="https://t.me/newsroom/8">'
        '<div class="tgme_widget_message_text js-message_reply_text">the quoted post</div></a>'
        '<div class="tgme_widget_message_text js-message_text">the reply itself</div></div>'
    )
    ref = TELEGRAM.claims("https://t.me/newsroom/9")
    assert ref is not None
    answer = parse_page(tg.frame(body), ref, ref.url)
    assert answer.post is not None and answer.post.text == "the reply itself"


def test_a_blurred_backdrop_with_its_own_source_is_not_the_video() -> None:
    body = (
        '<div class="tgme_widget_message js-widget_message" data-post="newsroom/10">'
        '<a class="tgme_widget_message_video_player js-message_video_player">'
        '<video class="tgme_widget_message_video blured js-message_video_blured"'
        ' src="https://cdn4.telesco.pe/file/preview.mp4"></video>'
        '<video class="tgme_widget_message_video js-message_video"'
        ' src="https://cdn4.telesco.pe/file/original.mp4"></video></a></div>'
    )
    ref = TELEGRAM.claims("https://t.me/newsroom/10")
    assert ref is not None
    answer = parse_page(tg.frame(body), ref, ref.url)
    assert answer.post is not None
    assert [m.url for m in answer.post.media] == ["https://cdn4.telesco.pe/file/original.mp4"]


def test_an_album_item_linking_to_a_malformed_address_is_no_crash() -> None:
    """The recorded album with one item's link made unparseable (a bracket left open in its
    host): that item is read without its own message id, the rest as recorded."""
    page = (FIXTURES / "album_84.html").read_text(encoding="utf-8")
    page = page.replace(
        'href="https://t.me/tchantest/85?single"', 'href="https://[x/tchantest/85?single"'
    )
    ref = TELEGRAM.claims("https://t.me/tchantest/84")
    assert ref is not None

    answer = parse_page(tg.frame(page), ref, f"{ref.url}?embed=1&mode=tme")

    assert answer.post is not None
    assert [m.item_id for m in answer.post.media] == [
        "tchantest/84",
        None,
        "tchantest/86",
        "tchantest/87",
    ]
