"""Attacks on what shows the archive: the HTML view, `show`, and the records and sidecars
they are made from, when a sidecar was edited by hand, an old archive holds odd values, or a
service answers text no file can hold."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from embedarc import records
from embedarc.model import LinkResult
from tests.helpers import archive_text, article_folder, embedarc, local_targets, parse
from tests.simweb import SimWeb
from tests.simweb.bluesky import APPVIEW, BskyImage, install
from tests.simweb.messages import Response

Edit = Callable[[dict[str, Any]], None]


def edit_sidecar(folder: Path, change: Edit) -> None:
    path = folder / "article.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def plain_article(archive_dir: Path, tmp_path: Path) -> Path:
    """An article without links (nothing is fetched): its folder."""
    archive_text(archive_dir, tmp_path, "a.txt", "Plain story\nno links in it\n")
    return article_folder(archive_dir, "Plain story")


def _links(*entries: dict[str, Any]) -> Edit:
    return lambda data: data.__setitem__("links", list(entries))


def _wrong_types(data: dict[str, Any]) -> None:
    data["article"].update({"canonical_url": ["https://a.example/"], "source": 5})
    data["links"] = [
        {
            "url": 5,
            "outcome": "gone",
            "reason": ["why"],
            "post": {"k": 1},
            "resolution": {"final_url": 9, "hops": [{"url": ["u"], "location": 3}]},
        }
    ]
    data["posts"] = [{"key": "x:1", "url": 4, "author": ["a"], "created_at": 2, "text": 1}]
    data["media"] = [{"sha256": "ab" * 32, "path": 1, "article_path": ["p"], "source_url": 2}]


# Values a sidecar edited by hand (or written by another tool) may hold where the view and
# `show` expect others: each must give a page and a listing, never a traceback.
MALFORMED: dict[str, Edit] = {
    "an outcome this release does not know": _links(
        {"url": "https://a.example/x", "outcome": "<b>vanished</b>"}
    ),
    "no outcome at all": _links({"url": "https://a.example/x"}),
    "an outcome that is a list": _links({"url": "https://a.example/x", "outcome": ["gone"]}),
    "a file whose sha256 is a list": lambda data: data.__setitem__(
        "media", [{"sha256": ["ab"], "path": "media/ab/x.jpg", "mime": "image/jpeg"}]
    ),
    "a post whose key is a list": lambda data: data.__setitem__(
        "posts", [{"key": ["x:1"], "site": "x", "text": "t"}]
    ),
    "a link's media refs with a list for a sha256": _links(
        {"url": "https://a.example/x", "outcome": "archived", "media": [{"sha256": ["ab"]}]}
    ),
    "evidence that is a number": _links(
        {"url": "https://a.example/x", "outcome": "gone", "evidence": 7}
    ),
    "hops that are a number": _links(
        {"url": "https://a.example/x", "outcome": "gone", "resolution": {"hops": 3}}
    ),
    "numbers and lists where text is expected": lambda data: _wrong_types(data),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_sidecar_still_gets_its_page(
    archive_dir: Path, plain_article: Path, change: Edit
) -> None:
    edit_sidecar(plain_article, change)

    done = embedarc(archive_dir, "report")

    assert done.exit_code == 0, done.output
    page = parse(plain_article / "index.html")
    assert page.css_first("h1") is not None
    assert page.css("script") == []


def test_an_unknown_outcome_is_shown_as_text(archive_dir: Path, plain_article: Path) -> None:
    edit_sidecar(plain_article, MALFORMED["an outcome this release does not know"])

    assert embedarc(archive_dir, "report").exit_code == 0

    page = parse(plain_article / "index.html")
    badges = [b.text() for b in page.css(".badge")]
    assert "1 <b>vanished</b>" in badges and page.css("b b") == []


def test_a_sidecar_naming_another_folder_cannot_send_the_page_out_of_the_archive(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    sky = install(simweb)
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lfolderlie2a", "a picture", images=[BskyImage(120, 90, 7)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Folder lie\n{post.url}\n")
    folder = article_folder(archive_dir, "Folder lie")

    def deeper(data: dict[str, Any]) -> None:
        # Five levels deep: every `../` made from it climbs out of the archive.
        data["article"]["folder"] = "articles/a/b/c/d"
        for entry in data["media"]:
            entry.pop("article_path", None)  # the page links the store's file itself

    edit_sidecar(folder, deeper)

    assert embedarc(archive_dir, "report").exit_code == 0

    page = folder / "index.html"
    targets = local_targets(page)
    assert any("media" in str(t) for t in targets)
    inside = archive_dir.resolve()
    for target in targets:
        assert target.resolve().is_relative_to(inside), target
        assert target.exists(), target
    [image] = parse(page).css("figure img")
    assert (folder / unquote(image.attributes["src"] or "")).is_file()


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_show_prints_a_malformed_sidecar_without_a_traceback(
    archive_dir: Path, plain_article: Path, change: Edit
) -> None:
    edit_sidecar(plain_article, change)
    short = plain_article.name[-8:]

    shown = embedarc(archive_dir, "show", short)
    as_json = embedarc(archive_dir, "show", "--json", short)

    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("Plain story")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["title"] == "Plain story"


def test_a_post_text_with_half_a_surrogate_pair_is_archived(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    # JSON may spell half of a UTF-16 pair ("\ud800"); no UTF-8 file or SQLite row can hold it.
    sky = install(simweb)
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lsurrogate2a", "MARK", images=[BskyImage(100, 80, 5)])
    _status, answer = sky.threads[post.uri]
    body = json.dumps(answer).replace("MARK", "half \\ud800 a pair").encode()
    simweb.route(
        f"https://{APPVIEW}/xrpc/app.bsky.feed.getPostThread",
        lambda _request: Response(200, {"Content-Type": "application/json"}, body),
    )

    archive_text(archive_dir, tmp_path, "a.txt", f"Odd text\n{post.url}\n")

    folder = article_folder(archive_dir, "Odd text")
    data = json.loads((folder / "article.json").read_text())
    [link] = data["links"]
    assert link["outcome"] == "archived", link["reason"]
    [kept] = data["posts"]
    assert kept["text"] == "half \ufffd a pair"
    assert embedarc(archive_dir, "search", "pair").output.count("Odd text") == 1
    assert "half \ufffd a pair" in (folder / "index.html").read_text()


def test_a_malformed_schema_1_sidecar_is_read_without_inventing_posts(
    archive_dir: Path, plain_article: Path
) -> None:
    def old_and_odd(data: dict[str, Any]) -> None:
        data["schema"] = 1
        data["posts"] = [{"key": ["x:1"]}]  # not a key: kept as it is, never a TypeError
        data["tweets"] = [
            {"id": {"a": 1}, "text": "a dict for an id"},
            {"id": [2], "text": "a list for an id"},
            {"id": 1478, "screen_name": "al", "text": "a number for an id", "quoted_id": ["9"]},
            {"id": "1479", "text": "retweets itself", "retweeted_id": "1479"},
        ]
        data["links"] = [
            {"id": "l1", "url": "https://twitter.com/al/status/1478", "kind": "tweet",
             "outcome": "gone", "tweet_id": {"b": 2}},
            {"id": "l2", "url": "https://twitter.com/i/status/1479", "kind": "tweet",
             "outcome": "gone", "tweet_id": 1479},
        ]  # fmt: skip

    edit_sidecar(plain_article, old_and_odd)

    shown = embedarc(archive_dir, "show", "--json", plain_article.name)
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert [(p["key"], p.get("quoted"), p.get("reposted")) for p in detail["posts"]] == [
        (["x:1"], None, None),
        ("x:1478", None, None),
        ("x:1479", None, "x:1479"),
    ]
    assert [link["post"] for link in detail["links"]] == [None, "x:1479"]
    assert embedarc(archive_dir, "report").exit_code == 0
    assert "retweets itself" in (plain_article / "index.html").read_text()
    rebuilt = embedarc(archive_dir, "rebuild-index")
    assert rebuilt.exit_code == 0, rebuilt.output
    with sqlite3.connect(archive_dir / "index.db") as db:
        keys = sorted(str(key) for (key,) in db.execute("select key from posts"))
    assert "x:1478" in keys and "x:1479" in keys
    assert not [key for key in keys if key.startswith(("x:{", "x:["))], keys  # no id made up


@pytest.mark.parametrize(
    ("author", "shown"),
    [("@al", "@al"), ("@al@social.example", "@al@social.example"), ("una.example", "@una.example")],
)
def test_a_cards_handle_has_one_at_sign(
    archive_dir: Path, plain_article: Path, author: str, shown: str
) -> None:
    def with_post(data: dict[str, Any]) -> None:
        data["links"] = [{"id": "l1", "url": "https://a.example/p", "kind": "post",
                          "outcome": "no_media", "post": "s:1"}]  # fmt: skip
        data["posts"] = [{"key": "s:1", "site": "s", "author": author, "author_name": "Al"}]

    edit_sidecar(plain_article, with_post)

    assert embedarc(archive_dir, "report").exit_code == 0

    who = parse(plain_article / "index.html").css_first(".card .who .muted")
    assert who is not None and who.text() == shown


@pytest.mark.parametrize(
    "markup",
    [
        '<iframe src="https://[cdn]/player/1"></iframe>',  # a template placeholder left in
        '<iframe src="https://[t.me/channel/1?embed=1"></iframe>',
        '<iframe src="https://telegram.me:abc/channel/1?embed=1"></iframe>',
        '<a href="https://telegram.me:abc/channel/1">a post</a>',
    ],
)
def test_an_embed_with_a_malformed_host_does_not_stop_the_article(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, markup: str
) -> None:
    page = (
        "<html><head><title>Framed story</title></head><body><article>"
        f"<p>Words of the story, enough of them to be its body.</p>{markup}"
        "</article></body></html>"
    )
    source = tmp_path / "framed.html"
    source.write_text(page)

    done = embedarc(archive_dir, "archive", str(source))

    assert done.exit_code in (0, 1), done.output
    assert article_folder(archive_dir, "Framed story").is_dir()


def _result_json() -> dict[str, Any]:
    from tests.helpers import rich_result

    data: dict[str, Any] = records.to_json(rich_result())
    return data


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for name in parents:
            data = data[name][0] if isinstance(data[name], list) else data[name]
        data[last] = value

    return change


UNEXPECTED = {
    "a number for a URL": ("link.url", 5),
    "text for a size": ("media.size", "10"),
    "a list for a post's text": ("post.text", ["rt"]),
    "an outcome no release has": ("outcome", "sideways"),
    "a list for the media": ("media", {"sha256": "ab"}),
    "an object for the hops": ("resolution.hops", {"0": {}}),
    "a hop without its time": ("resolution.hops.time", None),
    "text for a flag": ("media.remuxed", "no"),
    "evidence that is not base64": ("evidence.data", "@@@"),
    "a post that is a list": ("post", ["x", "9"]),
}


@pytest.mark.parametrize(("path", "value"), UNEXPECTED.values(), ids=UNEXPECTED.keys())
def test_a_record_with_unexpected_fields_is_refused_saying_where(path: str, value: Any) -> None:
    data = _result_json()
    _set(path, value)(data)

    with pytest.raises(ValueError, match=r"^LinkResult\."):
        records.from_json(LinkResult, data)


def test_a_record_round_trips_with_whole_floats_for_numbers() -> None:
    data = _result_json()
    data["media"][0]["width"] = 640.0
    assert records.from_json(LinkResult, data).media[0].width == 640


def _archive_again(archive_dir: Path, tmp_path: Path) -> None:
    done = embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    "path",
    ["{secret}", "media/../../{name}", "../{name}", "media/ab/../../../{name}"],
)
def test_archiving_again_never_brings_in_a_file_a_sidecar_names_outside_the_store(
    archive_dir: Path, plain_article: Path, tmp_path: Path, path: str
) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text("PRIVATE KEY")
    sha = "ab" * 32

    def naming_it(data: dict[str, Any]) -> None:
        data["links"] = [{"id": "l1", "url": "https://a.example/x", "kind": "url",
                          "outcome": "archived", "media": [{"sha256": sha}]}]  # fmt: skip
        data["media"] = [
            {"sha256": sha, "path": path.format(secret=secret, name=secret.name), "size": 11,
             "mime": "text/plain", "source_url": "https://a.example/x",
             "fetched_at": "2024-01-01T00:00:00Z", "method": "http", "headers": {}}
        ]  # fmt: skip

    edit_sidecar(plain_article, naming_it)

    _archive_again(archive_dir, tmp_path)

    assert secret.stat().st_nlink == 1  # not linked into the archive
    for kept in archive_dir.rglob("*"):
        assert not (kept.is_file() and kept.read_bytes() == b"PRIVATE KEY"), kept
    data = json.loads((plain_article / "article.json").read_text())
    assert data["media"] == [] and [link["url"] for link in data["links"]] == [
        "https://a.example/x"
    ]


def test_archiving_again_keeps_an_unknown_outcome_and_drops_what_is_not_a_link(
    archive_dir: Path, plain_article: Path, tmp_path: Path
) -> None:
    def odd(data: dict[str, Any]) -> None:
        data["links"] = [
            {"id": "l1", "url": "https://a.example/x", "kind": "url", "outcome": "vanished"},
            {"id": "l2", "kind": "url"},
            "not a link",
        ]
        data["posts"] = [{"key": "s:1", "media": "none"}, {"key": ["s:2"]}]
        data["article"]["earlier_originals"] = 5

    edit_sidecar(plain_article, odd)

    _archive_again(archive_dir, tmp_path)

    data = json.loads((plain_article / "article.json").read_text())
    assert [(e["url"], e["outcome"]) for e in data["links"]] == [
        ("https://a.example/x", "vanished")
    ]


def test_remove_never_deletes_another_articles_file_its_sidecar_names(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    sky = install(simweb)
    una = sky.account("una.example.com", "Una")
    first = sky.post(una, "3lremovelie2a", "one", images=[BskyImage(100, 80, 31)])
    second = sky.post(una, "3lremovekep2a", "two", images=[BskyImage(80, 100, 32)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Taken out\n{first.url}\n")
    archive_text(archive_dir, tmp_path, "b.txt", f"Kept in\n{second.url}\n")
    kept = json.loads((article_folder(archive_dir, "Kept in") / "article.json").read_text())
    [kept_file] = [m["path"] for m in kept["media"]]
    taken = article_folder(archive_dir, "Taken out")

    def claiming(data: dict[str, Any]) -> None:
        # A file of its own, said to be stored where the other article's file is.
        data["media"].append({"sha256": "ab" * 32, "path": kept_file, "mime": "image/jpeg"})

    edit_sidecar(taken, claiming)

    done = embedarc(archive_dir, "remove", taken.name)

    assert done.exit_code == 0, done.output
    assert (archive_dir / kept_file).is_file()
    assert embedarc(archive_dir, "verify").exit_code == 0


def test_a_tweet_id_written_with_leading_zeros_is_the_same_tweet() -> None:
    from embedarc import platforms

    one = platforms.claims("https://twitter.com/u/status/0123")
    assert one is not None and one.key == "x:123"
    assert one.key == (platforms.claims("https://x.com/u/status/123") or one).key
    assert platforms.claims("https://twitter.com/u/status/0") is None


def test_a_file_an_edited_sidecar_names_outside_the_store_is_not_examined(
    archive_dir: Path, plain_article: Path, tmp_path: Path
) -> None:
    """rebuild-index takes media rows from the sidecars; the perceptual hashes and credentials
    of a row are read only from the store's own name for its file."""
    from tests.simweb.media import make_jpeg

    secret = tmp_path / "private.jpg"
    secret.write_bytes(make_jpeg(64, 48, 3))
    sha = "cd" * 32

    def naming_it(data: dict[str, Any]) -> None:
        data["media"] = [
            {"sha256": sha, "path": str(secret), "size": secret.stat().st_size,
             "mime": "image/jpeg", "source_url": "https://a.example/p.jpg",
             "fetched_at": "2024-01-01T00:00:00Z", "method": "http", "headers": {}}
        ]  # fmt: skip

    edit_sidecar(plain_article, naming_it)
    assert embedarc(archive_dir, "rebuild-index").exit_code == 0

    embedarc(archive_dir, "similar")  # hashes what has no hash yet

    with sqlite3.connect(archive_dir / "index.db") as db:
        examined = db.execute("select count(*) from perceptual_hashes where sha256 = ?", [sha])
        assert examined.fetchone() == (0,)
