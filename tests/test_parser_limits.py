"""Bounds on what one page costs to read: parsed once, nested at most MAX_DEPTH deep, read in
time linear in its size, and at most --max-links links per article, the rest counted as skipped.

Big pages are built in memory; nothing here measures time, only what the parser was asked to do.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser, LexborNode

from embedarc.cli import cli
from embedarc.config import load_settings
from embedarc.errors import ConfigError
from embedarc.job.pipeline import Input
from embedarc.reading import content
from embedarc.reading.articles import read_html, read_text
from embedarc.reading.markup import MAX_DEPTH, flatten_deep, parse_html
from tests.helpers import run, sidecar_of
from tests.simweb import SimWeb

NESTED = 200_000


def nested_page(depth: int, *, attrs: str = "") -> str:
    """A page whose body is `depth` nested <div>s, a link at the bottom and one after them all."""
    return (
        "<html><head><title>Deep</title></head><body>"
        + f"<div{attrs}>" * depth
        + '<p>inside <a href="https://t.co/inside01">x</a></p>'
        + "</div>" * depth
        + '<p>after <a href="https://t.co/after001">y</a></p></body></html>'
    )


def depth_of(tree: LexborHTMLParser) -> int:
    """How deep the tree's elements nest (an explicit stack: the tree may be deep)."""
    deepest = 0
    stack: list[tuple[LexborNode, int]] = [(tree.root, 1)] if tree.root is not None else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter())
    return deepest


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every page handed to lexbor's parser from here on (an instrument, not a fake)."""
    seen: list[str] = []

    class Counting(LexborHTMLParser):
        def __init__(self, html: str, *args: Any, **kwargs: Any) -> None:
            seen.append(html)
            super().__init__(html, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("embedarc") and hasattr(module, "LexborHTMLParser"):
            monkeypatch.setattr(module, "LexborHTMLParser", Counting)
    return seen


def many_links(count: int) -> str:
    rows = "".join(
        f'<p><a href="https://media.example.org/v/{n}">v{n}</a></p>' for n in range(count)
    )
    return f"<html><body><article>{rows}</article></body></html>"


# -- depth -----------------------------------------------------------------------------------


def test_200000_nested_divs_are_read_with_the_links_inside_and_after() -> None:
    page = nested_page(NESTED)
    assert len(page) > 2_200_000

    article = read_html(page.encode(), source="deep.html")

    # Past MAX_DEPTH the divs lose their tags, not their text or links.
    assert [link.url for link in article.links] == [
        "https://t.co/inside01",
        "https://t.co/after001",
    ]
    assert "inside x" in article.text and "after y" in article.text
    assert article.title == "Deep"


def test_a_parsed_tree_nests_no_deeper_than_max_depth() -> None:
    tree = parse_html(nested_page(20_000))

    assert depth_of(tree) <= MAX_DEPTH + 8  # <html>, <body>, <p>, <a>, text: a few above the cap
    assert [a.attributes["href"] for a in tree.css("a")] == [
        "https://t.co/inside01",
        "https://t.co/after001",
    ]


def test_embeds_past_max_depth_keep_their_addresses_and_kinds() -> None:
    deep = MAX_DEPTH + 100
    page = (
        "<html><body><article>"
        + "<section>" * deep
        + '<video src="https://media.example.org/a.mp4"></video>'
        + '<video><source src="https://media.example.org/b.mp4"></video>'
        + '<iframe src="https://www.youtube.com/embed/abc123"></iframe>'
        + '<a href="https://example.org/story">story</a>'
        + "</section>" * deep
        + "</article></body></html>"
    )

    article = read_html(page.encode(), source="deep.html")

    assert [(link.url, str(link.kind)) for link in article.links] == [
        ("https://media.example.org/a.mp4", "video"),
        ("https://media.example.org/b.mp4", "video"),
        ("https://www.youtube.com/embed/abc123", "iframe"),
        ("https://example.org/story", "url"),
    ]


def test_an_ordinary_page_is_parsed_as_it_came() -> None:
    icon = '<svg viewBox="0 0 8 8"><g><path d="M0 0h8"/><circle r="1"/></g></svg>'
    rows = "".join(
        f"<li><p>item {n} <a href='/x/{n}'>{icon}</a><ul><li>sub<li>sub</ul>"
        f"<table><tr><td>{n}<td>cell</table><br><img src=i.png><input value='a>b'>"
        for n in range(600)
    )
    page = f"<html><head><script>if (a<b) {{}}</script></head><body><ul>{rows}</ul></body></html>"
    assert page.count("<") > 20 * MAX_DEPTH

    flat, dropped = flatten_deep(page)

    assert flat is page and dropped == 0


def test_many_nested_content_blocks_are_judged_in_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every one of these divs is a candidate for the article body; each was once checked
    # against all of its ancestors, work in the square of the depth (minutes at 5,000).
    depth = 2_000
    calls = 0
    judge = content.is_boilerplate

    def counted(node: LexborNode, *, page_level: bool) -> bool:
        nonlocal calls
        calls += 1
        return judge(node, page_level=page_level)

    monkeypatch.setattr(content, "is_boilerplate", counted)

    article = read_html(nested_page(depth, attrs=' class="content"').encode(), source="c.html")

    assert [link.url for link in article.links][:1] == ["https://t.co/inside01"]
    assert calls <= 4 * depth


def test_json_ld_nested_past_pythons_recursion_limit_is_ignored() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    page = (
        f'<html><head><script type="application/ld+json">{deep}</script>'
        '<script type="application/ld+json">{"datePublished": "2024-05-01T10:00:00Z"}</script>'
        "</head><body><p>text</p></body></html>"
    )

    article = read_html(page.encode(), source="ld.html")

    assert article.published == "2024-05-01T10:00:00+00:00"


def test_a_redirect_page_nested_deep_still_names_its_target() -> None:
    from embedarc.reading.links import html_meta_refresh

    page = nested_page(NESTED).replace(
        "<head>", '<head><meta http-equiv="refresh" content="0;url=/next">'
    )

    assert html_meta_refresh(page, "https://t.co/abc") == "https://t.co/next"


# -- one parse -------------------------------------------------------------------------------


def test_an_html_article_is_parsed_once(parses: list[str]) -> None:
    read_html(many_links(10).encode(), source="page.html", url="https://news.example.org/a")

    assert len(parses) == 1


def test_the_origin_page_is_parsed_once(simweb: SimWeb, settings: Any, parses: list[str]) -> None:
    simweb.page(
        "https://news.example.org/original",
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<link rel="canonical" href="https://news.example.org/original"></head>'
        '<body><article><p>ORIGIN <a href="/clip">clip</a></p></article></body></html>',
    )
    simweb.ift_tt("orig0001", "https://news.example.org/original")

    [report] = run(
        settings,
        Input(
            "post.txt",
            article=read_text(b"Post\nvia News https://ift.tt/orig0001\n", source="post.txt"),
        ),
    )

    assert [page for page in parses if "ORIGIN" in page] == [parses[-1]]
    urls = [entry["url"] for entry in sidecar_of(settings.archive_dir, report)["links"]]
    assert "https://news.example.org/clip" in urls


# -- links per article -----------------------------------------------------------------------


def test_100000_links_keep_max_links_and_count_the_rest() -> None:
    article = read_html(many_links(100_000).encode(), source="many.html", max_links=1000)

    assert len(article.links) == 1000
    assert article.links[0].url == "https://media.example.org/v/0"
    assert article.links[-1].url == "https://media.example.org/v/999"
    assert article.links_skipped == 99_000


def test_text_links_past_the_cap_are_counted_once_each_place_and_repeats_of_kept_ones_not() -> None:
    lines = [f"https://example.org/{n}" for n in range(5)] + ["https://example.org/0"] * 3
    article = read_text(("Title\n" + "\n".join(lines)).encode(), source="t.txt", max_links=2)

    assert [link.url for link in article.links] == [
        "https://example.org/0",
        "https://example.org/1",
    ]
    assert article.links_skipped == 3


def test_without_a_cap_every_link_is_kept() -> None:
    article = read_html(many_links(1500).encode(), source="many.html")

    assert len(article.links) == 1500 and article.links_skipped == 0


def test_max_links_comes_from_flag_env_or_file_and_must_be_positive(tmp_path: Path) -> None:
    (tmp_path / "embedarc.toml").write_text("max_links = 50\n")

    assert load_settings({"archive_dir": tmp_path}, env={}).max_links == 50
    assert load_settings({"archive_dir": tmp_path}, env={"EMBEDARC_MAX_LINKS": "7"}).max_links == 7
    assert load_settings({}, env={}).max_links == 1000
    with pytest.raises(ConfigError):
        load_settings({}, env={"EMBEDARC_MAX_LINKS": "0"})


def pages(web: SimWeb, count: int) -> Iterator[str]:
    for n in range(count):
        url = f"https://news.example.org/page{n}"
        web.page(url, f"<html><title>Page {n}</title><p>words</p></html>")
        yield url


def test_archive_with_max_links_follows_only_that_many_and_records_the_rest(
    simweb: SimWeb, tmp_path: Path
) -> None:
    urls = list(pages(simweb, 5))
    post = tmp_path / "post.txt"
    post.write_text("Five pages\n" + "\n".join(urls) + "\n")
    archive_dir = tmp_path / "archive"
    common = ["--archive-dir", str(archive_dir), "--max-links", "2", str(post)]

    result = CliRunner().invoke(cli, ["archive", *common], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert "2 links (2 no_media), 3 links skipped (over --max-links)" in result.output
    asked = {r.path for r in simweb.requests_to("news.example.org")}
    assert asked == {"/page0", "/page1"}
    [sidecar] = [json.loads(p.read_text()) for p in archive_dir.rglob("article.json")]
    assert [entry["url"] for entry in sidecar["links"]] == urls[:2]
    assert sidecar["article"]["links_skipped"] == 3

    again = CliRunner().invoke(cli, ["archive", "--json", *common], catch_exceptions=False)

    assert json.loads(again.output)["links_skipped"] == 3


def test_the_cap_counts_the_origin_pages_embeds_with_the_articles_own_links(
    simweb: SimWeb, settings: Any
) -> None:
    own = list(pages(simweb, 2))
    simweb.page(
        "https://news.example.org/original",
        "<html><body><article>"
        + "".join(f'<a href="/embed{n}">e</a>' for n in range(3))
        + f'<a href="{own[0]}">again</a></article></body></html>',
    )
    simweb.ift_tt("orig0002", "https://news.example.org/original")
    text = "Post\n" + "\n".join(own) + "\nvia News https://ift.tt/orig0002\n"
    limited = settings.with_updates(max_links=3)

    [report] = run(limited, Input("post.txt", article=read_text(text.encode(), source="post.txt")))

    links = sidecar_of(settings.archive_dir, report)["links"]
    assert [entry["url"] for entry in links if entry["kind"] != "origin"] == [
        *own,
        "https://news.example.org/embed0",
    ]
    assert report.links_skipped == 2
