"""Bluesky posts: claims, embeds, the AppView look-up, originals from the author's PDS."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from embedarc import platforms
from embedarc.config import Settings
from embedarc.model import LinkKind
from embedarc.network.net import Net
from embedarc.platforms.bluesky import BLUESKY, MAX_MEDIA
from embedarc.reading.links import links_in_html, links_in_text
from tests.conftest import run_embedarc
from tests.helpers import html_input, link_entry, run, sidecar_of, stored_hashes, text_input
from tests.simweb import SimWeb
from tests.simweb.bluesky import PDS, BlueskySim, BskyImage, BskyVideo, install, plc_did
from tests.simweb.media import make_mp4

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
RKEY = "3mk4lzkrnk22d"


@pytest.fixture
def sky(simweb: SimWeb) -> BlueskySim:
    return install(simweb)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def only_link(settings: Settings, body: str) -> tuple[dict[str, Any], dict[str, Any]]:
    [report] = run(settings, text_input(body))
    data = sidecar_of(settings.archive_dir, report)
    [entry] = data["links"]
    return data, entry


# -- claims: pure, every URL form, no look-alikes ---------------------------------------------


@pytest.mark.parametrize(
    ("url", "post_id", "shown"),
    [
        (
            f"https://bsky.app/profile/bsky.app/post/{RKEY}",
            f"at://bsky.app/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/bsky.app/post/{RKEY}",
        ),
        (
            f"https://bsky.app/profile/Alice.Example.COM/post/{RKEY}/",
            f"at://alice.example.com/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/alice.example.com/post/{RKEY}",
        ),
        (
            f"https://www.bsky.app/profile/{DID}/post/{RKEY}",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/{DID}/post/{RKEY}",
        ),
        (
            f"https://bsky.app/profile/{DID.replace(':', '%3A')}/post/{RKEY}",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/{DID}/post/{RKEY}",
        ),
        (
            f"https://bsky.app/profile/did:web:news.example.org/post/{RKEY}",
            f"at://did:web:news.example.org/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/did:web:news.example.org/post/{RKEY}",
        ),
        (
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/{DID}/post/{RKEY}",
        ),
        (
            f"https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/{RKEY}",
            f"at://{DID}/app.bsky.feed.post/{RKEY}",
            f"https://bsky.app/profile/{DID}/post/{RKEY}",
        ),
        (  # any record key the grammar allows, not only a TID
            "https://bsky.app/profile/bsky.app/post/self~key:1.2_3-4",
            "at://bsky.app/app.bsky.feed.post/self~key:1.2_3-4",
            "https://bsky.app/profile/bsky.app/post/self~key:1.2_3-4",
        ),
    ],
)
def test_claims_every_post_url_form(url: str, post_id: str, shown: str) -> None:
    ref = platforms.claims(url)

    assert ref is not None and (ref.site, ref.id, ref.url) == ("bluesky", post_id, shown)


@pytest.mark.parametrize(
    "url",
    [
        f"https://bsky.app.evil.example/profile/bsky.app/post/{RKEY}",
        f"https://evil.example/bsky.app/profile/bsky.app/post/{RKEY}",
        f"https://bsky.app@evil.example/profile/bsky.app/post/{RKEY}",
        f"https://user@bsky.app/profile/bsky.app/post/{RKEY}",
        f"https://bsky.app:8443/profile/bsky.app/post/{RKEY}",
        f"https://bsky.app/profile/bsky.app/feed/{RKEY}",
        "https://bsky.app/profile/bsky.app",
        f"https://bsky.app/profile/bsky.app/post/{RKEY}/liked-by",
        f"https://bsky.app/profile/nohandle/post/{RKEY}",  # a handle is a domain name
        f"https://bsky.app/profile/did:plc:short/post/{RKEY}",
        f"https://bsky.app/profile/did:key:z6Mkabc/post/{RKEY}",
        "https://bsky.app/profile/bsky.app/post/..",
        "https://bsky.app/profile/bsky.app/post/bad%20key",
        f"at://{DID}/app.bsky.feed.like/{RKEY}",
        f"ftp://bsky.app/profile/bsky.app/post/{RKEY}",
        f"https://embed.bsky.app/embed/{DID}/app.bsky.feed.generator/{RKEY}",
    ],
)
def test_look_alikes_are_not_claimed(url: str) -> None:
    assert platforms.claims(url) is None


def test_a_post_link_in_text_is_a_post_link() -> None:
    [link] = links_in_text(f"Look\nhttps://bsky.app/profile/bsky.app/post/{RKEY}?ref_src=x\n")

    assert link.kind is LinkKind.POST
    assert link.url == f"https://bsky.app/profile/bsky.app/post/{RKEY}"


# -- embeds in article HTML -------------------------------------------------------------------

EMBED = (
    (
        f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{DID}/app.bsky.feed.post/{RKEY}"'
        ' data-bluesky-cid="bafyreiabc" data-bluesky-embed-color-mode="system">'
        '<p lang="en">v1.121 is live!</p>&mdash; Bluesky (@bsky.app) '
        '<a href="https://bsky.app/profile/{did}/post/{rkey}?ref_src=embed">April 22, 2026</a>'
        "</blockquote>"
        '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
    )
    .replace("{did}", DID)
    .replace("{rkey}", RKEY)
)


def test_embed_in_the_article_body_is_found() -> None:
    html = f"<html><body><article><h1>News</h1><p>Words.</p>{EMBED}<p>More.</p></article></body>"

    links = links_in_html(html, base_url="https://news.example.org/a")

    embeds = [link for link in links if link.kind is LinkKind.POST_EMBED]
    assert [link.url for link in embeds] == [f"https://bsky.app/profile/{DID}/post/{RKEY}"]
    assert {platforms.claims(link.url).key for link in links if platforms.claims(link.url)} == {  # type: ignore[union-attr]
        f"bluesky:at://{DID}/app.bsky.feed.post/{RKEY}"
    }


def test_embed_in_a_sidebar_is_not_footage_of_the_article() -> None:
    html = (
        "<html><body><article><h1>News</h1><p>Words of the article, long enough to be the"
        " body of it, and then some more words.</p></article>"
        f'<aside class="sidebar">{EMBED}</aside></body></html>'
    )

    links = links_in_html(html, base_url="https://news.example.org/a")

    assert not [link for link in links if platforms.claims(link.url)]


def test_embed_with_a_foreign_uri_is_ignored() -> None:
    html = (
        '<article><blockquote class="bluesky-embed" data-bluesky-uri="https://evil.example/x">'
        "<p>x</p></blockquote></article>"
    )

    assert not [link for link in links_in_html(html) if link.kind is LinkKind.POST_EMBED]


# -- end to end: originals kept, the CDN's copies recorded -----------------------------------


def test_photo_post_keeps_the_originals_from_the_pds_and_records_the_cdn_copies(
    sky: BlueskySim, simweb: SimWeb, settings: Settings
) -> None:
    alice = sky.account("alice.example.com", "Alice")
    post = sky.post(
        alice,
        "3lbdyqv6l5k2a",
        "two pictures",
        images=[BskyImage(320, 240, 1), BskyImage(200, 300, 2)],
    )

    data, entry = only_link(settings, f"Pictures\n{post.url}\n")

    assert entry["outcome"] == "archived" and entry["kind"] == "post"
    assert stored_hashes(settings.archive_dir) == post.hashes
    assert not {sha(c) for c in post.cdn_copies} & stored_hashes(settings.archive_dir)
    assert simweb.requests_to("cdn.bsky.app") == []  # recorded, not fetched
    key = f"bluesky:{post.uri}"
    assert entry["post"] == key and {m["post"] for m in entry["media"]} == {key}
    [recorded] = data["posts"]
    assert recorded["key"] == key and recorded["author"] == "alice.example.com"
    assert recorded["author_name"] == "Alice" and recorded["text"] == "two pictures"
    assert recorded["created_at"] == "2024-12-11T10:50:36.582Z"
    assert recorded["url"] == post.url
    media = recorded["media"]
    assert [m["url"].split("?")[0] for m in media] == [f"{PDS}/xrpc/com.atproto.sync.getBlob"] * 2
    assert [m["also"][0] for m in media] == [i["fullsize"] for i in post.view["embed"]["images"]]
    assert (media[0]["width"], media[0]["height"]) == (320, 240)
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    row = db.table("posts").get(key)
    assert row["author"] == "alice.example.com" and row["site"] == "bluesky"
    assert {r["post"] for r in db["link_media"].rows} == {key}
    db.close()


def test_video_post_keeps_the_uploaded_mp4_not_the_hls_stream(
    sky: BlueskySim, simweb: SimWeb, settings: Settings
) -> None:
    bob = sky.account("bob.example.net", "Bob")
    post = sky.post(bob, "3lczlj4cy5k23", "a clip", video=BskyVideo(4))

    data, entry = only_link(settings, f"Clip\n{post.did_url}\n")

    assert entry["outcome"] == "archived"
    assert stored_hashes(settings.archive_dir) == post.hashes
    assert simweb.requests_to("video.bsky.app") == []
    [medium] = data["posts"][0]["media"]
    assert medium["kind"] == "video" and medium["also"] == [post.view["embed"]["playlist"]]
    # A DID link needs no handle resolution.
    assert not [r for r in simweb.requests_to("public.api.bsky.app") if "resolveHandle" in r.path]


def test_quoted_posts_media_is_archived_with_the_quoting_posts(
    sky: BlueskySim, settings: Settings
) -> None:
    carol = sky.account("carol.example.org", "Carol")
    dave = sky.account("dave.example.org", "Dave", pds="https://pds.dave.example.org")
    quoted = sky.post(dave, "3kaaaaaaaaa2a", "the source", images=[BskyImage(160, 120, 7)])
    post = sky.post(carol, "3kbbbbbbbbb2b", "look", images=[BskyImage(120, 160, 8)], quote=quoted)

    data, entry = only_link(settings, f"Quote\n{post.url}\n")

    assert entry["outcome"] == "archived"
    assert stored_hashes(settings.archive_dir) == post.hashes | quoted.hashes
    posts = {p["key"]: p for p in data["posts"]}
    assert posts[f"bluesky:{post.uri}"]["quoted"] == f"bluesky:{quoted.uri}"
    assert posts[f"bluesky:{quoted.uri}"]["author"] == "dave.example.org"
    assert posts[f"bluesky:{quoted.uri}"]["media"][0]["url"].startswith(
        "https://pds.dave.example.org/xrpc/com.atproto.sync.getBlob?"
    )


def test_blockquote_embed_in_an_article_is_archived(sky: BlueskySim, settings: Settings) -> None:
    erin = sky.account("erin.example.com")
    post = sky.post(erin, "3lembedembe2d", "embedded", images=[BskyImage(240, 160, 11)])
    html = (
        "<html><body><article><h1>Report</h1><p>What happened.</p>"
        f'<blockquote class="bluesky-embed" data-bluesky-uri="{post.uri}"><p>embedded</p>'
        f'&mdash; (<a href="{post.did_url}?ref_src=embed">@erin</a>)</blockquote>'
        "</article></body></html>"
    )

    [report] = run(settings, html_input(html, url="https://news.example.org/report"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, post.did_url)
    assert entry["kind"] == "post_embed" and entry["outcome"] == "archived"
    assert stored_hashes(settings.archive_dir) == post.hashes


def test_recorded_answer_of_a_real_video_post_is_read(
    sky: BlueskySim, simweb: SimWeb, settings: Settings
) -> None:
    answer = json.loads((FIXTURES / "thread_video.json").read_text())
    view = answer["thread"]["post"]
    did, cid = view["author"]["did"], view["embed"]["cid"]
    sky.account(view["author"]["handle"], did=did)
    original = make_mp4(160, 90, 1.0, 21, cache_dir=simweb.media_dir)
    sky.blobs[(did, cid)] = (original, "video/mp4")
    sky.answer(view["uri"], answer)

    data, entry = only_link(
        settings, "Real\nhttps://bsky.app/profile/codepo8.bsky.social/post/3lczlj4cy5k23\n"
    )

    assert entry["outcome"] == "archived"
    assert stored_hashes(settings.archive_dir) == {sha(original)}
    [post] = data["posts"]
    assert post["author"] == "codepo8.bsky.social" and post["author_name"] == "Chris Heilmann"
    assert post["text"].startswith("Proof that @wearedevelopers")
    assert post["created_at"] == "2024-12-11T10:50:36.582Z"
    [medium] = post["media"]
    assert medium["url"] == f"{PDS}/xrpc/com.atproto.sync.getBlob?did={did}&cid={cid}"
    assert medium["also"] == [view["embed"]["playlist"]]
    assert (medium["width"], medium["height"]) == (1080, 1920)


def test_without_a_pds_in_the_did_document_the_cdn_copy_is_kept(
    sky: BlueskySim, settings: Settings
) -> None:
    frank = sky.account("frank.example.com", pds=None)
    post = sky.post(frank, "3lnopdsnopd2a", "no pds", images=[BskyImage(200, 100, 13)])

    data, entry = only_link(settings, f"x\n{post.url}\n")

    assert entry["outcome"] == "archived"
    assert stored_hashes(settings.archive_dir) == {sha(post.cdn_copies[0])}
    assert data["posts"][0]["media"][0]["also"] == []


def test_the_post_is_looked_up_once_for_two_links_to_it(
    sky: BlueskySim, simweb: SimWeb, settings: Settings
) -> None:
    gina = sky.account("gina.example.com")
    post = sky.post(gina, "3ltwicetwic2a", "twice", images=[BskyImage(100, 100, 14)])

    run(settings, text_input(f"x\n{post.url}\n{post.url}?ref_src=embed\n"))

    threads = [r for r in simweb.requests_to("public.api.bsky.app") if "getPostThread" in r.path]
    assert len(threads) == 1


# -- outcomes ---------------------------------------------------------------------------------


def test_deleted_post_is_gone_and_the_answer_kept(sky: BlueskySim, settings: Settings) -> None:
    hana = sky.account("hana.example.com")
    post = sky.post(hana, "3ldeleteddel2a", "bye", images=[BskyImage(100, 100, 15)])
    sky.gone(post)

    [report] = run(settings, text_input(f"x\n{post.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    [entry] = data["links"]
    assert entry["outcome"] == "gone" and "not found" in entry["reason"]
    assert stored_hashes(settings.archive_dir) == set()
    folder = settings.archive_dir / report.folder  # type: ignore[operator]
    kept = [json.loads((folder / e).read_text()) for e in entry["evidence"]]
    assert {"error": "NotFound", "message": f"Post not found: {post.uri}"} in kept


def test_not_found_post_in_the_thread_is_gone(sky: BlueskySim, settings: Settings) -> None:
    post = sky.post(sky.account("ivan.example.com"), "3lnotfoundno2a", "x")
    sky.not_found_in_thread(post)

    assert only_link(settings, f"x\n{post.url}\n")[1]["outcome"] == "gone"


def test_handle_no_account_holds_is_gone(sky: BlueskySim, settings: Settings) -> None:
    _, entry = only_link(settings, "x\nhttps://bsky.app/profile/nobody.example.com/post/3labc\n")

    assert entry["outcome"] == "gone" and "does not resolve" in entry["reason"]


def test_blocked_post_needs_a_login(sky: BlueskySim, settings: Settings) -> None:
    post = sky.post(sky.account("judy.example.com"), "3lblockedblo2a", "x")
    sky.blocked(post)

    assert only_link(settings, f"x\n{post.url}\n")[1]["outcome"] == "login_required"


def test_author_who_hides_from_logged_out_visitors_needs_a_login(
    sky: BlueskySim, settings: Settings
) -> None:
    kim = sky.account("kim.example.com", labels=["!no-unauthenticated"])
    post = sky.post(kim, "3lhiddenhid2a", "x", images=[BskyImage(100, 100, 16)])

    _, entry = only_link(settings, f"x\n{post.url}\n")

    assert entry["outcome"] == "login_required"
    assert stored_hashes(settings.archive_dir) == set()


def test_text_only_post_has_no_media(sky: BlueskySim, settings: Settings) -> None:
    post = sky.post(sky.account("leo.example.com"), "3ltextonlyte2a", "only words")

    data, entry = only_link(settings, f"x\n{post.url}\n")

    assert entry["outcome"] == "no_media" and data["posts"][0]["text"] == "only words"


@pytest.mark.parametrize("host", ["public.api.bsky.app", "plc.directory"])
def test_server_errors_fail_for_now_and_a_later_run_archives(
    sky: BlueskySim, settings: Settings, host: str
) -> None:
    mia = sky.account("mia.example.com")
    post = sky.post(mia, "3lbusybusyb2a", "x", images=[BskyImage(100, 100, 17)])
    sky.down.add(host)

    [report] = run(settings, text_input(f"x\n{post.did_url}\n"))

    assert report.failed
    [entry] = sidecar_of(settings.archive_dir, report)["links"]
    assert entry["outcome"] == "failed" and "503" in entry["reason"]
    assert entry["failure"] == "server_error"  # told by the platform, not read from the text
    sky.down.clear()  # the service is back
    [again] = run(settings, text_input(f"x\n{post.did_url}\n"))
    assert not again.failed and stored_hashes(settings.archive_dir) == post.hashes


# -- hostile answers --------------------------------------------------------------------------


def look_up(settings: Settings, url: str) -> platforms.PostAnswer:
    ref = BLUESKY.claims(url)
    assert ref is not None
    with Net(settings) as net:
        return BLUESKY.look_up(net, ref)


def test_pds_on_a_private_address_is_refused_when_fetched(
    sky: BlueskySim, simweb: SimWeb, settings: Settings
) -> None:
    nina = sky.account("nina.example.com", pds="https://127.0.0.1:9")
    post = sky.post(nina, "3lprivatepri2a", "x", images=[BskyImage(100, 100, 18)])

    _, entry = only_link(settings, f"x\n{post.url}\n")

    assert entry["outcome"] == "refused"
    assert stored_hashes(settings.archive_dir) == set()


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"thread": []},
        {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": "x"}},
        {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {"uri": 5}}},
        {"thread": {"$type": "something.else"}},
    ],
)
def test_answers_without_a_post_fail_cleanly(
    sky: BlueskySim, settings: Settings, answer: object
) -> None:
    owen = sky.account("owen.example.com")
    post = sky.post(owen, "3lhostilehos2a", "x")
    sky.answer(post.uri, answer)

    got = look_up(settings, post.url)

    assert got.post is None and got.outcome is not None and got.reason


def test_wrong_types_and_foreign_urls_in_a_post_are_dropped(
    sky: BlueskySim, settings: Settings
) -> None:
    pia = sky.account("pia.example.com", pds="javascript:alert(1)")
    post = sky.post(pia, "3lwrongtypes2a", "x", images=[BskyImage(100, 100, 19)])
    view = post.view
    view["author"]["displayName"] = ["not", "text"]
    view["author"]["labels"] = "nope"
    view["record"]["text"] = {"not": "text"}
    view["record"]["createdAt"] = "yesterday"
    view["indexedAt"] = 12
    view["record"]["embed"]["images"] = "x"
    view["embed"]["images"] += [
        {"fullsize": "javascript:alert(1)"},
        {"fullsize": "file:///etc/passwd"},
        {"fullsize": 7, "aspectRatio": {"width": "wide", "height": -1}},
        "not an image",
    ]
    sky.answer(post.uri, {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view}})

    got = look_up(settings, post.url)

    assert got.post is not None
    assert got.post.author_name is None and got.post.text == "" and got.post.created_at is None
    # The PDS is no web URL: the CDN copy is what there is; the others name nothing fetchable.
    assert [m.url for m in got.post.media] == [view["embed"]["images"][0]["fullsize"]]


def test_huge_answers_are_capped(sky: BlueskySim, settings: Settings) -> None:
    quinn = sky.account("quinn.example.com")
    post = sky.post(quinn, "3lhugehugehu2a", "x", images=[BskyImage(100, 100, 20)])
    image = post.view["embed"]["images"][0]
    post.view["embed"]["images"] = [image] * 10_000
    sky.answer(
        post.uri, {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": post.view}}
    )

    got = look_up(settings, post.url)

    assert got.post is not None and len(got.post.media) == MAX_MEDIA


def test_an_answer_larger_than_the_limit_fails_cleanly(sky: BlueskySim, settings: Settings) -> None:
    rosa = sky.account("rosa.example.com")
    post = sky.post(rosa, "3ltoolargetoo2", "x")
    sky.answer(post.uri, {"thread": {"pad": "x" * (5 * 1024 * 1024)}})

    got = look_up(settings, post.url)

    assert got.post is None and got.outcome is not None and "larger" in (got.reason or "")


def test_deeply_nested_quotes_stop(sky: BlueskySim, settings: Settings) -> None:
    sam = sky.account("sam.example.com")
    post = sky.post(sam, "3lnest0nest02", "level 0")
    for level in range(1, 30):
        post = sky.post(sam, f"3lnest{level}nest{level}", f"level {level}", quote=post)

    got = look_up(settings, post.url)

    depth, current = 0, got.post
    while current is not None and current.quoted is not None:
        depth, current = depth + 1, current.quoted
    assert got.post is not None and 0 < depth <= 4


def test_did_document_for_another_did_names_no_pds(sky: BlueskySim, settings: Settings) -> None:
    tia = sky.account("tia.example.com")
    post = sky.post(tia, "3lotherdidot2a", "x", images=[BskyImage(100, 100, 22)])
    other = sky.did_document(sky.account("other.example.com", pds="https://evil.example"))
    sky.did_documents[tia.did] = (200, other)

    got = look_up(settings, post.url)

    assert got.post is not None
    assert [m.url for m in got.post.media] == [post.view["embed"]["images"][0]["fullsize"]]


# -- the installed command ---------------------------------------------------------------------


def test_cli_archives_a_bluesky_post(sky: BlueskySim, simweb: SimWeb, tmp_path: Path) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lclicliclic2a", "from the command", video=BskyVideo(23))
    (tmp_path / "a.txt").write_text(f"Clip\n{post.url}\n")

    done = run_embedarc("archive", "a.txt", "--json", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    [summary] = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["outcomes"] == {"archived": 1} and summary["new_media"] == 1
    [folder] = list((tmp_path / "archive" / "articles").iterdir())
    data = json.loads((folder / "article.json").read_text())
    assert {m["sha256"] for m in data["media"]} == post.hashes
    assert data["posts"][0]["key"] == f"bluesky:{post.uri}"
    db = sqlite_utils.Database(tmp_path / "archive" / "index.db")
    assert db.table("posts").get(f"bluesky:{post.uri}")["text"] == "from the command"
    db.close()
    assert "Traceback" not in done.stderr


def test_did_of_a_simulated_account_is_well_formed() -> None:
    assert platforms.claims(f"https://bsky.app/profile/{plc_did('x.example')}/post/3l") is not None
