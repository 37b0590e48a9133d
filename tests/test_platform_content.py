"""Every registered platform's embeds shape the article body as tweets always did, and a host a
platform owns is no other platform's.

Finding the body asks the registry for embeds: an <aside> in the article holding one, a box set
right beside the article holding one, and an embed counted as a paragraph of its candidate hold
for Bluesky, Telegram and Mastodon embeds too, not only for tweets.
"""

from __future__ import annotations

import pytest

from embedarc import platforms
from embedarc.model import LinkKind
from embedarc.reading.links import links_in_html, links_in_text

TEXT = "<p>" + "The council met on Tuesday to discuss the flooding in the old town. " * 8 + "</p>"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
RKEY = "3mk4lzkrnk22d"
BLUESKY = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{DID}/app.bsky.feed.post/{RKEY}">'
    "<p>Water everywhere</p>&mdash; Some One (@someone.example) May 1, 2024</blockquote>"
)
TELEGRAM = (
    '<script async src="https://telegram.org/js/telegram-widget.js?22"'
    ' data-telegram-post="newsroom/120" data-width="100%"></script>'
)
SNOWFLAKE = "113228681326442658"


def mastodon(n: int) -> str:
    return (
        f'<iframe src="https://social.example/@alice/{int(SNOWFLAKE) + n}/embed"'
        ' class="mastodon-embed" width="400"></iframe>'
    )


def page(body: str) -> str:
    return f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"


def posts(html: str) -> list[str]:
    """The posts the page's links name, each once (an embed's frame names its post too)."""
    return list(dict.fromkeys(link.post for link in links_in_html(html) if link.post))


# --- an <aside> inside the article holding an embed is the article's ----------------------------


@pytest.mark.parametrize(
    ("embed", "post"),
    [
        (BLUESKY, f"bluesky:at://{DID}/app.bsky.feed.post/{RKEY}"),
        (TELEGRAM, "telegram:newsroom/120"),
        (mastodon(0), f"mastodon:social.example/{SNOWFLAKE}"),
    ],
)
def test_an_aside_in_the_article_holding_any_platforms_embed_is_kept(embed: str, post: str) -> None:
    html = page("<article>" + TEXT + "<aside>" + embed + "</aside>" + TEXT + "</article>")
    assert posts(html) == [post]


def test_an_aside_in_the_article_holding_no_embed_is_still_left_out() -> None:
    aside = '<aside><iframe src="https://ads.example/embed/banner"></iframe></aside>'
    html = page("<article>" + TEXT + aside + TEXT + "</article>")
    assert links_in_html(html) == []


def test_an_aside_beside_the_article_holding_an_embed_is_still_furniture() -> None:
    html = page("<article>" + TEXT + "</article><aside>" + BLUESKY + "</aside>")
    assert posts(html) == []


# --- an embed set right after the article element, outside it ----------------------------------


@pytest.mark.parametrize("embed", [BLUESKY, TELEGRAM, mastodon(0)])
def test_any_platforms_embed_placed_right_after_the_article_is_kept(embed: str) -> None:
    html = page(
        "<div><article>"
        + TEXT
        + '</article><div class="embed-wrap">'
        + embed
        + "</div></div>"
        + '<div class="sidebar">'
        + mastodon(9)
        + "</div>"
    )
    assert len(posts(html)) == 1


# --- an embed counts as a paragraph of the candidate holding it ----------------------------------


def test_embeds_of_any_platform_weigh_like_paragraphs_when_the_story_is_chosen() -> None:
    # The story is mostly three embedded posts; the teaser beside it has more words of its own.
    teaser = "<p>" + "Other news from the region, read more in the next story. " * 6 + "</p>"
    html = page(
        f'<div class="rail"><article class="teaser">{teaser}</article></div>'
        '<div class="story"><article><p>What residents posted overnight:</p>'
        + "".join(mastodon(n) for n in range(3))
        + "</article></div>"
    )
    assert posts(html) == [f"mastodon:social.example/{int(SNOWFLAKE) + n}" for n in range(3)]


# --- a host a platform owns is no other platform's ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://x.com/@someone/{SNOWFLAKE}",
        f"https://twitter.com/@someone/{SNOWFLAKE}",
        f"https://mobile.twitter.com/users/someone/statuses/{SNOWFLAKE}/activity",
        f"https://x.com/users/someone/statuses/{SNOWFLAKE}",
        f"https://www.x.com/@someone/{SNOWFLAKE}/embed",
    ],
)
def test_a_fediverse_shaped_path_on_xs_hosts_is_no_mastodon_post(url: str) -> None:
    assert platforms.claims(url) is None
    [link] = links_in_text(f"see {url}")
    assert (link.kind, link.post) == (LinkKind.URL, None)


@pytest.mark.parametrize(
    "url",
    [
        f"https://x.com/someone/status/{SNOWFLAKE}",
        f"https://twitter.com/i/web/status/{SNOWFLAKE}",
        f"https://mobile.x.com/someone/statuses/{SNOWFLAKE}",
    ],
)
def test_an_x_status_url_is_never_taken_by_mastodon(url: str) -> None:
    ref = platforms.claims(url)
    assert ref is not None and ref.key == f"x:{SNOWFLAKE}"


def test_who_claims_an_owned_host_does_not_depend_on_the_registry_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urls = [f"https://x.com/@someone/{SNOWFLAKE}", f"https://x.com/someone/status/{SNOWFLAKE}"]
    before = [platforms.claims(url) for url in urls]
    monkeypatch.setattr(platforms, "PLATFORMS", tuple(reversed(platforms.PLATFORMS)))
    assert [platforms.claims(url) for url in urls] == before
    assert before[0] is None and before[1] is not None


@pytest.mark.parametrize(
    "url",
    [
        f"https://t.me/@someone/{SNOWFLAKE}",
        f"https://telegram.me/@someone/{SNOWFLAKE}",
        f"https://bsky.app/@someone/{SNOWFLAKE}",
        f"https://embed.bsky.app/@someone/{SNOWFLAKE}",
    ],
)
def test_a_fediverse_shaped_path_on_telegrams_or_blueskys_hosts_is_no_mastodon_post(
    url: str,
) -> None:
    """Telegram and Bluesky own their hosts as X does: a `/@name/<id>` path there is no one's
    post, and no Mastodon server is looked for on them."""
    assert platforms.claims(url) is None


def test_a_fediverse_path_on_another_host_is_still_a_mastodon_post() -> None:
    ref = platforms.claims(f"https://social.example/@alice/{SNOWFLAKE}")
    assert ref is not None and ref.site == "mastodon"
