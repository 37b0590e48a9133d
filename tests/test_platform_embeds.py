"""Platform embeds in article HTML (Instagram, TikTok, YouTube, Vimeo, Reddit, Facebook) become
links yt-dlp's own extractors claim; the logins those sites demand end as login_required.

The markup follows each platform's own embed snippet (the code its "Embed" button gives).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from embedarc.config import Settings
from embedarc.footage import ytdlp
from embedarc.footage.ytdlp_transport import load_ytdlp
from embedarc.model import Link, LinkKind, Outcome
from embedarc.reading.links import links_in_html
from tests.conftest import run_embedarc
from tests.helpers import html_input, link_entry, run, sidecar_of
from tests.simweb import SimWeb
from tests.simweb.media import make_mp4

INSTAGRAM = (
    '<blockquote class="instagram-media" data-instgrm-captioned'
    ' data-instgrm-permalink="https://www.instagram.com/{kind}/C1a2B3c4D5e/'
    '?utm_source=ig_embed&amp;utm_campaign=loading" data-instgrm-version="14"'
    ' style="background:#FFF; border:0; max-width:540px;"><div style="padding:16px;">'
    '<a href="https://www.instagram.com/{kind}/C1a2B3c4D5e/?utm_source=ig_embed&amp;'
    'utm_campaign=loading" target="_blank">View this post on Instagram</a>'
    '<p><a href="https://www.instagram.com/{kind}/C1a2B3c4D5e/?utm_source=ig_embed&amp;'
    'utm_campaign=loading" target="_blank">A post shared by Harbour Watch (@harbourwatch)</a></p>'
    "</div></blockquote>"
    '<script async src="//www.instagram.com/embed.js"></script>'
)
TIKTOK = (
    '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@harbourwatch/video/'
    '7295627671319383328" data-video-id="7295627671319383328" style="max-width: 605px;'
    'min-width: 325px;" > <section> <a target="_blank" title="@harbourwatch"'
    ' href="https://www.tiktok.com/@harbourwatch?refer=embed">@harbourwatch</a> The flood'
    ' at dawn <a title="flood" target="_blank" href="https://www.tiktok.com/tag/flood?refer=embed">'
    '#flood</a> <a target="_blank" title="♬ original sound - harbourwatch"'
    ' href="https://www.tiktok.com/music/original-sound-7295627700000000000?refer=embed">'
    "♬ original sound - harbourwatch</a> </section> </blockquote>"
    '<script async src="https://www.tiktok.com/embed.js"></script>'
)
REDDIT = (
    '<blockquote class="reddit-embed-bq" style="height:500px" data-embed-height="740">'
    '<a href="https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/">'
    "Flood at the harbour</a><br> by"
    '<a href="https://www.reddit.com/user/harbourwatch/">u/harbourwatch</a> in'
    '<a href="https://www.reddit.com/r/worldnews/">worldnews</a></blockquote>'
    '<script async="" src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>'
)
FB_VIDEO = (
    '<div class="fb-video" data-href="https://www.facebook.com/harbourwatch/videos/'
    '10153231379946729/" data-width="500" data-show-text="false">'
    '<blockquote cite="https://www.facebook.com/harbourwatch/videos/10153231379946729/"'
    ' class="fb-xfbml-parse-ignore"><a href="https://www.facebook.com/harbourwatch/videos/'
    '10153231379946729/">The flood</a><p>At dawn</p>Posted by'
    ' <a href="https://www.facebook.com/harbourwatch">Harbour Watch</a> on Friday,'
    " December 5, 2014</blockquote></div>"
)
FB_POST = (
    '<div class="fb-post" data-href="https://www.facebook.com/20531316728/posts/'
    '10154009990506729/" data-width="500" data-show-text="true">'
    '<blockquote cite="https://developers.facebook.com/20531316728/posts/10154009990506729/"'
    ' class="fb-xfbml-parse-ignore">Posted by <a href="https://www.facebook.com/facebook/">'
    'Facebook</a> on <a href="https://developers.facebook.com/20531316728/posts/'
    '10154009990506729/">Thursday, August 27, 2015</a></blockquote></div>'
)


def page(body: str) -> str:
    return (
        "<!doctype html><html><head><title>Flood</title></head><body>"
        "<nav><a href='https://news.example.org/'>Home</a></nav>"
        f"<article><h1>Flood</h1><p>The water rose at dawn.</p>{body}</article></body></html>"
    )


def only(links: list[Link]) -> Link:
    assert len(links) == 1, links
    return links[0]


# --- discovery ----------------------------------------------------------------------------------

EMBEDS = [
    pytest.param(
        INSTAGRAM.format(kind="p"),
        "https://www.instagram.com/p/C1a2B3c4D5e/",
        LinkKind.PLATFORM_EMBED,
        id="instagram-post",
    ),
    pytest.param(
        INSTAGRAM.format(kind="reel"),
        "https://www.instagram.com/reel/C1a2B3c4D5e/",
        LinkKind.PLATFORM_EMBED,
        id="instagram-reel",
    ),
    pytest.param(
        INSTAGRAM.format(kind="tv"),
        "https://www.instagram.com/tv/C1a2B3c4D5e/",
        LinkKind.PLATFORM_EMBED,
        id="instagram-tv",
    ),
    pytest.param(
        '<blockquote class="instagram-media" data-instgrm-version="14">'
        '<a href="https://www.instagram.com/harbourwatch/p/C1a2B3c4D5e/?igsh=MzRlODBiNWFlZA==">'
        "View this post on Instagram</a></blockquote>",
        "https://www.instagram.com/p/C1a2B3c4D5e/",
        LinkKind.PLATFORM_EMBED,
        id="instagram-by-its-link",
    ),
    pytest.param(
        '<iframe class="instagram-media instagram-media-rendered" id="instagram-embed-0"'
        ' src="https://www.instagram.com/p/C1a2B3c4D5e/embed/captioned/?cr=1&amp;v=14"></iframe>',
        "https://www.instagram.com/p/C1a2B3c4D5e/",
        LinkKind.IFRAME,
        id="instagram-rendered",
    ),
    pytest.param(
        TIKTOK,
        "https://www.tiktok.com/@harbourwatch/video/7295627671319383328",
        LinkKind.PLATFORM_EMBED,
        id="tiktok",
    ),
    pytest.param(
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/"'
        ' data-video-id="7295627671319383328"><section></section></blockquote>',
        "https://www.tiktok.com/embed/7295627671319383328",
        LinkKind.PLATFORM_EMBED,
        id="tiktok-by-video-id",
    ),
    pytest.param(
        '<iframe src="https://www.tiktok.com/embed/v2/7295627671319383328?lang=en"></iframe>',
        "https://www.tiktok.com/embed/7295627671319383328",
        LinkKind.IFRAME,
        id="tiktok-rendered",
    ),
    pytest.param(
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ'
        '?si=Ab12Cd34&amp;start=30" title="YouTube video player" frameborder="0"'
        " allowfullscreen></iframe>",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        LinkKind.IFRAME,
        id="youtube",
    ),
    pytest.param(
        '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>',
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        LinkKind.IFRAME,
        id="youtube-nocookie",
    ),
    pytest.param(
        '<iframe class="lazyload" src="about:blank"'
        ' data-src="//www.youtube.com/embed/dQw4w9WgXcQ?rel=0"></iframe>',
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        LinkKind.IFRAME,
        id="youtube-lazy",
    ),
    pytest.param(
        '<iframe src="https://player.vimeo.com/video/76979871?badge=0&amp;autopause=0"'
        ' frameborder="0" allow="autoplay; fullscreen" title="Flood"></iframe>',
        "https://vimeo.com/76979871",
        LinkKind.IFRAME,
        id="vimeo",
    ),
    pytest.param(
        '<iframe src="https://player.vimeo.com/video/76979871?h=8a3b2c1d0e&amp;badge=0"></iframe>',
        "https://vimeo.com/76979871/8a3b2c1d0e",
        LinkKind.IFRAME,
        id="vimeo-unlisted",
    ),
    pytest.param(
        REDDIT,
        "https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/",
        LinkKind.PLATFORM_EMBED,
        id="reddit",
    ),
    pytest.param(
        '<blockquote class="reddit-card" data-card-created="1500000000">'
        '<a href="https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/'
        '?ref=share&amp;ref_source=embed">Flood at the harbour</a> from'
        ' <a href="http://www.reddit.com/r/worldnews">r/worldnews</a></blockquote>',
        "https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/",
        LinkKind.PLATFORM_EMBED,
        id="reddit-card",
    ),
    pytest.param(
        '<iframe id="reddit-embed" src="https://embed.reddit.com/r/worldnews/comments/1abcde/'
        'flood_at_the_harbour/?embed=true&amp;ref_source=embed"></iframe>',
        "https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/",
        LinkKind.IFRAME,
        id="reddit-rendered",
    ),
    pytest.param(
        FB_VIDEO,
        "https://www.facebook.com/harbourwatch/videos/10153231379946729/",
        LinkKind.PLATFORM_EMBED,
        id="facebook-video",
    ),
    pytest.param(
        FB_POST,
        "https://www.facebook.com/20531316728/posts/10154009990506729/",
        LinkKind.PLATFORM_EMBED,
        id="facebook-post",
    ),
    pytest.param(
        '<iframe src="https://www.facebook.com/plugins/video.php?height=314&amp;href='
        "https%3A%2F%2Fwww.facebook.com%2Fharbourwatch%2Fvideos%2F10153231379946729%2F"
        '&amp;show_text=false&amp;width=560&amp;t=0" width="560" height="314"></iframe>',
        "https://www.facebook.com/harbourwatch/videos/10153231379946729/",
        LinkKind.IFRAME,
        id="facebook-video-plugin",
    ),
    pytest.param(
        '<iframe src="https://www.facebook.com/plugins/post.php?href='
        "https%3A%2F%2Fwww.facebook.com%2F20531316728%2Fposts%2F10154009990506729%2F"
        '&amp;show_text=true&amp;width=500"></iframe>',
        "https://www.facebook.com/20531316728/posts/10154009990506729/",
        LinkKind.IFRAME,
        id="facebook-post-plugin",
    ),
]


@pytest.mark.parametrize(("embed", "url", "kind"), EMBEDS)
def test_platform_embed_becomes_one_link_a_dedicated_extractor_claims(
    embed: str, url: str, kind: LinkKind
) -> None:
    link = only(links_in_html(page(embed)))

    assert (link.url, link.kind) == (url, kind)
    assert ytdlp.has_dedicated_extractor(link.url)


def test_the_watch_url_is_what_a_youtube_embed_becomes_whatever_its_host() -> None:
    forms = [
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "https://youtube.com/embed/dQw4w9WgXcQ/",
        "https://m.youtube.com/embed/dQw4w9WgXcQ?autoplay=1",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?controls=0",
    ]
    body = "".join(f'<iframe src="{src}"></iframe>' for src in forms)
    # One video, however many players show it: one link, spelled as its page.
    link = only(links_in_html(page(body)))
    assert (link.url, link.raw) == ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", forms[0])


def test_the_links_inside_an_embed_are_its_fallback_and_not_kept() -> None:
    # The account, hashtag and sound links of a TikTok or Instagram embed would each send yt-dlp
    # after a whole profile or feed; the embed names one post.
    links = links_in_html(page(TIKTOK + INSTAGRAM.format(kind="p") + REDDIT + FB_VIDEO))

    assert [link.url for link in links] == [
        "https://www.tiktok.com/@harbourwatch/video/7295627671319383328",
        "https://www.instagram.com/p/C1a2B3c4D5e/",
        "https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/",
        "https://www.facebook.com/harbourwatch/videos/10153231379946729/",
    ]
    assert {link.kind for link in links} == {LinkKind.PLATFORM_EMBED}


def test_a_tiktok_creator_embed_names_no_post_and_gives_no_link() -> None:
    creator = (
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@harbourwatch"'
        ' data-unique-id="harbourwatch" data-embed-type="creator" style="max-width: 780px;">'
        '<section><a target="_blank" href="https://www.tiktok.com/@harbourwatch?refer=creator_embed">'
        "@harbourwatch</a></section></blockquote>"
    )
    assert links_in_html(page(creator)) == []


def test_links_after_an_embed_are_kept_as_usual() -> None:
    body = INSTAGRAM.format(kind="p") + '<p>Read <a href="https://example.org/report">it</a>.</p>'

    assert [link.url for link in links_in_html(page(body))] == [
        "https://www.instagram.com/p/C1a2B3c4D5e/",
        "https://example.org/report",
    ]


def test_embeds_in_a_sidebar_stay_out() -> None:
    html = (
        "<!doctype html><html><body><article><p>The water rose at dawn.</p>"
        f"{INSTAGRAM.format(kind='p')}</article>"
        f'<aside class="sidebar">{TIKTOK}{REDDIT}'
        '<iframe src="https://www.youtube.com/embed/aaaaaaaaaaa"></iframe></aside>'
        f'<div class="related-posts">{FB_VIDEO}</div></body></html>'
    )
    assert [link.url for link in links_in_html(html)] == [
        "https://www.instagram.com/p/C1a2B3c4D5e/"
    ]


@pytest.mark.parametrize(
    ("embed", "expected"),
    [
        # A playlist, a channel's live stream: no one video to name; the player stays a player.
        (
            '<iframe src="https://www.youtube.com/embed/videoseries?list=PL0123456789"></iframe>',
            [("https://www.youtube.com/embed/videoseries?list=PL0123456789", LinkKind.IFRAME)],
        ),
        (
            '<iframe src="https://www.youtube.com/embed/live_stream?channel=UC0123"></iframe>',
            [("https://www.youtube.com/embed/live_stream?channel=UC0123", LinkKind.IFRAME)],
        ),
        # Another site's page handed to Facebook's plugin is no Facebook post.
        ('<div class="fb-post" data-href="https://news.example.org/story"></div>', []),
        # A Reddit embed whose link is to a subreddit, not a post.
        (
            '<blockquote class="reddit-embed-bq"><a href="https://www.reddit.com/r/worldnews/">'
            "worldnews</a></blockquote>",
            [],
        ),
        # Instagram's profile embed.
        (
            '<blockquote class="instagram-media" data-instgrm-permalink='
            '"https://www.instagram.com/harbourwatch/?utm_source=ig_embed"></blockquote>',
            [],
        ),
    ],
)
def test_embeds_naming_no_post_give_no_platform_link(
    embed: str, expected: list[tuple[str, LinkKind]]
) -> None:
    assert [(link.url, link.kind) for link in links_in_html(page(embed))] == expected


# --- login_required: the words yt-dlp's extractors say -----------------------------------------


def _download_error(ie_key: str, message: str | None, *, hint: bool) -> BaseException:
    """The DownloadError yt-dlp raises when the extractor says `message` by raise_login_required,
    built the way YoutubeDL builds it (the extractor's name and the post's id in front)."""
    load_ytdlp()
    from yt_dlp import YoutubeDL
    from yt_dlp.extractor import get_info_extractor
    from yt_dlp.utils import DownloadError, ExtractorError

    ie = get_info_extractor(ie_key)()
    args: dict[str, Any] = {} if hint else {"method": None}
    with YoutubeDL({"quiet": True, "logger": ytdlp._Logger()}) as ydl:
        try:
            try:
                if message is None:
                    ie.raise_login_required(**args)
                ie.raise_login_required(message, **args)
            except ExtractorError as error:
                error.ie, error.video_id = ie.IE_NAME, "C1a2B3c4D5e"
                ydl.report_error(str(error), error.format_traceback())
        except DownloadError as wrapped:
            caught: BaseException = wrapped
            return caught
    raise AssertionError("yt-dlp raised nothing")


LOGIN_MESSAGES = [
    # instagram.py
    ("Instagram", "This content is only available for registered users who follow this account"),
    (
        "Instagram",
        "The webpage request was redirected to the login page. "
        "You have exceeded the rate-limit for accessing posts anonymously",
    ),
    ("Instagram", "You need to log in to access this content"),
    ("Instagram", "Requested content is not available, rate-limit reached or login required"),
    # facebook.py: raise_login_required() with yt-dlp's default words, on its login form
    ("Facebook", None),
    ("Facebook", "You must log in to continue"),
    # tiktok.py
    ("TikTok", "TikTok is requiring login for access to this content"),
    ("TikTok", "You do not have permission to view this post. Log into an account that has access"),
    ("TikTok", "This post may not be comfortable for some audiences. Log in for access"),
    # reddit.py
    ("Reddit", "Account authentication is required"),
    ("Reddit", "Quarantined subreddit; an account that has opted in is required"),
    ("Reddit", "Private subreddit; an account that has been approved is required"),
    # youtube: the reason YouTube gives, when it asks to sign in
    ("Youtube", "Sign in to confirm your age. This video may be inappropriate for some users"),
    ("Youtube", "Private video. Sign in if you've been granted access to this video"),
    ("Vimeo", "The vimeo client only works when logged-in"),
]


@pytest.mark.parametrize("hint", [True, False], ids=["with-hint", "site-words-only"])
@pytest.mark.parametrize(("ie_key", "message"), LOGIN_MESSAGES)
def test_a_site_demanding_a_login_ends_as_login_required(
    ie_key: str, message: str | None, hint: bool
) -> None:
    # With yt-dlp's "Use --cookies ..." hint, as raised today, and without it: the site's own
    # words decide, so a hint reworded or left out by a later yt-dlp changes nothing.
    error = _download_error(ie_key, message, hint=hint)

    outcome, reason, retry_after, _failure = ytdlp.classify(error)

    assert outcome is Outcome.LOGIN_REQUIRED, reason
    assert (message or "registered users") in reason and retry_after is None


@pytest.mark.parametrize(
    ("ie_key", "message", "expected"),
    [
        ("Instagram", "There is no video in this post", Outcome.GONE),
        ("Reddit", "HTTP Error 403 Forbidden; reason given: banned", Outcome.FAILED),
        ("TikTok", "Your IP address is blocked from accessing this post", Outcome.GONE),
        ("Facebook", 'The video is not available, Facebook said: "Content removed"', Outcome.GONE),
    ],
)
def test_other_refusals_are_not_taken_for_a_login(
    ie_key: str, message: str, expected: Outcome
) -> None:
    load_ytdlp()
    from yt_dlp.utils import DownloadError, ExtractorError

    error = ExtractorError(message, expected=expected is not Outcome.FAILED, ie=ie_key.lower())
    wrapped = DownloadError(f"ERROR: {error}", (type(error), error, None))

    assert ytdlp.classify(wrapped)[0] is expected


# --- end to end: an article's Reddit embed through yt-dlp's Reddit extractor -------------------

POST_URL = "https://www.reddit.com/r/worldnews/comments/1abcde/flood_at_the_harbour/"
POST_JSON = "https://www.reddit.com/r/worldnews/comments/1abcde/.json"


def reddit_listing(video: str) -> list[dict[str, Any]]:
    """What reddit.com/<post>/.json answers for a post with a video hosted on v.redd.it."""
    post = {
        "id": "1abcde",
        "title": "Flood at the harbour",
        "author": "harbourwatch",
        "subreddit": "worldnews",
        "created_utc": 1709294400.0,
        "url": f"https://v.redd.it/{video}",
        "over_18": False,
        "secure_media": {
            "reddit_video": {
                "fallback_url": f"https://v.redd.it/{video}/DASH_240.mp4?source=fallback",
                "dash_url": f"https://v.redd.it/{video}/DASHPlaylist.mpd",
                "hls_url": f"https://v.redd.it/{video}/HLSPlaylist.m3u8",
                "height": 240,
                "width": 320,
                "duration": 1,
            }
        },
    }
    return [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": post}]}}]


def test_reddit_embed_is_archived_through_ytdlps_reddit_extractor(
    simweb: SimWeb, settings: Settings
) -> None:
    clip = make_mp4(320, 240, 0.5, 93, cache_dir=simweb.media_dir)
    simweb.file("https://v.redd.it/flood1/DASH_240.mp4", clip, "video/mp4")
    simweb.json(POST_JSON, reddit_listing("flood1"))

    [report] = run(settings, html_input(page(REDDIT), url="https://news.example.org/flood"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, POST_URL)
    assert (entry["kind"], entry["outcome"]) == ("platform_embed", "archived")
    assert entry["resolution"]["stop"] == "extractor"
    [media] = data["media"]
    assert media["sha256"] == hashlib.sha256(clip).hexdigest()
    # yt-dlp asked Reddit's API; the post's page itself was never fetched.
    paths = [r.path for r in simweb.requests_to("www.reddit.com")]
    assert "/r/worldnews/comments/1abcde/.json" in paths
    assert "/r/worldnews/comments/1abcde/flood_at_the_harbour/" not in paths
    # Nor were the embed's account and subreddit links taken for footage.
    assert [link["url"] for link in data["links"]] == [POST_URL]


def test_reddit_embed_of_a_private_subreddit_is_login_required(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.json(POST_JSON, {"reason": "private", "message": "Forbidden", "error": 403}, status=403)

    [report] = run(settings, html_input(page(REDDIT), url="https://news.example.org/flood"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), POST_URL)
    assert entry["outcome"] == "login_required"
    assert "Private subreddit" in entry["reason"]


def test_platform_embed_archived_through_the_installed_command(
    simweb: SimWeb, tmp_path: Path
) -> None:
    """An article page on the web with a Reddit embed, given to the installed command by URL:
    the embed's video is kept and the post is named in the sidecar and the index."""
    clip = make_mp4(320, 240, 0.5, 94, cache_dir=simweb.media_dir)
    simweb.file("https://v.redd.it/flood1/DASH_240.mp4", clip, "video/mp4")
    simweb.json(POST_JSON, reddit_listing("flood1"))
    simweb.page("https://news.example.org/flood", page(REDDIT).encode())

    done = run_embedarc(
        "archive", "https://news.example.org/flood", "--json", web=simweb, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    [summary] = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["outcomes"] == {"archived": 1} and summary["new_media"] == 1
    [folder] = list((tmp_path / "archive" / "articles").iterdir())
    data = json.loads((folder / "article.json").read_text())
    [entry] = data["links"]
    assert (entry["url"], entry["kind"]) == (POST_URL, "platform_embed")
    assert [m["sha256"] for m in data["media"]] == [hashlib.sha256(clip).hexdigest()]
    db = sqlite_utils.Database(tmp_path / "archive" / "index.db")
    assert [r["outcome"] for r in db["links"].rows] == ["archived"]
    db.close()
    assert "Traceback" not in done.stderr
