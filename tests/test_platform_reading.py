"""The reading hooks of the platform interface, and the registry that asks them.

The shared readers (urls, links, content, articles) know no platform: the rules of every URL
are in `urls`; what a platform adds (its spellings, short links, hosts written without a scheme,
interstitials, embeds and bylines, player frames, card titles) it says through its hooks, and
the registry gathers them.
"""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from embedarc import model, platforms
from embedarc.model import LinkKind
from embedarc.platforms import Embed
from embedarc.platforms.bluesky import BLUESKY
from embedarc.platforms.mastodon import MASTODON
from embedarc.platforms.telegram import TELEGRAM
from embedarc.platforms.x import X_PLATFORM, Tweet, TweetMedia
from embedarc.reading import urls
from embedarc.reading.articles import read_html
from embedarc.reading.links import links_in_text

TWEET = "1478470000000000000"
PHOTO = "https://pbs.twimg.com/media/FIZ8gGdXMAEcK9s?format=jpg&name=small"
ORIGINAL = "https://pbs.twimg.com/media/FIZ8gGdXMAEcK9s?format=jpg&name=orig"


# --- urls: the rules of every URL, no platform's ------------------------------------------------


def test_the_shared_url_rules_leave_a_platforms_urls_as_any_other() -> None:
    assert urls.canonical(f"https://X.com/u/status/{TWEET}?s=20#top") == (
        f"https://x.com/u/status/{TWEET}?s=20"
    )
    assert urls.canonical(PHOTO) == PHOTO
    assert urls.with_scheme(f"twitter.com/u/status/{TWEET}") == f"twitter.com/u/status/{TWEET}"
    assert urls.with_scheme("ift.tt/abc") == "https://ift.tt/abc"


def test_the_registry_adds_each_platforms_spelling() -> None:
    assert platforms.normalise(f"x.com/u/status/{TWEET}?s=20") == (
        f"https://twitter.com/u/status/{TWEET}"
    )
    assert platforms.normalise(PHOTO) == ORIGINAL
    assert platforms.normalise("HTTPS://Example.COM:443/a?utm_source=x&b=1#f") == (
        "https://example.com/a?b=1"
    )


def test_a_platforms_spelling_comes_before_the_shared_rules() -> None:
    # The fragment the shared rules drop is where a hash-bang URL keeps the tweet.
    assert platforms.normalise(f"https://twitter.com/#!/u/status/{TWEET}") == (
        f"https://twitter.com/u/status/{TWEET}"
    )
    assert urls.canonical(f"https://twitter.com/#!/u/status/{TWEET}") == "https://twitter.com/"


def test_an_attribute_value_becomes_an_absolute_url_by_the_platforms_hosts_too() -> None:
    base = "https://news.example/2024/story"
    assert platforms.absolute("x.com/u/status/1", base) == "https://x.com/u/status/1"
    assert (
        urls.absolute_url("x.com/u/status/1", base) == "https://news.example/2024/x.com/u/status/1"
    )
    assert platforms.absolute("#top", base) is None
    assert platforms.absolute("mailto:a@b.example", base) is None


def test_the_hosts_people_write_without_a_scheme_come_from_the_platforms() -> None:
    assert {"twitter.com", "x.com"} <= set(platforms.BARE_HOSTS)
    assert platforms.with_scheme("m.x.com/u/status/1") == "https://m.x.com/u/status/1"
    assert platforms.with_scheme("pic.twitter.com/AbC") == "https://pic.twitter.com/AbC"
    assert platforms.with_scheme("ift.tt/AbC") == "https://ift.tt/AbC"
    assert platforms.with_scheme("example.com/a") == "example.com/a"


# --- hooks: one platform's answer, reached through the registry ---------------------------------


def test_an_interstitial_is_unwrapped_by_the_platform_that_wrote_it() -> None:
    wrapped = "x.com/safety/unsafe_link_warning?unsafe_link=https%3A%2F%2Fexample.com%2Fv"
    assert X_PLATFORM.unwrap("https://" + wrapped) == "https://example.com/v"
    assert platforms.unwrap(wrapped) == "https://example.com/v"
    assert platforms.unwrap("https://example.com/safety/unsafe_link_warning?unsafe_link=x") is None


def test_a_platforms_player_frame_names_its_post() -> None:
    src = f"https://platform.twitter.com/embed/Tweet.html?dnt=false&id={TWEET}&theme=light"
    assert platforms.player(src) == f"https://twitter.com/i/web/status/{TWEET}"
    assert platforms.player("https://platform.twitter.com/embed/Tweet.html?id=abc") is None
    assert platforms.player(f"https://evil.example/platform.twitter.com/embed?id={TWEET}") is None


def test_short_links_are_the_platforms_own() -> None:
    assert platforms.short_link_kind("pic.twitter.com") is LinkKind.PIC_TWITTER
    assert platforms.short_link_kind("pic.x.com") is LinkKind.PIC_TWITTER
    assert platforms.short_link_kind("t.co") is LinkKind.TCO
    assert platforms.short_link_kind("ift.tt") is None  # IFTTT is no platform: the reader's own
    assert platforms.short_link_kind("example.com") is None


def test_a_byline_names_the_kinds_of_links_it_attributes() -> None:
    found = platforms.byline("— Aurora Intel (@AuroraIntel) January 4, 2022")
    assert found == (
        "— Aurora Intel (@AuroraIntel) January 4, 2022",
        frozenset({LinkKind.TWEET, LinkKind.PIC_TWITTER, LinkKind.TCO}),
    )
    assert platforms.byline("— a line with no handle") is None


def test_a_byline_under_a_pasted_post_goes_to_its_links_only() -> None:
    text = (
        f"https://twitter.com/a/status/{TWEET} https://example.com/x\n"
        "— Aurora Intel (@AuroraIntel) January 4, 2022\n"
    )
    attributions = {link.url: link.attribution for link in links_in_text(text)}
    assert attributions == {
        f"https://twitter.com/a/status/{TWEET}": "— Aurora Intel (@AuroraIntel) January 4, 2022",
        "https://example.com/x": None,
    }


def test_an_embed_names_its_post_by_its_permalink_with_the_byline() -> None:
    html = (
        '<blockquote class="twitter-tweet"><p>Footage <a href="https://t.co/8xGo7BYVO3">'
        "pic.twitter.com/8xGo7BYVO3</a></p>&mdash; Aurora Intel (@AuroraIntel) "
        f'<a href="https://twitter.com/AuroraIntel/status/{TWEET}?ref_src=twsrc">'
        "January 4, 2022</a></blockquote>"
    )
    tree = LexborHTMLParser(html)
    quote = tree.css_first("blockquote")
    anchor = tree.css("a")[-1]
    assert quote is not None
    found = platforms.embed(quote, None)
    assert found is not None
    platform, embed = found
    assert platform is X_PLATFORM
    assert embed == Embed(
        f"https://twitter.com/AuroraIntel/status/{TWEET}?ref_src=twsrc",
        f"https://twitter.com/AuroraIntel/status/{TWEET}?ref_src=twsrc",
        attribution="— Aurora Intel (@AuroraIntel) January 4, 2022",
        at=anchor.mem_id,
    )
    assert (platform.embed_kind, platform.link_kind) == (LinkKind.TWEET_EMBED, LinkKind.TWEET)


def test_an_embed_named_by_attribute_is_found_at_the_element() -> None:
    widget = LexborHTMLParser(f'<twitter-widget data-tweet-id="{TWEET}"></twitter-widget>')
    element = widget.css_first("twitter-widget")
    assert element is not None
    assert platforms.embed(element, None) == (
        X_PLATFORM,
        Embed(f"https://twitter.com/i/web/status/{TWEET}", TWEET),
    )


def test_a_page_title_from_a_platforms_card_markup() -> None:
    assert "twitter:title" in platforms.TITLE_META
    html = (
        '<html><head><meta name="twitter:title" content="Card title">'
        "<title>Page title</title></head><body><article>x</article></body></html>"
    )
    assert read_html(html.encode(), source="a.html").title == "Card title"


# --- defaults: a platform with nothing to add leaves the shared rules alone ---------------------


@pytest.mark.parametrize("platform", [BLUESKY, TELEGRAM, MASTODON], ids=lambda p: p.site)
def test_a_platform_that_says_nothing_takes_the_defaults(platform: platforms.Platform) -> None:
    url = f"https://example.com/{platform.site}/1"
    assert platform.normalise(url) is None
    assert platform.unwrap(url) is None
    assert platform.player(url) is None
    assert platform.byline("— Some One (@someone) today") is None
    assert platform.owns("example.com") is False
    assert (platform.link_kind, platform.embed_kind) == (LinkKind.POST, LinkKind.POST_EMBED)
    assert (dict(platform.short_links), platform.bare_hosts, platform.title_meta) == ({}, (), ())


def test_the_default_embed_is_the_embed_url_at_the_element() -> None:
    did, rkey = "did:plc:z72i7hdynmk6r22z27h6tvur", "3mk4lzkrnk22d"
    tree = LexborHTMLParser(
        f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{did}/app.bsky.feed.post/{rkey}">'
        "</blockquote>"
    )
    quote = tree.css_first("blockquote")
    assert quote is not None
    url = f"https://bsky.app/profile/{did}/post/{rkey}"
    assert BLUESKY.embed(quote, None) == Embed(url, url)
    assert platforms.embed(quote, None) == (BLUESKY, Embed(url, url))
    assert platforms.embed_url(quote, None) == url


def test_every_platforms_embed_selector_is_asked() -> None:
    for platform in platforms.PLATFORMS:
        assert platform.embed_selector and platform.embed_selector in platforms.EMBED_SELECTOR


# --- X's answer shapes are X's ------------------------------------------------------------------


def test_the_shapes_of_xs_answers_live_with_x() -> None:
    assert not hasattr(model, "Tweet") and not hasattr(model, "TweetMedia")
    tweet = Tweet(TWEET, None, None, "", None, media=(TweetMedia(model.MediaKind.PHOTO, ORIGINAL),))
    assert tweet.url == f"https://twitter.com/i/web/status/{TWEET}"
    assert tweet.all_media() == ((tweet, tweet.media[0]),)
