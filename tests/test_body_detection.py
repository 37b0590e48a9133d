"""Finding the article body and the tweets in it on pages shaped like real ones.

Each shape here was met on real pages (see tests/corpus/): layout wrappers named after a sidebar,
embeds set beside the text, several <article>s, embeds rendered by Twitter's script or a CMS.
"""

from __future__ import annotations

import pytest

from embedarc.config import Settings
from embedarc.job.pipeline import Input
from embedarc.model import LinkKind
from embedarc.reading.articles import read_html
from embedarc.reading.links import links_in_html
from tests.helpers import make_tweet, run, sidecar_of
from tests.simweb import Photo, SimWeb

TEXT = "<p>" + "The council met on Tuesday to discuss the flooding in the old town. " * 8 + "</p>"


def page(body: str) -> str:
    return f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"


def embed(tweet_id: str, user: str = "someone") -> str:
    return (
        '<blockquote class="twitter-tweet"><p lang="en">Water everywhere</p>&mdash; Some One '
        f'(@{user}) <a href="https://twitter.com/{user}/status/{tweet_id}">May 1, 2024</a>'
        "</blockquote>"
    )


def tweet_ids(html: str) -> set[str]:
    return {link.post.removeprefix("x:") for link in links_in_html(html) if link.post}


# --- 1. a layout wrapper named after a sidebar is not a sidebar --------------------------------


@pytest.mark.parametrize(
    "wrapper",
    [
        '<div class="content-sidebar-wrap">{}</div>',
        '<div class="l-sidebar-fixed l-segment l-article-body-segment">{}</div>',
        '<div class="article-content sticky-sidebar-relative">{}</div>',
        '<div class="sidebar__main">{}</div>',
        '<div class="js-truncate-related-to-my-size">{}</div>',
        '<div class="content-with-sidebar-wrp">{}</div>',
        '<section><div class="section__header">{}</div></section>',
    ],
)
def test_an_embed_inside_a_layout_wrapper_of_the_article_is_kept(wrapper: str) -> None:
    html = page("<article>" + TEXT + wrapper.format(embed("101")) + "</article>")
    assert tweet_ids(html) == {"101"}


def test_a_boilerplate_named_wrapper_around_the_whole_page_does_not_hide_the_article() -> None:
    html = page(
        '<div class="navigation-content"><header><a href="/">home</a></header>'
        "<article>" + TEXT + embed("102") + "</article></div>"
    )
    assert tweet_ids(html) == {"102"}


def test_real_sidebars_and_their_latest_tweets_boxes_are_still_left_out() -> None:
    html = page(
        "<main><div>"
        + TEXT
        + embed("103")
        + "</div>"
        + '<div class="sidebar"><h3>Latest tweets</h3>'
        + embed("900", "site")
        + "</div>"
        + '<div class="related-posts">'
        + embed("901", "site")
        + "</div>"
        + '<div id="comments">'
        + embed("902", "reader")
        + "</div></main>"
    )
    assert tweet_ids(html) == {"103"}


# --- 2. an <aside> inside the article holding an embed is the article's --------------------------


def test_an_aside_inside_the_article_holding_an_embed_is_kept() -> None:
    html = page("<article>" + TEXT + "<aside>" + embed("201") + "</aside>" + TEXT + "</article>")
    assert tweet_ids(html) == {"201"}


def test_an_aside_inside_the_article_without_an_embed_is_still_left_out() -> None:
    html = page(
        "<article>"
        + TEXT
        + '<aside><a href="https://example.com/more">more</a></aside>'
        + "</article>"
    )
    assert "https://example.com/more" not in {link.url for link in links_in_html(html)}


def test_an_aside_beside_the_article_is_still_furniture() -> None:
    html = page("<article>" + TEXT + "</article><aside>" + embed("202") + "</aside>")
    assert tweet_ids(html) == set()


# --- 3. the right <article>, and the embed just outside it ---------------------------------------


def test_a_teaser_article_in_a_rail_is_not_taken_for_the_story() -> None:
    html = page(
        '<div class="rail"><article class="teaser"><a href="/x">Other story</a>'
        + embed("390", "promo")
        + "</article></div>"
        + '<div class="story"><article>'
        + TEXT
        + embed("301")
        + TEXT
        + "</article></div>"
    )
    assert tweet_ids(html) == {"301"}


def test_an_embed_placed_right_after_the_article_element_is_kept() -> None:
    html = page(
        "<div><article>"
        + TEXT
        + '</article><div class="embed-wrap">'
        + embed("302")
        + "</div></div>"
        + '<div class="sidebar">'
        + embed("391", "site")
        + "</div>"
    )
    assert tweet_ids(html) == {"302"}


def test_the_posts_of_a_live_blog_are_all_kept() -> None:
    posts = "".join(f"<article><p>Update {n}</p>{embed(str(310 + n))}</article>" for n in range(3))
    html = page('<div class="live-blog">' + posts + "</div>")
    assert tweet_ids(html) == {"310", "311", "312"}


# --- 4. embeds rendered by Twitter's script or a CMS ---------------------------------------------


@pytest.mark.parametrize(
    "rendered",
    [
        '<iframe id="twitter-widget-0" class="twitter-tweet twitter-tweet-rendered"'
        ' data-tweet-id="1234567890123456789" title="Twitter Tweet"></iframe>',
        '<twitter-widget class="twitter-tweet twitter-tweet-rendered" id="twitter-widget-1"'
        ' data-tweet-id="1234567890123456789"></twitter-widget>',
        '<div class="embed-twitter" data-tweet-id="1234567890123456789"></div>',
        '<div class="social-embed" data-tweet-url="https://twitter.com/someone/status/'
        '1234567890123456789"></div>',
        '<div class="tweet" data-url="https://twitter.com/someone/status/1234567890123456789">'
        "<p>Water everywhere</p></div>",
    ],
)
def test_rendered_embed_forms_are_tweet_embeds(rendered: str) -> None:
    links = links_in_html(page("<article>" + TEXT + rendered + "</article>"))
    tweets = [link for link in links if link.post]
    assert [(link.post, link.kind) for link in tweets] == [
        ("x:1234567890123456789", LinkKind.TWEET_EMBED)
    ]


def test_a_data_tweet_id_that_is_not_a_number_is_ignored() -> None:
    html = page("<article>" + TEXT + '<div data-tweet-id="{{ id }}"></div></article>')
    assert tweet_ids(html) == set()


def test_a_data_url_that_names_no_tweet_gives_no_tweet() -> None:
    html = page("<article>" + TEXT + '<div class="tweet" data-url="https://example.com/"></div>')
    assert tweet_ids(html) == set()


def test_a_rendered_embed_in_a_sidebar_is_still_furniture() -> None:
    html = page(
        "<article>"
        + TEXT
        + '</article><div class="sidebar"><iframe class="twitter-tweet twitter-tweet-rendered"'
        ' data-tweet-id="555"></iframe></div>'
    )
    assert tweet_ids(html) == set()


# --- 5. status URLs written as text --------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "Source: https://twitter.com/someone/status/501 (retrieved in May).",
        "Photo: x.com/someone/status/501",
        "[1] https://mobile.twitter.com/someone/status/501",
    ],
)
def test_a_status_url_written_as_text_in_the_article_is_found(written: str) -> None:
    html = page("<article>" + TEXT + f"<p><small>{written}</small></p></article>")
    assert tweet_ids(html) == {"501"}


def test_a_status_url_written_as_text_outside_the_article_is_not() -> None:
    html = page(
        "<article>" + TEXT + "</article><footer>See https://twitter.com/site/status/502</footer>"
    )
    assert tweet_ids(html) == set()


def test_an_article_read_from_html_carries_the_tweets_of_every_new_form() -> None:
    html = page(
        '<div class="content-sidebar-wrap"><article>'
        + TEXT
        + '<aside><iframe class="twitter-tweet twitter-tweet-rendered" data-tweet-id="601">'
        "</iframe></aside>"
        + "<p>Credit: https://twitter.com/someone/status/602</p>"
        + "</article></div>"
    )
    article = read_html(html.encode(), source="page.html")
    assert {link.post for link in article.links if link.post} == {"x:601", "x:602"}


# -- the same shapes served by the simulated web, archived end to end ---------------------


def test_a_saved_live_blog_page_archives_every_tweet_it_shows_and_no_sidebar_tweet(
    simweb: SimWeb, settings: Settings
) -> None:
    """A page as a reader's browser saved it: a WordPress layout wrapper named after its
    sidebar around the article, rendered embeds, a live blog's own tweet element, a status
    URL written as a credit, and a "latest tweets" box in the real sidebar."""
    rendered, live, credit, sidebar = (
        make_tweet(simweb, n, [Photo(64 + n, 48)]) for n in (31, 32, 33, 34)
    )
    url = "https://news.example.org/live/2022/01/strike"
    simweb.page(
        url,
        "<html><head><title>Live: the strike</title></head><body>"
        '<div class="site-container"><div class="content-sidebar-wrap">'
        '<main class="content"><article class="post">'
        "<h1>Live: the strike</h1><p>Updates as they come in, with the footage cited.</p>"
        '<iframe class="twitter-tweet twitter-tweet-rendered" '
        f'data-tweet-id="{rendered.id}"></iframe>'
        f'<div class="tweet" data-url="{live.status_url}"><p>Loading tweet…</p></div>'
        f"<p>Photo: {credit.status_url.removeprefix('https://')}</p>"
        "</article></main>"
        '<aside class="sidebar sidebar-primary widget-area"><section class="widget">'
        "<h3>Latest tweets</h3>"
        f'<blockquote class="twitter-tweet"><a href="{sidebar.status_url}">x</a></blockquote>'
        "</section></aside></div></div></body></html>",
    )

    [report] = run(settings, Input(url, url=url))

    data = sidecar_of(settings.archive_dir, report)
    archived = {e["post"].removeprefix("x:") for e in data["links"] if e["outcome"] == "archived"}
    assert archived == {rendered.id, live.id, credit.id}
    assert {m["sha256"] for m in data["media"]} == {
        f.sha256 for t in (rendered, live, credit) for f in t.files
    }
    assert not [r for r in simweb.requests if sidebar.id in r.url]
