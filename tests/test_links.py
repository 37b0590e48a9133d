from __future__ import annotations

from pathlib import Path

import pytest

from embedarc.model import FoundIn, Link, LinkKind
from embedarc.platforms.x.urls import is_status_url, tweet_ref
from embedarc.reading.decoding import decode
from embedarc.reading.links import (
    html_meta_refresh,
    links_in_html,
    links_in_text,
    normalise,
    origin_in_text,
    unwrap,
)

EXAMPLE = Path(__file__).parent.parent / "examples" / "zerohedge-syria-strike.txt"


def urls(links: list[Link]) -> list[str]:
    return [link.url for link in links]


def only(links: list[Link]) -> Link:
    assert len(links) == 1, links
    return links[0]


# --- tweet_ref / is_status_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        (
            "https://twitter.com/AuroraIntel/status/1478470000000000000",
            ("AuroraIntel", "1478470000000000000"),
        ),
        ("https://x.com/AuroraIntel/status/123", ("AuroraIntel", "123")),
        ("http://www.twitter.com/user/status/123", ("user", "123")),
        ("https://mobile.twitter.com/user/status/123", ("user", "123")),
        ("https://m.twitter.com/user/status/123", ("user", "123")),
        ("twitter.com/user/status/123", ("user", "123")),
        ("x.com/user/status/123", ("user", "123")),
        ("https://twitter.com/user/statuses/123", ("user", "123")),
        ("https://twitter.com/user/status/123/photo/1", ("user", "123")),
        ("https://x.com/user/status/123/video/2", ("user", "123")),
        ("https://twitter.com/user/status/123?s=20&t=AbCdEf", ("user", "123")),
        ("https://twitter.com/user/status/123/", ("user", "123")),
        ("https://twitter.com/i/web/status/123", (None, "123")),
        ("https://twitter.com/i/status/123", (None, "123")),
        ("https://twitter.com/statuses/123", (None, "123")),
    ],
)
def test_tweet_ref_reads_every_status_url_form(url: str, ref: tuple[str | None, str]) -> None:
    assert tweet_ref(url) == ref


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/user",
        "https://twitter.com/user/status/123/analytics",
        "https://twitter.com/user/likes",
        "https://nottwitter.com/user/status/123",
        "https://example.com/twitter.com/user/status/123",
        "https://pic.twitter.com/8xGo7BYVO3",
        "https://t.co/AbCdEf",
    ],
)
def test_other_urls_are_not_status_urls(url: str) -> None:
    assert tweet_ref(url) is None
    assert not is_status_url(url)


# --- normalise ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("pic.twitter.com/8xGo7BYVO3", "https://pic.twitter.com/8xGo7BYVO3"),
        ("t.co/AbCdEf", "https://t.co/AbCdEf"),
        ("ift.tt/3FYxYO2", "https://ift.tt/3FYxYO2"),
        ("twitter.com/user/status/1", "https://twitter.com/user/status/1"),
        ("x.com/user/status/1", "https://twitter.com/user/status/1"),
    ],
)
def test_scheme_less_known_hosts_get_https(url: str, expected: str) -> None:
    assert normalise(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/user/status/1",
        "https://www.twitter.com/user/status/1",
        "https://mobile.twitter.com/user/status/1",
        "https://twitter.com/user/status/1/photo/1",
        "https://x.com/user/status/1/video/1",
        "https://twitter.com/user/status/1?s=20&t=AbCdEf",
        "https://twitter.com/user/status/1?ref_src=twsrc%5Etfw",
        "https://twitter.com/user/status/1#m",
        "HTTPS://TWITTER.COM/user/status/1",
    ],
)
def test_status_urls_fold_to_one_twitter_form(url: str) -> None:
    assert normalise(url) == "https://twitter.com/user/status/1"


def test_i_web_status_urls_keep_the_i_web_form() -> None:
    assert normalise("https://x.com/i/web/status/1") == "https://twitter.com/i/web/status/1"


def test_scheme_and_host_are_lower_cased() -> None:
    assert normalise("HTTPS://Example.COM/Path/Kept") == "https://example.com/Path/Kept"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
    ],
)
def test_default_ports_are_dropped(url: str, expected: str) -> None:
    assert normalise(url) == expected


def test_fragments_are_dropped() -> None:
    assert normalise("https://example.com/a#section-2") == "https://example.com/a"


@pytest.mark.parametrize(
    "parameter",
    [
        "utm_source=x",
        "utm_medium=social",
        "fbclid=1",
        "gclid=2",
        "igshid=3",
        "mc_cid=4",
        "mc_eid=5",
        "ref_src=twsrc",
        "ref_url=https%3A%2F%2Fa",
    ],
)
def test_tracking_parameters_are_dropped(parameter: str) -> None:
    assert normalise(f"https://example.com/a?id=7&{parameter}") == "https://example.com/a?id=7"


def test_other_query_parameters_keep_their_order_and_encoding() -> None:
    url = "https://example.com/a?z=1&utm_source=x&a=%2F&b"
    assert normalise(url) == "https://example.com/a?z=1&a=%2F&b"


def test_a_query_of_only_tracking_parameters_disappears() -> None:
    assert normalise("https://example.com/a?utm_source=x") == "https://example.com/a"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp.jpg?name=small",
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp?format=jpg&name=orig",
        ),
        (
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp.jpg",
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp?format=jpg&name=orig",
        ),
        (
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp?format=jpg&name=large",
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp?format=jpg&name=orig",
        ),
        (
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp.png:large",
            "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp?format=png&name=orig",
        ),
    ],
)
def test_twitter_photos_are_asked_for_in_their_original_size(url: str, expected: str) -> None:
    assert normalise(url) == expected


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a?b=2&a=1", "https://example.com/", "mailto:someone@example.com"],
)
def test_anything_else_is_kept_as_it_is(url: str) -> None:
    assert normalise(url) == url


def test_a_url_without_a_host_is_left_as_it_is() -> None:
    # Rebuilding it would read the path's "//example.com:443" as a host: a new URL each pass.
    assert normalise("https:////example.com:443/") == "https:////example.com:443/"


def test_blanks_and_control_characters_inside_a_url_are_percent_encoded() -> None:
    assert normalise("https://example.com/my video\x1b.mp4") == (
        "https://example.com/my%20video%1B.mp4"
    )


def test_a_port_that_is_not_an_ascii_number_does_not_raise() -> None:
    assert normalise("https://example.com:²/a") == "https://example.com:²/a"


# --- unwrap -------------------------------------------------------------------------------------


def test_unwrap_returns_the_target_of_twitters_unsafe_link_warning() -> None:
    wrapped = "https://twitter.com/safety/unsafe_link_warning?unsafe_link=https%3A%2F%2Fexample.com%2Fv%3Fa%3D1"
    assert unwrap(wrapped) == "https://example.com/v?a=1"


def test_unwrap_returns_none_for_other_urls() -> None:
    assert unwrap("https://twitter.com/user/status/1") is None
    assert unwrap("https://example.com/safety/unsafe_link_warning?unsafe_link=x") is None


# --- links_in_text ------------------------------------------------------------------------------


def test_bare_pic_twitter_link_gets_https() -> None:
    link = only(links_in_text("Footage of it. pic.twitter.com/8xGo7BYVO3"))
    assert link.url == "https://pic.twitter.com/8xGo7BYVO3"
    assert link.kind is LinkKind.PIC_TWITTER
    assert link.raw == "pic.twitter.com/8xGo7BYVO3"


def test_bare_t_co_link_is_found() -> None:
    link = only(links_in_text("More here t.co/AbCdEf12"))
    assert (link.url, link.kind) == ("https://t.co/AbCdEf12", LinkKind.TCO)


def test_ift_tt_link_is_found() -> None:
    link = only(links_in_text("see ift.tt/3FYxYO2 for more"))
    assert (link.url, link.kind) == ("https://ift.tt/3FYxYO2", LinkKind.IFTTT)


def test_plain_url_is_found() -> None:
    link = only(
        links_in_text("Reuters reports https://www.reuters.com/world/a-b-2022-01-04/ today")
    )
    assert (link.url, link.kind) == ("https://www.reuters.com/world/a-b-2022-01-04/", LinkKind.URL)


@pytest.mark.parametrize(
    "pasted",
    [
        "https://twitter.com/user/status/1",
        "http://twitter.com/user/status/1",
        "twitter.com/user/status/1",
        "www.twitter.com/user/status/1",
        "mobile.twitter.com/user/status/1",
        "https://mobile.twitter.com/user/status/1",
        "x.com/user/status/1",
        "https://x.com/user/status/1?s=20&t=AbCdEf",
        "https://twitter.com/user/status/1/video/1",
    ],
)
def test_tweet_urls_are_found_in_every_pasted_form(pasted: str) -> None:
    link = only(links_in_text(f"As seen in {pasted} yesterday"))
    assert link.url == "https://twitter.com/user/status/1"
    assert link.kind is LinkKind.TWEET
    assert link.post == "x:1"
    assert link.raw == pasted


def test_scheme_less_twitter_links_that_name_no_tweet_are_ignored() -> None:
    assert links_in_text("follow us on twitter.com/zerohedge") == []


def test_domains_that_merely_end_like_a_short_link_are_ignored() -> None:
    assert links_in_text("netflix.com/user/status/1 and microsoft.co/abc") == []


@pytest.mark.parametrize(
    "punctuation", [".", ",", ";", ":", "!", "?", ")", "]", "}", "'", '"', "”", "’", "»", "…"]
)
def test_trailing_punctuation_is_not_part_of_the_url(punctuation: str) -> None:
    link = only(links_in_text(f"read https://example.com/a/b{punctuation} then"))
    assert link.url == "https://example.com/a/b"


def test_several_trailing_punctuation_marks_are_all_dropped() -> None:
    assert urls(links_in_text("(see https://example.com/a).")) == ["https://example.com/a"]


def test_balanced_closing_paren_stays_in_the_url() -> None:
    text = "on https://en.wikipedia.org/wiki/Deir_ez-Zor_(city), there"
    assert urls(links_in_text(text)) == ["https://en.wikipedia.org/wiki/Deir_ez-Zor_(city)"]


def test_unbalanced_closing_paren_is_dropped_but_a_balanced_one_kept() -> None:
    text = "(https://en.wikipedia.org/wiki/Deir_ez-Zor_(city))"
    assert urls(links_in_text(text)) == ["https://en.wikipedia.org/wiki/Deir_ez-Zor_(city)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com/a—the video", "https://example.com/a"),
        ("https://example.com/a“quoted”", "https://example.com/a"),
        ("«https://example.com/a»", "https://example.com/a"),
        ("https://example.com/wiki/Köln is kept", "https://example.com/wiki/Köln"),
        ("https://t.co/AbCdEf下一个", "https://t.co/AbCdEf"),
        ("pic.twitter.com/8xGo7BYVO3Footage", "https://pic.twitter.com/8xGo7BYVO3Footage"),
        ("https://t.co/AbCdEf…", "https://t.co/AbCdEf"),
        ("t.co/AbCdEf…", "https://t.co/AbCdEf"),
    ],
)
def test_urls_stop_where_non_ascii_punctuation_starts(text: str, expected: str) -> None:
    assert urls(links_in_text(text)) == [expected]


def test_links_are_deduplicated_by_normalised_url_first_occurrence_wins() -> None:
    text = (
        "pic.twitter.com/Abc then https://pic.twitter.com/Abc"
        " and https://x.com/u/status/1 twitter.com/u/status/1?s=20"
    )
    links = links_in_text(text)
    assert urls(links) == ["https://pic.twitter.com/Abc", "https://twitter.com/u/status/1"]
    assert [link.raw for link in links] == ["pic.twitter.com/Abc", "https://x.com/u/status/1"]


def test_links_keep_their_order_of_appearance() -> None:
    text = "https://b.example/ then\nt.co/Zz and https://a.example/"
    assert urls(links_in_text(text)) == [
        "https://b.example/",
        "https://t.co/Zz",
        "https://a.example/",
    ]


@pytest.mark.parametrize("dash", ["—", "&mdash;", "--"])
def test_tweet_attribution_line_is_put_on_the_link_above(dash: str) -> None:
    text = (
        "Drones downed this morning. pic.twitter.com/8xGo7BYVO3\n"
        f"{dash} Aurora Intel (@AuroraIntel) January 4, 2022\n"
        "More."
    )
    link = only(links_in_text(text))
    assert link.attribution == "— Aurora Intel (@AuroraIntel) January 4, 2022"


def test_attribution_is_put_on_a_t_co_link_too() -> None:
    text = "Watch https://t.co/AbCdEf\n— Someone (@someone) May 1, 2023"
    assert only(links_in_text(text)).attribution == "— Someone (@someone) May 1, 2023"


def test_attribution_is_not_put_on_plain_urls() -> None:
    text = "Source https://example.com/a\n— Someone (@someone) May 1, 2023"
    assert only(links_in_text(text)).attribution is None


def test_attribution_is_only_taken_from_the_line_directly_after() -> None:
    text = "pic.twitter.com/Abc\nAnother paragraph.\n— Someone (@someone) May 1, 2023"
    assert only(links_in_text(text)).attribution is None


def test_a_line_starting_with_a_dash_but_naming_no_handle_is_no_attribution() -> None:
    text = "pic.twitter.com/Abc\n— and then the drones came"
    assert only(links_in_text(text)).attribution is None


def test_via_footer_url_is_the_origin() -> None:
    text = "Body.\nvia ZeroHedge News https://ift.tt/3FYxYO2 Tyler Durden"
    link = only(links_in_text(text))
    assert (link.url, link.kind) == ("https://ift.tt/3FYxYO2", LinkKind.ORIGIN)


def test_only_the_last_via_line_is_the_origin() -> None:
    text = "via Reuters https://ift.tt/first\nBody.\nvia ZeroHedge News https://ift.tt/second"
    kinds = {link.url: link.kind for link in links_in_text(text)}
    assert kinds == {
        "https://ift.tt/first": LinkKind.IFTTT,
        "https://ift.tt/second": LinkKind.ORIGIN,
    }


def test_origin_in_text_names_the_source_and_its_url() -> None:
    origin = origin_in_text("Body.\nvia ZeroHedge News https://ift.tt/3FYxYO2 Tyler Durden")
    assert origin is not None
    assert (origin.name, origin.url) == ("ZeroHedge News", "https://ift.tt/3FYxYO2")


def test_origin_in_text_is_none_without_a_via_line() -> None:
    assert origin_in_text("Nothing here https://example.com/") is None


def test_example_article_has_its_pic_link_with_attribution_and_its_origin() -> None:
    links = links_in_text(EXAMPLE.read_text(encoding="utf-8"))
    assert links == [
        Link(
            url="https://pic.twitter.com/8xGo7BYVO3",
            kind=LinkKind.PIC_TWITTER,
            raw="pic.twitter.com/8xGo7BYVO3",
            attribution="— Aurora Intel (@AuroraIntel) January 4, 2022",
        ),
        Link(url="https://ift.tt/3FYxYO2", kind=LinkKind.ORIGIN, raw="https://ift.tt/3FYxYO2"),
    ]


@pytest.mark.parametrize(
    "text",
    ["see https://@/ now", "see https://[oops now", "see https://example.com:²/x now"],
)
def test_text_urls_without_a_usable_host_or_port_are_skipped(text: str) -> None:
    assert links_in_text(text) == []


# --- links_in_html ------------------------------------------------------------------------------

TWEET_EMBED = """
<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Footage from Ain Al-Assad Airbase
<a href="https://twitter.com/hashtag/Iraq?src=hash&amp;ref_src=twsrc%5Etfw">#Iraq</a>
<a href="https://t.co/8xGo7BYVO3">pic.twitter.com/8xGo7BYVO3</a></p>&mdash; Aurora Intel
(@AuroraIntel) <a
href="https://twitter.com/AuroraIntel/status/1478470000000000000?ref_src=twsrc%5Etfw"
>January 4, 2022</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
"""


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def test_links_are_taken_from_the_article_element_only() -> None:
    html = page(
        '<nav><a href="https://example.com/menu">Menu</a></nav>'
        '<article><p>Read <a href="https://example.com/story">this</a></p></article>'
        '<a href="https://example.com/outside">outside</a>'
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


def test_links_from_every_article_element_are_taken() -> None:
    html = page(
        '<article><a href="https://a.example/">a</a></article><article><a href="https://b.example/">b</a></article>'
    )
    assert urls(links_in_html(html)) == ["https://a.example/", "https://b.example/"]


def test_article_cards_in_a_related_sidebar_are_not_the_article() -> None:
    html = page(
        '<article><a href="https://a.example/">a</a></article>'
        '<aside><article><a href="https://related.example/">r</a></article></aside>'
        '<div class="related-posts"><article><a href="https://related.example/2">r</a></article></div>'
    )
    assert urls(links_in_html(html)) == ["https://a.example/"]


@pytest.mark.parametrize(
    "container",
    [
        "<main>{}</main>",
        '<div role="main">{}</div>',
        '<div id="content">{}</div>',
        '<div class="content">{}</div>',
        '<div class="post">{}</div>',
        '<div class="entry-content">{}</div>',
        '<div class="article-body">{}</div>',
    ],
)
def test_without_an_article_element_the_main_content_is_used(container: str) -> None:
    html = page(
        '<div class="top"><a href="https://example.com/home">home</a></div>'
        + container.format('<a href="https://example.com/story">story</a>')
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


def test_without_any_content_container_the_body_is_used_minus_its_chrome() -> None:
    html = page(
        '<header><a href="https://example.com/logo">logo</a></header>'
        '<nav><a href="https://example.com/nav">nav</a></nav>'
        '<p><a href="https://example.com/story">story</a></p>'
        '<aside><a href="https://example.com/aside">aside</a></aside>'
        '<footer><a href="https://example.com/footer">footer</a></footer>'
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


@pytest.mark.parametrize(
    "attribute",
    [
        'class="main-nav"',
        'class="menu"',
        'id="sidebar"',
        'class="site-footer"',
        'class="header"',
        'class="related-articles"',
        'class="share-buttons"',
        'id="comments"',
        'class="relatedPosts"',
    ],
)
def test_navigation_and_other_chrome_inside_the_article_is_excluded(attribute: str) -> None:
    html = page(
        "<article>"
        '<p><a href="https://example.com/story">story</a></p>'
        f'<div {attribute}><a href="https://example.com/chrome">chrome</a></div>'
        "</article>"
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


def test_a_layout_class_naming_a_sidebar_does_not_hide_the_content() -> None:
    html = page(
        '<article><div class="has-sidebar"><a href="https://example.com/story">s</a></div></article>'
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


def test_an_articles_own_header_is_kept() -> None:
    html = page(
        '<article><header><video src="https://cdn.example/lead.mp4"></video></header></article>'
    )
    assert urls(links_in_html(html)) == ["https://cdn.example/lead.mp4"]


@pytest.mark.parametrize(
    "href", ["mailto:tips@example.com", "javascript:void(0)", "#comments", "tel:+100", ""]
)
def test_non_web_hrefs_are_skipped(href: str) -> None:
    assert links_in_html(page(f'<article><a href="{href}">x</a></article>')) == []


@pytest.mark.parametrize(
    ("href", "kind"),
    [
        ("https://twitter.com/u/status/5", LinkKind.TWEET),
        ("https://t.co/AbC", LinkKind.TCO),
        ("https://pic.twitter.com/AbC", LinkKind.PIC_TWITTER),
        ("https://ift.tt/AbC", LinkKind.IFTTT),
        ("https://example.com/", LinkKind.URL),
    ],
)
def test_anchor_kind_follows_its_url(href: str, kind: LinkKind) -> None:
    assert only(links_in_html(page(f'<article><a href="{href}">x</a></article>'))).kind is kind


def test_anchor_to_a_tweet_carries_its_id() -> None:
    link = only(
        links_in_html(page('<article><a href="https://x.com/u/status/5?s=20">x</a></article>'))
    )
    assert (link.url, link.post) == ("https://twitter.com/u/status/5", "x:5")


def test_relative_urls_are_resolved_against_the_base_url() -> None:
    html = page('<article><a href="/2022/01/other">x</a><a href="../v.mp4">v</a></article>')
    links = links_in_html(html, base_url="https://news.example/2022/01/story")
    assert urls(links) == ["https://news.example/2022/01/other", "https://news.example/2022/v.mp4"]


def test_html_links_keep_the_attribute_as_written_in_raw() -> None:
    html = page('<article><a href=" /2022/01/other ">x</a></article>')
    links = links_in_html(html, base_url="https://news.example/2022/01/story")
    assert only(links).raw == "/2022/01/other"


def test_relative_urls_are_resolved_against_base_href_first() -> None:
    html = page(
        '<article><a href="other">x</a></article>', head='<base href="https://cdn.example/dir/">'
    )
    links = links_in_html(html, base_url="https://news.example/story")
    assert urls(links) == ["https://cdn.example/dir/other"]


def test_relative_urls_without_any_base_are_skipped() -> None:
    assert links_in_html(page('<article><a href="/other">x</a></article>')) == []


def test_scheme_relative_urls_get_https() -> None:
    html = page('<article><a href="//cdn.example/a">x</a></article>')
    assert urls(links_in_html(html)) == ["https://cdn.example/a"]


def test_tweet_embed_gives_the_status_url_with_its_attribution() -> None:
    embeds = [
        link
        for link in links_in_html(page(f"<article>{TWEET_EMBED}</article>"))
        if link.kind is LinkKind.TWEET_EMBED
    ]
    link = only(embeds)
    assert link.url == "https://twitter.com/AuroraIntel/status/1478470000000000000"
    assert link.post == "x:1478470000000000000"
    assert link.attribution == "— Aurora Intel (@AuroraIntel) January 4, 2022"


def test_the_other_links_inside_a_tweet_embed_keep_their_own_kinds() -> None:
    links = links_in_html(page(f"<article>{TWEET_EMBED}</article>"))
    assert [(link.url, link.kind) for link in links] == [
        ("https://twitter.com/hashtag/Iraq?src=hash", LinkKind.URL),
        ("https://t.co/8xGo7BYVO3", LinkKind.TCO),
        ("https://twitter.com/AuroraIntel/status/1478470000000000000", LinkKind.TWEET_EMBED),
    ]


def test_video_src_and_source_src_are_video_links() -> None:
    html = page(
        "<article>"
        '<video src="https://cdn.example/a.mp4" poster="https://cdn.example/still.jpg"></video>'
        '<video><source src="https://cdn.example/b.webm" type="video/webm"></video>'
        "</article>"
    )
    links = links_in_html(html)
    assert [(link.url, link.kind) for link in links] == [
        ("https://cdn.example/a.mp4", LinkKind.VIDEO),
        ("https://cdn.example/b.webm", LinkKind.VIDEO),
    ]


def test_video_poster_is_not_footage() -> None:
    html = page('<article><video poster="https://cdn.example/still.jpg"></video></article>')
    assert links_in_html(html) == []


def test_picture_sources_are_not_video() -> None:
    html = page(
        '<article><picture><source srcset="a.webp" src="https://cdn.example/a.webp"></picture></article>'
    )
    assert links_in_html(html) == []


@pytest.mark.parametrize(
    "src",
    [
        "https://www.dailymotion.com/embed/video/x7",
        "https://rumble.com/embed/v1abc/",
        "https://streamable.com/e/abc",
        "https://odysee.com/$/embed/some-video",
        "https://www.bitchute.com/embed/abc/",
        "https://video.example/some/player?id=1",
    ],
)
def test_player_iframes_are_iframe_links(src: str) -> None:
    # YouTube, Vimeo and Facebook players become their post's page: test_platform_embeds.py.
    link = only(links_in_html(page(f'<article><iframe src="{src}"></iframe></article>')))
    assert (link.url, link.kind) == (src, LinkKind.IFRAME)


def test_other_iframes_are_skipped() -> None:
    html = page('<article><iframe src="https://ads.example/banner?slot=3"></iframe></article>')
    assert links_in_html(html) == []


def test_lazy_loaded_iframes_use_data_src() -> None:
    html = page('<article><iframe data-src="https://www.youtube.com/embed/abc"></iframe></article>')
    assert urls(links_in_html(html)) == ["https://www.youtube.com/embed/abc"]


def test_twitter_embed_iframe_becomes_a_tweet_link() -> None:
    src = (
        "https://platform.twitter.com/embed/Tweet.html?dnt=false&id=1478470000000000000&theme=light"
    )
    link = only(links_in_html(page(f'<article><iframe src="{src}"></iframe></article>')))
    assert link.url == "https://twitter.com/i/web/status/1478470000000000000"
    assert (link.kind, link.post, link.raw) == (
        LinkKind.IFRAME,
        "x:1478470000000000000",
        src,
    )


@pytest.mark.parametrize("prop", ["og:video", "og:video:url", "og:video:secure_url"])
def test_og_video_anywhere_in_the_document_is_found(prop: str) -> None:
    html = page(
        "<article>text</article>",
        head=f'<meta property="{prop}" content="https://cdn.example/v.mp4">',
    )
    link = only(links_in_html(html))
    assert (link.url, link.kind) == ("https://cdn.example/v.mp4", LinkKind.OG_VIDEO)


def test_og_video_variants_naming_the_same_file_give_one_link() -> None:
    head = (
        '<meta property="og:video" content="https://cdn.example/v.mp4">'
        '<meta property="og:video:secure_url" content="https://cdn.example/v.mp4">'
    )
    assert len(links_in_html(page("", head=head))) == 1


def test_html_links_are_normalised_and_deduplicated_first_wins() -> None:
    html = page(
        "<article>"
        '<a href="https://x.com/u/status/1?s=20">first</a>'
        '<a href="https://twitter.com/u/status/1/photo/1">again</a>'
        '<a href="https://example.com/a?utm_source=tw">a</a>'
        "</article>"
    )
    links = links_in_html(html)
    assert urls(links) == ["https://twitter.com/u/status/1", "https://example.com/a"]
    assert links[0].raw == "https://x.com/u/status/1?s=20"


def test_found_in_is_recorded_on_every_link() -> None:
    html = page('<article><a href="https://example.com/">x</a></article>')
    assert only(links_in_html(html, found_in=FoundIn.ORIGIN)).found_in == "origin"


def test_html_bytes_are_decoded_by_their_meta_charset() -> None:
    html = page(
        '<article><a href="https://example.com/caf\xe9">x</a></article>',
        head='<meta charset="windows-1252">',
    )
    assert urls(links_in_html(html.encode("cp1252"))) == ["https://example.com/café"]


@pytest.mark.parametrize(
    "href",
    ["https://@/", "https://[::1", "https://example.com:99999/", "https://example.com:x/"],
)
def test_hrefs_no_browser_could_fetch_are_skipped(href: str) -> None:
    html = page(f'<a href="{href}">bad</a><a href="https://example.com/ok">ok</a>')
    assert urls(links_in_html(html)) == ["https://example.com/ok"]


def test_control_characters_in_an_href_are_percent_encoded() -> None:
    html = page('<a href="https://example.com/a\x1bb c.mp4">v</a>')
    assert urls(links_in_html(html)) == ["https://example.com/a%1Bb%20c.mp4"]


@pytest.mark.parametrize("attribute", ['class="post"', 'id="content"', 'role="main"'])
def test_a_nav_named_like_the_content_is_still_navigation(attribute: str) -> None:
    html = page(
        f'<nav {attribute}><a href="https://example.com/menu">Menu</a></nav>'
        '<p><a href="https://example.com/story">story</a></p>'
    )
    assert urls(links_in_html(html)) == ["https://example.com/story"]


def test_a_base_href_with_a_broken_host_is_ignored() -> None:
    html = page('<a href="/story">story</a>', head='<base href="https://[oops/">')
    assert urls(links_in_html(html, base_url="https://example.com/")) == [
        "https://example.com/story"
    ]


# --- html_meta_refresh --------------------------------------------------------------------------

T_CO_PAGE = (
    '<head><meta name="referrer" content="always"><noscript><META http-equiv="refresh" '
    'content="0;URL=https://example.com/story"></noscript><title>https://example.com/story</title>'
    "</head><script>window.opener = null; "
    'location.replace("https:\\/\\/example.com\\/story")</script>'
)


def test_meta_refresh_inside_noscript_is_followed() -> None:
    assert html_meta_refresh(T_CO_PAGE, "https://t.co/AbC") == "https://example.com/story"


@pytest.mark.parametrize(
    "tag",
    [
        '<meta http-equiv="refresh" content="0;URL=https://example.com/story">',
        '<META HTTP-EQUIV="Refresh" CONTENT="0; url=https://example.com/story">',
        "<meta http-equiv=refresh content=0;url=https://example.com/story>",
        '<meta http-equiv="refresh" content="0; URL=\'https://example.com/story\'">',
        '<meta content="5;https://example.com/story" http-equiv="refresh">',
    ],
)
def test_meta_refresh_is_read_in_every_spelling(tag: str) -> None:
    assert (
        html_meta_refresh(f"<html><head>{tag}</head></html>", "https://t.co/x")
        == "https://example.com/story"
    )


def test_meta_refresh_target_is_resolved_against_the_page() -> None:
    html = '<meta http-equiv="refresh" content="0;url=/next">'
    assert html_meta_refresh(html, "https://short.example/abc") == "https://short.example/next"


def test_meta_refresh_without_a_target_is_none() -> None:
    assert (
        html_meta_refresh('<meta http-equiv="refresh" content="30">', "https://a.example/") is None
    )


def test_location_replace_script_is_followed() -> None:
    html = '<script>location.replace("https:\\/\\/example.com\\/a?b=1\\u0026c=2")</script>'
    assert html_meta_refresh(html, "https://t.co/x") == "https://example.com/a?b=1&c=2"


def test_page_without_redirect_gives_none() -> None:
    assert html_meta_refresh(page("<p>hello</p>"), "https://example.com/") is None


def test_meta_refresh_accepts_bytes() -> None:
    assert html_meta_refresh(T_CO_PAGE.encode(), "https://t.co/AbC") == "https://example.com/story"


def test_meta_refresh_to_a_broken_host_gives_none() -> None:
    html = '<meta http-equiv="refresh" content="0;url=http://[oops">'
    assert html_meta_refresh(html, "https://example.com/") is None


# --- decode -------------------------------------------------------------------------------------


def test_decode_prefers_the_byte_order_mark() -> None:
    assert decode("\ufeffcafé".encode("utf-8"), content_type="text/plain; charset=cp1252") == "café"


def test_decode_honours_the_content_type_charset() -> None:
    assert (
        decode("café".encode("iso-8859-15"), content_type="text/plain; charset=ISO-8859-15")
        == "café"
    )


def test_decode_falls_back_to_cp1252() -> None:
    assert decode("“quoted” café".encode("cp1252")) == "“quoted” café"


def test_decode_never_raises_on_undefined_bytes() -> None:
    assert decode(b"\x81\x8d ok") == "\ufffd\ufffd ok"


@pytest.mark.parametrize("charset", ["undefined", "idna", "punycode"])
def test_decode_survives_charsets_that_are_python_codecs_but_not_text_encodings(
    charset: str,
) -> None:
    assert decode(b"xn--caf-dma ok", content_type=f"text/plain; charset={charset}") == (
        "xn--caf-dma ok"
    )
