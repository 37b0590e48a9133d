from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from embedarc.errors import InputError
from embedarc.model import LinkKind
from embedarc.reading.articles import read_article, read_html, read_path, read_stdin, read_text

EXAMPLE = Path(__file__).parent.parent / "examples" / "zerohedge-syria-strike.txt"
EXAMPLE_TITLE = "US Launches Preemptive Strike On “Rocket Sites” Near Occupied Syrian Oil Fields"


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


# --- the example article ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> bytes:
    return EXAMPLE.read_bytes()


def test_example_title_is_its_first_line(example: bytes) -> None:
    assert read_text(example, source="x").title == EXAMPLE_TITLE


def test_example_links_are_its_pic_link_and_its_origin(example: bytes) -> None:
    links = read_text(example, source="x").links
    assert [(link.url, link.kind) for link in links] == [
        ("https://pic.twitter.com/8xGo7BYVO3", LinkKind.PIC_TWITTER),
        ("https://ift.tt/3FYxYO2", LinkKind.ORIGIN),
    ]
    assert links[0].attribution == "— Aurora Intel (@AuroraIntel) January 4, 2022"


def test_example_origin_comes_from_its_via_footer(example: bytes) -> None:
    article = read_text(example, source="x")
    assert (article.origin_name, article.origin_url) == ("ZeroHedge News", "https://ift.tt/3FYxYO2")


def test_example_published_comes_from_its_dateline(example: bytes) -> None:
    assert read_text(example, source="x").published == "2022-01-04T20:25:00"


def test_example_read_from_its_path_is_plain_text() -> None:
    article = read_path(EXAMPLE)
    assert (article.media_type, article.source, article.title) == (
        "text/plain",
        str(EXAMPLE),
        EXAMPLE_TITLE,
    )
    assert article.canonical_url is None


# --- plain text ---------------------------------------------------------------------------------


def test_text_title_is_the_first_non_empty_line_stripped() -> None:
    article = read_text(b"\n\n   A   headline  \nBody line.\n", source="s")
    assert article.title == "A headline"


def test_text_body_is_everything_after_the_title() -> None:
    article = read_text(b"Headline\nFirst paragraph.\n\nSecond paragraph.\n", source="s")
    assert article.text == "First paragraph.\n\nSecond paragraph."


def test_text_keeps_the_original_bytes_and_source() -> None:
    raw = b"Headline\r\nBody \x93quoted\x94\r\n"
    article = read_text(raw, source="/tmp/a.txt")
    assert (article.raw, article.source, article.media_type) == (raw, "/tmp/a.txt", "text/plain")


def test_text_titles_are_cut_to_300_characters() -> None:
    assert len(read_text(b"word " * 200, source="s").title) <= 300


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("Tue, 01/04/2022 – 20:25", "2022-01-04T20:25:00"),
        ("Tue, 01/04/2022 - 20:25", "2022-01-04T20:25:00"),
        ("12/31/2021 - 09:05", "2021-12-31T09:05:00"),
        ("2022-01-04", "2022-01-04"),
        ("2022-01-04T20:25:00Z", "2022-01-04T20:25:00+00:00"),
        ("2022-01-04T20:25:00+02:00", "2022-01-04T20:25:00+02:00"),
    ],
)
def test_text_published_is_read_from_a_dateline(line: str, published: str) -> None:
    raw = f"Headline\nBody.\n{line}\nMore.".encode()
    assert read_text(raw, source="s").published == published


def test_text_dateline_with_an_impossible_date_is_ignored() -> None:
    assert read_text(b"Headline\n13/45/2022 - 20:25\n", source="s").published is None


def test_text_without_via_footer_has_no_origin() -> None:
    article = read_text(b"Headline\nhttps://example.com/a\n", source="s")
    assert (article.origin_name, article.origin_url) == (None, None)


def test_text_in_cp1252_is_decoded() -> None:
    raw = "Headline “quoted”\nCafé – open".encode("cp1252")
    article = read_text(raw, source="s")
    assert (article.title, article.text) == ("Headline “quoted”", "Café – open")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_text_with_a_byte_order_mark_is_decoded_by_it(encoding: str) -> None:
    article = read_text("Über “news”\nbody".encode(encoding), source="s")
    assert article.title == "Über “news”"


def test_text_with_a_charset_python_cannot_decode_with_is_still_read() -> None:
    article = read_text(b"Headline\nbody", source="s", content_type="text/plain; charset=undefined")
    assert article.title == "Headline"


def test_text_content_type_charset_is_honoured() -> None:
    raw = "Price 5 €\nbody".encode("iso-8859-15")  # cp1252 would read the € byte as ¤
    article = read_text(raw, source="s", content_type="text/plain; charset=iso-8859-15")
    assert article.title == "Price 5 €"


# --- HTML ---------------------------------------------------------------------------------------


def test_html_title_prefers_og_title() -> None:
    head = (
        '<meta property="og:title" content="OG  title"><meta name="twitter:title" content="TW">'
        "<title>Page title | Site</title>"
    )
    assert read_html(page("<h1>H1</h1>", head), source="s").title == "OG title"


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        ('<meta name="twitter:title" content="TW"><title>T</title>', "<h1>H</h1>", "TW"),
        ("<title>\n  Page\n  title </title>", "<h1>H</h1>", "Page title"),
        ("", "<article><h1>The  headline</h1></article>", "The headline"),
        ("", "<p>no title at all</p>", ""),
    ],
)
def test_html_title_falls_back_in_order(head: str, body: str, title: str) -> None:
    assert read_html(page(body, head), source="s").title == title


def test_html_titles_are_cut_to_300_characters() -> None:
    assert len(read_html(page("", f"<title>{'word ' * 200}</title>"), source="s").title) <= 300


def test_html_canonical_prefers_link_rel_canonical() -> None:
    head = (
        '<link rel="canonical" href="https://news.example/a?utm_source=x">'
        '<meta property="og:url" content="https://news.example/og">'
    )
    article = read_html(page("", head), source="s", url="https://news.example/a?x=1")
    assert article.canonical_url == "https://news.example/a"


def test_html_canonical_falls_back_to_og_url_then_the_url_given() -> None:
    og = page("", '<meta property="og:url" content="https://news.example/og">')
    assert read_html(og, source="s", url="https://u.example/").canonical_url == (
        "https://news.example/og"
    )
    assert read_html(page(""), source="s", url="https://u.example/").canonical_url == (
        "https://u.example/"
    )
    assert read_html(page(""), source="s").canonical_url is None


@pytest.mark.parametrize("href", ["https://@/", "https://[oops/", "https://example.com:x/"])
def test_html_canonical_without_a_usable_host_falls_back_to_the_url(href: str) -> None:
    raw = page("", f'<link rel="canonical" href="{href}">')
    article = read_html(raw, source="s", url="https://news.example/story")
    assert article.canonical_url == "https://news.example/story"


def test_html_relative_canonical_is_resolved_against_the_url() -> None:
    raw = page("", '<link rel="canonical" href="/story">')
    article = read_html(raw, source="s", url="https://news.example/story?page=2")
    assert article.canonical_url == "https://news.example/story"


@pytest.mark.parametrize(
    ("head", "body"),
    [
        ('<meta property="article:published_time" content="2022-01-04T20:25:00Z">', ""),
        ("", '<article><time datetime="2022-01-04T20:25:00Z">Jan 4</time></article>'),
        ("", '<span itemprop="datePublished" content="2022-01-04T20:25:00Z"></span>'),
        (
            '<script type="application/ld+json">'
            + json.dumps(
                {"@graph": [{"@type": "NewsArticle", "datePublished": "2022-01-04T20:25:00Z"}]}
            )
            + "</script>",
            "",
        ),
    ],
)
def test_html_published_is_read_from_any_usual_place(head: str, body: str) -> None:
    assert read_html(page(body, head), source="s").published == "2022-01-04T20:25:00+00:00"


def test_html_published_prefers_article_published_time() -> None:
    head = '<meta property="article:published_time" content="2022-01-04T20:25:00">'
    body = '<article><time datetime="2021-01-01">old</time></article>'
    assert read_html(page(body, head), source="s").published == "2022-01-04T20:25:00"


def test_html_time_outside_the_article_is_not_its_date() -> None:
    body = '<aside><time datetime="2021-01-01">x</time></aside><article>text</article>'
    assert read_html(page(body), source="s").published is None


def test_html_broken_json_ld_is_ignored() -> None:
    head = '<script type="application/ld+json">{not json</script>'
    assert read_html(page("", head), source="s").published is None


def test_html_text_is_the_article_body_one_line_per_paragraph() -> None:
    body = (
        "<nav>Home News</nav><article><p>First   <b>bold</b> line.</p>"
        '<p>Second<br>third</p><div class="share-buttons">Share</div>'
        "<script>var x = 1;</script></article><footer>Copyright</footer>"
    )
    assert read_html(page(body), source="s").text == "First bold line.\nSecond\nthird"


def test_html_links_come_from_the_article_body() -> None:
    body = (
        '<nav><a href="https://example.com/nav">n</a></nav>'
        '<article><a href="https://x.com/u/status/1">t</a></article>'
    )
    article = read_html(page(body), source="s")
    assert [link.url for link in article.links] == ["https://twitter.com/u/status/1"]


def test_html_relative_links_are_resolved_against_the_url() -> None:
    body = '<article><video src="/media/v.mp4"></video></article>'
    article = read_html(page(body), source="s", url="https://news.example/story")
    assert [link.url for link in article.links] == ["https://news.example/media/v.mp4"]


def test_html_keeps_the_original_bytes() -> None:
    raw = page("<article>x</article>")
    article = read_html(raw, source="s")
    assert (article.raw, article.media_type) == (raw, "text/html")


def test_html_meta_charset_is_honoured() -> None:
    raw = page("", '<meta charset="windows-1252"><title>Caf\xe9 “x”</title>').replace(
        "Café “x”".encode(), "Café “x”".encode("cp1252")
    )
    assert read_html(raw, source="s").title == "Café “x”"


def test_html_byte_order_mark_wins_over_a_wrong_meta_charset() -> None:
    raw = b"\xef\xbb\xbf" + page("", '<meta charset="iso-8859-1"><title>Café</title>')
    assert read_html(raw, source="s").title == "Café"


def test_html_undeclared_non_utf8_falls_back_to_cp1252() -> None:
    raw = page("", "<title>Café</title>").replace("Café".encode(), "Café".encode("cp1252"))
    assert read_html(raw, source="s").title == "Café"


# --- read_article -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "media_type"),
    [
        ("text/html; charset=utf-8", "text/html"),
        ("application/xhtml+xml", "text/html"),
        ("text/plain", "text/plain"),
    ],
)
def test_read_article_follows_the_content_type(content_type: str, media_type: str) -> None:
    raw = b"<html><body><p>hello</p></body></html>"
    assert read_article(raw, source="s", content_type=content_type).media_type == media_type


@pytest.mark.parametrize(
    "start",
    [b"<!DOCTYPE html>", b"  \n<html lang=en>", b"<head><title>x</title>", b"<body>"],
)
def test_read_article_sniffs_html_without_a_content_type(start: bytes) -> None:
    assert read_article(start + b"<p>x</p>", source="s").media_type == "text/html"


def test_read_article_sniffs_text_without_a_content_type() -> None:
    assert read_article(b"Headline\nBody", source="s").media_type == "text/plain"


def test_read_article_sniffs_when_the_content_type_says_nothing_useful() -> None:
    raw = b"<!doctype html><title>x</title>"
    assert read_article(raw, source="s", content_type="application/octet-stream").media_type == (
        "text/html"
    )


def test_read_article_passes_the_url_to_html() -> None:
    article = read_article(page(""), source="s", url="https://news.example/a")
    assert article.canonical_url == "https://news.example/a"


# --- read_path ----------------------------------------------------------------------------------


def test_read_path_reads_an_html_file_by_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "story.html"
    path.write_bytes(b"<p>no doctype</p><title>T</title>")
    assert read_path(path).media_type == "text/html"


def test_read_path_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_path(tmp_path / "missing.txt")


def test_read_path_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        read_path(tmp_path)


@pytest.mark.parametrize("content", [b"", b" \n\t\n"])
def test_read_path_empty_file_says_so(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match="empty"):
        read_path(path)


def test_read_path_nul_bytes_mean_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match="binary"):
        read_path(path)


def test_read_path_control_characters_mean_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(bytes(range(1, 9)) * 50)
    with pytest.raises(InputError, match="binary"):
        read_path(path)


def test_read_path_utf16_text_is_not_taken_for_binary(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("Headline\nBody".encode("utf-16"))
    assert read_path(path).title == "Headline"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_read_path_unreadable_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("Headline")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            read_path(path)
    finally:
        path.chmod(0o600)


# --- read_stdin ---------------------------------------------------------------------------------


def test_read_stdin_reads_an_article_with_source_dash() -> None:
    article = read_stdin(b"Headline\npic.twitter.com/Abc")
    assert (article.source, article.title) == ("-", "Headline")


@pytest.mark.parametrize(("raw", "reason"), [(b"", "empty"), (b"\x00\x01\x02", "binary")])
def test_read_stdin_refuses_what_is_not_an_article(raw: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        read_stdin(raw)
