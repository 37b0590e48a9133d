"""Properties of link discovery and the article readers, for any text, bytes or HTML-ish input.

Inputs tried per run: 1,800 (TOTAL_EXAMPLES = DEFAULT_EXAMPLES 150 per property x TESTS 12
properties); EMBEDARC_FUZZ_EXAMPLES raises the count per property for a longer soak.
"""

from __future__ import annotations

import encodings.aliases
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from embedarc.errors import InputError
from embedarc.model import Article, Link
from embedarc.platforms.x.urls import tweet_ref
from embedarc.reading.articles import read_article, read_html, read_path, read_stdin, read_text
from embedarc.reading.decoding import decode
from embedarc.reading.links import (
    html_meta_refresh,
    links_in_html,
    links_in_text,
    normalise,
    origin_in_text,
    unwrap,
)

DEFAULT_EXAMPLES = 150  # per property in a suite run; EMBEDARC_FUZZ_EXAMPLES=2000 for a soak
EXAMPLES = int(os.environ.get("EMBEDARC_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
TESTS = 12
TOTAL_EXAMPLES = DEFAULT_EXAMPLES * TESTS
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies ---------------------------------------------------------------------------------

_HOSTS = ["example.com", "EXAMPLE.org", "a.b.c.example", "[::1]", "127.0.0.1", "xn--bcher-kva.ch"]
_HOSTS += ["twitter.com", "x.com", "mobile.twitter.com", "pbs.twimg.com", "video.twimg.com"]
_HOSTS += ["pic.twitter.com", "t.co", "ift.tt", "bücher.example", "localhost", "@", "user:pw@h.io"]
_FRAGMENTS = [
    "https://", "http://", "HTTPS://", "//", "ftp://", "mailto:a@b.c", "javascript:void(0)",
    "pic.twitter.com/", "t.co/", "ift.tt/", "www.", "twitter.com/", "x.com/", "/status/",
    "/i/web/status/", "/photo/1", "/video/2", ":443", ":80", ":8080", ":", ":²", "@", "[", "]",
    "(", ")", "{", "}", "?", "&", "=", "#", "%", "%2F", "%00", "%E2%80%A6", "?utm_source=x",
    "&fbclid=1", "?s=20&t=abc", "?format=jpg&name=small", "/media/AbC-d_e.jpg:large",
    "web.archive.org/web/2022/", "safety/unsafe_link_warning?unsafe_link=", ".", ",", ";",
    "!", "'", '"', "”", "’", "»", "…", "—", "–", "--", "&mdash;", "via ", " ", "\t", "\n",
    "\r\n", "\r", "\x00", "\x0b", "\x1f", "\x7f", "\x85", "\xa0", "\u2028", "\u200b", "\ufeff",
    "é", "日本語", "عربي", "🙂", "(@handle)", "— Name (@handle) January 4, 2022",
]  # fmt: skip

_users = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
_ids = st.from_regex(r"[0-9]{1,20}", fullmatch=True)
_codes = st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True)
_status_urls = st.builds(
    "{}{}{}.com/{}/status/{}{}".format,
    st.sampled_from(["https://", "http://", ""]),
    st.sampled_from(["", "www.", "mobile.", "m."]),
    st.sampled_from(["twitter", "x", "Twitter"]),
    st.one_of(_users, st.just("i/web"), st.just("i")),
    _ids,
    st.sampled_from(["", "/", "/photo/1", "/video/1", "?s=20", "#x", "/analytics"]),
)
_short_links = st.builds(
    "{}{}/{}".format,
    st.sampled_from(["https://", "http://", ""]),
    st.sampled_from(["pic.twitter.com", "t.co", "ift.tt"]),
    _codes,
)
_path_chars = st.characters(codec="utf-8", exclude_categories=["Cs"])
_plain_urls = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["https://", "http://", "HTTP://", "//"]),
    st.sampled_from(_HOSTS),
    st.sampled_from(["", ":443", ":80", ":8443", ":", ":x"]),
    st.text(_path_chars, max_size=12).map(lambda path: "/" + path),
)
_url_like = st.one_of(_status_urls, _short_links, _plain_urls)
_pieces = st.one_of(
    st.sampled_from(_FRAGMENTS),
    st.sampled_from(_HOSTS),
    _url_like,
    st.text(max_size=8),
)
texts = st.lists(_pieces, max_size=24).map("".join)

_CODECS = sorted(set(encodings.aliases.aliases.values()))
_CODECS += ["undefined", "idna", "punycode", "utf-7", "x-user-defined", "no-such-charset"]
charsets = st.sampled_from(_CODECS)
content_types = st.one_of(
    st.none(),
    st.sampled_from(["text/plain", "text/html", "application/xhtml+xml", "image/png"]),
    st.builds("text/{}; charset={}".format, st.sampled_from(["plain", "html"]), charsets),
)
_BOMS = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]


@st.composite
def encoded(draw: st.DrawFn, text: st.SearchStrategy[str]) -> bytes:
    """Text encoded in a random codec (whatever it cannot encode is replaced), or raw bytes."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=200))
    value = draw(text)
    try:
        data = value.encode(draw(charsets), errors="replace")
    except (LookupError, UnicodeError, TypeError):
        data = value.encode("utf-8", errors="surrogatepass")
    return draw(st.sampled_from(_BOMS)) + data + draw(st.binary(max_size=4))


_NAV_HOST = "nav-only.example"  # appears in no strategy except the <nav> one
_attr_value = st.one_of(_url_like, st.sampled_from(_FRAGMENTS), st.text(max_size=6))
_tags = st.one_of(
    st.builds('<a href="{}">'.format, _attr_value),
    st.builds("<a href='{}'>".format, _attr_value),
    st.builds("<a href={}>".format, _attr_value),
    st.builds('<iframe src="{}" data-src="{}">'.format, _attr_value, _attr_value),
    st.builds('<video src="{}"><source src="{}">'.format, _attr_value, _attr_value),
    st.builds('<meta property="og:video" content="{}">'.format, _attr_value),
    st.builds('<meta http-equiv="refresh" content="0;url={}">'.format, _attr_value),
    st.builds('<base href="{}">'.format, _attr_value),
    st.builds('<time datetime="{}">'.format, st.text(max_size=30)),
    st.builds('<link rel="canonical" href="{}">'.format, _attr_value),
    st.sampled_from(
        [
            "<html>", "<head>", "</head>", "<body>", "</body>", "<article>", "</article>",
            "<main>", "</main>", "<p>", "</p>", "</a>", "</iframe>", "</video>", "<br>",
            '<div class="sidebar">', '<div class="entry-content">', '<div id="content">',
            "</div>", "<aside>", "</aside>", "<header>", "</header>", "<footer>", "<noscript>",
            "</noscript>", "<script>", "</script>", "<style>", "<template>", "<svg>", "<table>",
            '<blockquote class="twitter-tweet">', "</blockquote>", "<title>", "</title>",
            '<meta charset="', '<meta charset="utf-16">', '<meta property="og:title" content="',
            '<script type="application/ld+json">{"datePublished": "2022-01-04"}</script>',
            "location.replace('", "')", "<", ">", "</", "<a", "<a href=", '"', "'", "<!--",
            "-->", "<![CDATA[", "<!DOCTYPE html>", "&amp;", "&mdash;", "&#0;", "&#x110000;",
        ]
    ),
)  # fmt: skip
# Each <a> is closed: the parser re-opens an unclosed one after </nav>, outside it, as browsers do.
_nav_links = st.lists(
    st.one_of(
        st.builds('<a href="https://{}/{}">x</a>'.format, st.just(_NAV_HOST), _codes),
        st.builds('<iframe src="https://{}/embed/{}">'.format, st.just(_NAV_HOST), _codes),
        st.builds('<video src="https://{}/{}.mp4">'.format, st.just(_NAV_HOST), _codes),
        st.builds(
            '<blockquote class="twitter-tweet"><a href="https://{}/a/status/{}">x</a>'.format,
            st.just(_NAV_HOST),
            _ids,
        ),
        st.sampled_from(["<article>", "<main>", "<p>", '<div class="post">', "text"]),
    ),
    min_size=1,
    max_size=5,
).map("".join)
_NAV_ATTRIBUTES = [
    "", ' class="post"', ' id="content"', ' role="main"', ' class="content menu"',
    ' itemprop="articleBody"', ' class="entry-content"', ' class="article-body"',
]  # fmt: skip
_navs = st.builds("<nav{}>{}</nav>".format, st.sampled_from(_NAV_ATTRIBUTES), _nav_links)
html_pieces = st.lists(st.one_of(_tags, _pieces), max_size=30).map("".join)
html_with_nav = st.lists(st.one_of(_tags, _pieces, _navs), max_size=30).map("".join)
base_urls = st.one_of(st.none(), _plain_urls, st.sampled_from(["https://example.com/a/b", ""]))


# --- what every found link must be --------------------------------------------------------------


def _is_control_or_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cc"


def assert_well_formed(url: str) -> None:
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https"), url
    assert parts.hostname, url
    assert not any(_is_control_or_space(char) for char in url), url
    assert normalise(url) == url, url


def assert_sound(links: Iterable[Link]) -> None:
    urls = [link.url for link in links]
    for url in urls:
        assert_well_formed(url)
    assert len(urls) == len(set(urls)), urls


def assert_article_sound(article: Article) -> None:
    assert_sound(article.links)
    if article.canonical_url is not None:
        assert_well_formed(article.canonical_url)


def _named_outside_nav(html: str) -> bool:
    """Whether an element outside every <nav> has an attribute naming the nav-only host."""
    for node in LexborHTMLParser(html).css("*"):
        if any(_NAV_HOST in (value or "") for value in node.attributes.values()):
            parent: LexborNode | None = node
            while parent is not None and parent.tag != "nav":
                parent = parent.parent
            if parent is None:
                return True
    return False


# --- link discovery -----------------------------------------------------------------------------


@PROPERTY
@given(texts)
def test_links_in_text_are_well_formed_and_unique(text: str) -> None:
    assert_sound(links_in_text(text))


@PROPERTY
@given(texts)
def test_normalise_is_idempotent_and_never_raises(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    origin = origin_in_text(text)
    if origin is not None:
        assert normalise(origin.url) == origin.url


@PROPERTY
@given(texts)
def test_tweet_ref_and_unwrap_never_raise(text: str) -> None:
    ref = tweet_ref(text)
    assert ref is None or ref[1].isdigit()
    target = unwrap(text)
    assert target is None or isinstance(target, str)


@PROPERTY
@given(st.one_of(html_pieces, encoded(html_pieces)), base_urls)
def test_links_in_html_are_well_formed_and_unique(html: str | bytes, base_url: str | None) -> None:
    assert_sound(links_in_html(html, base_url=base_url))


@PROPERTY
@given(html_with_nav, base_urls)
def test_links_in_html_never_come_from_nav(html: str, base_url: str | None) -> None:
    # Random quotes and comments can swallow a <nav> into an attribute or move its links out;
    # judge only pages whose parsed tree names the nav-only host inside <nav> elements alone.
    assume(not _named_outside_nav(html))
    for link in links_in_html(html, base_url=base_url):
        assert urlsplit(link.url).hostname != _NAV_HOST, (link, html)


@PROPERTY
@given(st.one_of(html_pieces, encoded(html_pieces)), st.sampled_from(["https://e.example/", ""]))
def test_html_meta_refresh_never_raises(html: str | bytes, base_url: str) -> None:
    target = html_meta_refresh(html, base_url)
    assert target is None or isinstance(target, str)


# --- decoding and the readers -------------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=300) | encoded(texts), content_types, st.booleans())
def test_decode_never_raises(raw: bytes, content_type: str | None, html: bool) -> None:
    assert isinstance(decode(raw, content_type=content_type, html=html), str)


@PROPERTY
@given(encoded(texts), content_types)
def test_read_text_finds_sound_links(raw: bytes, content_type: str | None) -> None:
    article = read_text(raw, source="-", content_type=content_type)
    assert_article_sound(article)
    assert "\n" not in article.title


@PROPERTY
@given(encoded(html_pieces), content_types, base_urls)
def test_read_html_finds_sound_links(raw: bytes, content_type: str | None, url: str | None) -> None:
    assert_article_sound(read_html(raw, source="-", url=url, content_type=content_type))


@PROPERTY
@given(encoded(st.one_of(texts, html_pieces)), content_types, base_urls)
def test_read_article_finds_sound_links(
    raw: bytes, content_type: str | None, url: str | None
) -> None:
    assert_article_sound(read_article(raw, source="-", content_type=content_type, url=url))


@PROPERTY
@given(encoded(st.one_of(texts, html_pieces)))
def test_read_stdin_reads_or_raises_input_error(raw: bytes) -> None:
    try:
        article = read_stdin(raw)
    except InputError:
        return
    assert_article_sound(article)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("articles")


@PROPERTY
@given(encoded(st.one_of(texts, html_pieces)), st.sampled_from(["a.txt", "a.html", "a.HTM", "a"]))
def test_read_path_reads_or_raises_input_error(files: Path, raw: bytes, name: str) -> None:
    path = files / name
    path.write_bytes(raw)
    try:
        article = read_path(path)
    except InputError:
        return
    assert_article_sound(article)


def test_docstring_counts_every_example_tried() -> None:
    properties = [f for name, f in globals().items() if name.startswith("test_")]
    assert sum(1 for f in properties if hasattr(f, "hypothesis")) == TESTS
    assert f"{TOTAL_EXAMPLES:,}" in (__doc__ or "")
