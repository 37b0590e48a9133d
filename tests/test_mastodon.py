"""Mastodon and the fediverse: status URLs and embeds, the instance confirmed, the statuses API,
boosts, quotes, remote posts, and hosts whose URLs only look like statuses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from embedarc.config import Settings
from embedarc.model import LinkKind
from embedarc.network.net import Net
from embedarc.platforms import PostRef, claims
from embedarc.platforms.mastodon import MASTODON, MAX_MEDIA
from embedarc.reading.links import links_in_html
from tests.conftest import run_embedarc
from tests.helpers import html_input, link_entry, run, sidecar_of, stored_hashes, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment, MastodonSim

HOST = "social.example"
SNOWFLAKE = "113228681326442658"


@pytest.fixture
def fedi(simweb: SimWeb) -> MastodonSim:
    world = sim.install(simweb)
    world.instance(HOST)
    return world


def requests_for(web: SimWeb, path: str) -> list[str]:
    return [r.url for r in web.requests if r.path == path]


# -- claims: every URL form, and the look-alikes ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "post_id", "shown"),
    [
        (f"https://{HOST}/@alice/{SNOWFLAKE}", SNOWFLAKE, f"https://{HOST}/@alice/{SNOWFLAKE}"),
        (
            f"https://{HOST}/@bob@remote.example/{SNOWFLAKE}",
            SNOWFLAKE,
            f"https://{HOST}/@bob@remote.example/{SNOWFLAKE}",
        ),
        (
            f"https://{HOST}/@alice/{SNOWFLAKE}/embed",
            SNOWFLAKE,
            f"https://{HOST}/@alice/{SNOWFLAKE}",
        ),
        (
            f"https://{HOST}/users/alice/statuses/{SNOWFLAKE}",
            SNOWFLAKE,
            f"https://{HOST}/users/alice/statuses/{SNOWFLAKE}",
        ),
        (
            f"https://{HOST}/users/alice/statuses/42",
            "42",
            f"https://{HOST}/users/alice/statuses/42",
        ),
        (
            f"https://{HOST}/users/alice/statuses/{SNOWFLAKE}/activity",
            SNOWFLAKE,
            f"https://{HOST}/users/alice/statuses/{SNOWFLAKE}",
        ),
        (
            f"https://{HOST}/web/statuses/{SNOWFLAKE}",
            SNOWFLAKE,
            f"https://{HOST}/web/statuses/{SNOWFLAKE}",
        ),
        (
            f"https://{HOST}/web/@alice/{SNOWFLAKE}",
            SNOWFLAKE,
            f"https://{HOST}/web/@alice/{SNOWFLAKE}",
        ),
        (
            f"https://SOCIAL.example/@alice/{SNOWFLAKE}/",
            SNOWFLAKE,
            f"https://{HOST}/@alice/{SNOWFLAKE}",
        ),
        (
            f"http://{HOST}/@alice/{SNOWFLAKE}?lang=en",
            SNOWFLAKE,
            f"https://{HOST}/@alice/{SNOWFLAKE}",
        ),
    ],
)
def test_every_status_url_form_is_claimed(url: str, post_id: str, shown: str) -> None:
    assert claims(url) == PostRef("mastodon", f"{HOST}/{post_id}", shown)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{HOST}/@alice/123",  # too short for a status under /@: a blog's numbering
        f"https://{HOST}/@alice/{SNOWFLAKE}1234",  # longer than any snowflake
        f"https://{HOST}/@alice",
        f"https://{HOST}/@alice/{SNOWFLAKE}/reblogs",
        f"https://{HOST}/@alice/media",
        "https://medium.com/@alice/a-story-3f2c9d1b2e4a",
        f"https://medium.com/@alice/{SNOWFLAKE}",
        f"https://x.com/@alice/{SNOWFLAKE}",
        f"https://www.youtube.com/@channel/{SNOWFLAKE}",
        f"https://127.0.0.1/@alice/{SNOWFLAKE}",
        f"https://user@{HOST}/@alice/{SNOWFLAKE}",
        f"https://{HOST}:8443/@alice/{SNOWFLAKE}",
        f"ftp://{HOST}/@alice/{SNOWFLAKE}",
        f"https://{HOST}/users/alice/statuses/abc",
        f"https://{HOST}/web/statuses/42",
    ],
)
def test_look_alikes_are_not_claimed(url: str) -> None:
    assert claims(url) is None


# -- embeds ----------------------------------------------------------------------------------

IFRAME = (
    f'<iframe src="https://{HOST}/@alice/{SNOWFLAKE}/embed" class="mastodon-embed" '
    'style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen"></iframe>'
    f'<script src="https://{HOST}/embed.js" async="async"></script>'
)
# Mastodon 4.3's embed code: a blockquote that embed.js turns into an iframe.
BLOCKQUOTE = (
    f'<blockquote class="mastodon-embed" data-embed-url="https://{HOST}/@alice/{SNOWFLAKE}/embed"'
    ' style="background: #FCF8FF; border-radius: 8px;">'
    f'<a href="https://{HOST}/@alice/{SNOWFLAKE}" target="_blank">Post by @alice@{HOST}</a>'
    "<div>View on Mastodon</div></blockquote>"
    f'<script data-allowed-prefixes="https://{HOST}/" async src="https://{HOST}/embed.js"></script>'
)
PROSE = "<p>" + "Words of the article around the embed, long enough to be its body. " * 8 + "</p>"


@pytest.mark.parametrize("embed", [IFRAME, BLOCKQUOTE])
def test_embeds_in_the_article_body_are_found(embed: str) -> None:
    page = f"<html><body><article><h1>News</h1>{PROSE}{embed}{PROSE}</article></body></html>"

    links = links_in_html(page, base_url="https://news.example/story")

    posts = [link for link in links if link.kind is LinkKind.POST_EMBED]
    assert [link.url for link in posts] == [f"https://{HOST}/@alice/{SNOWFLAKE}"]
    assert {claims(link.url) for link in links if claims(link.url)} == {
        PostRef("mastodon", f"{HOST}/{SNOWFLAKE}", f"https://{HOST}/@alice/{SNOWFLAKE}")
    }


def test_embeds_in_a_sidebar_are_not_the_article() -> None:
    page = (
        f"<html><body><article><h1>News</h1>{PROSE}</article>"
        f'<aside class="sidebar">{IFRAME}{BLOCKQUOTE}</aside></body></html>'
    )

    links = links_in_html(page, base_url="https://news.example/story")

    assert not [link for link in links if claims(link.url)]


def test_an_iframe_without_the_embed_class_elsewhere_is_no_post_embed() -> None:
    page = (
        f"<html><body><article>{PROSE}"
        '<iframe class="mastodon-embed" src="https://video.example/player/7"></iframe>'
        "</article></body></html>"
    )

    links = links_in_html(page, base_url="https://news.example/story")

    assert not [link for link in links if link.kind is LinkKind.POST_EMBED]


# -- end to end --------------------------------------------------------------------------------


def test_post_media_archived_at_original_size_and_recorded(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(
        HOST,
        "alice",
        [Attachment("image", 96, 64), Attachment("video", 64, 48, 1.0)],
        text="Footage from the scene",
    )
    body = f"<h1>News</h1>{PROSE}{_embed(post.url)}{PROSE}"
    page = f"<html><body><article>{body}</article></body></html>"

    [report] = run(settings, html_input(page, url="https://news.example/story"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, post.url)
    assert entry["kind"] == "post_embed" and entry["outcome"] == "archived"
    assert entry["post"] == post.key
    assert {m["sha256"] for m in data["media"]} == {f.sha256 for f in post.files}
    assert {f.sha256 for f in post.previews}.isdisjoint(stored_hashes(settings.archive_dir))
    assert {f.sha256 for f in post.files} <= stored_hashes(settings.archive_dir)
    [recorded] = data["posts"]
    assert recorded["key"] == post.key and recorded["author"] == f"@alice@{HOST}"
    assert recorded["text"] == "Footage from the scene" and recorded["origin_url"] is None
    assert [m["kind"] for m in recorded["media"]] == ["photo", "video"]
    assert recorded["media"][0]["width"] == 96 and recorded["media"][1]["duration"] == 1.0
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    row = db.table("posts").get(post.key)
    assert row["site"] == "mastodon" and row["author_name"] == "Alice"
    db.close()


def test_instance_is_asked_what_it_is_once_per_run(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    first = fedi.status(HOST, "alice", [Attachment("image")])
    second = fedi.status(HOST, "bob", [Attachment("image", 80, 60)])

    [report] = run(settings, text_input(f"Two posts\n{first.url}\n{second.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert {link_entry(data, p.url)["outcome"] for p in (first, second)} == {"archived"}
    assert len(requests_for(simweb, "/.well-known/nodeinfo")) == 1
    assert len(requests_for(simweb, "/nodeinfo/2.0")) == 1


def test_post_archived_through_the_installed_command(
    simweb: SimWeb, tmp_path: Path, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "alice", [Attachment("image", 72, 48)])
    (tmp_path / "a.txt").write_text(f"A post\n{post.url}\n")

    done = run_embedarc("archive", "a.txt", "--json", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [folder] = list((tmp_path / "archive" / "articles").iterdir())
    data = json.loads((folder / "article.json").read_text())
    assert [m["sha256"] for m in data["media"]] == [post.files[0].sha256]
    assert [p["key"] for p in data["posts"]] == [post.key]
    stored = next((tmp_path / "archive").glob(f"media/**/{post.files[0].sha256}.*"))
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == post.files[0].sha256


def test_a_boost_keeps_its_originals_media(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    original = fedi.status(HOST, "alice", [Attachment("image", 90, 60)], text="The original")
    boost = fedi.status(HOST, "carol", reblog_of=original)

    [report] = run(settings, text_input(f"A boost\n{boost.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, boost.url)
    assert entry["outcome"] == "archived" and entry["post"] == boost.key
    assert [m["sha256"] for m in data["media"]] == [original.files[0].sha256]
    posts = {p["key"]: p for p in data["posts"]}
    assert posts[boost.key]["reposted"] == original.key
    assert posts[original.key]["text"] == "The original"
    [file_link] = entry["media"]
    assert file_link["post"] == original.key


def test_a_quoted_posts_media_is_archived_too(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    quoted = fedi.status(HOST, "alice", [Attachment("image", 88, 66)])
    quoting = fedi.status(HOST, "dave", [Attachment("image", 70, 50)], quote_of=quoted)

    [report] = run(settings, text_input(f"A quote\n{quoting.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    hashes = {m["sha256"] for m in data["media"]}
    assert hashes == {quoting.files[0].sha256, quoted.files[0].sha256}
    posts = {p["key"]: p for p in data["posts"]}
    assert posts[quoting.key]["quoted"] == quoted.key


def test_a_remote_post_records_its_origin_url(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "bob", [Attachment("image", 60, 40)], origin="remote.example")

    [report] = run(settings, text_input(f"A remote post\n{post.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, post.url)["outcome"] == "archived"
    [recorded] = data["posts"]
    assert recorded["author"] == "@bob@remote.example"
    assert recorded["url"] == post.url
    assert recorded["origin_url"] == post.answer["url"]
    assert recorded["origin_url"].startswith("https://remote.example/@bob/")
    # The instance's copy is kept; the origin server's file is recorded beside it.
    [item] = recorded["media"]
    assert item["url"] == post.files[0].url and item["also"] == [
        post.answer["media_attachments"][0]["remote_url"]
    ]
    assert [m["sha256"] for m in data["media"]] == [post.files[0].sha256]
    assert not simweb.requests_to("remote.example")
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    assert db.table("posts").get(post.key)["origin_url"] == post.answer["url"]
    db.close()


# -- what the instance says ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "outcome"),
    [
        ("deleted", "gone"),
        ("private", "login_required"),
        ("unauthenticated", "login_required"),
        ("error", "failed"),
        ("ratelimit", "failed"),
    ],
)
def test_what_the_instance_says_is_the_outcome(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim, mode: str, outcome: str
) -> None:
    post = fedi.status(HOST, "alice", [Attachment("image")], mode=mode)

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), post.url)
    assert entry["outcome"] == outcome, entry["reason"]
    assert not {f.url for f in post.files} & {r.url for r in simweb.requests}
    if mode == "ratelimit":
        assert entry["retry_after"] == "120"


def test_a_post_without_media_is_no_media(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "alice", text="Only words")

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, post.url)["outcome"] == "no_media"
    assert [p["text"] for p in data["posts"]] == ["Only words"]


def test_instance_that_cannot_answer_now_fails_for_now_and_is_asked_again(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "alice", [Attachment("image")])
    simweb.fail(f"https://{HOST}/.well-known/nodeinfo", 503, headers={"Retry-After": "60"}, times=1)

    [first] = run(settings, text_input(f"A post\n{post.url}\n"))
    failed = link_entry(sidecar_of(settings.archive_dir, first), post.url)
    [second] = run(settings, text_input(f"A post\n{post.url}\n"))

    assert failed["outcome"] == "failed" and failed["retry_after"] == "60"
    assert link_entry(sidecar_of(settings.archive_dir, second), post.url)["outcome"] == "archived"


def test_instance_without_nodeinfo_is_confirmed_by_its_instance_api(
    simweb: SimWeb, settings: Settings
) -> None:
    world = sim.install(simweb)
    world.instance("quiet.example", nodeinfo=False)
    post = world.status("quiet.example", "erin", [Attachment("image")])

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    assert link_entry(sidecar_of(settings.archive_dir, report), post.url)["outcome"] == "archived"
    assert requests_for(simweb, "/api/v2/instance")


# -- hosts that are not instances ---------------------------------------------------------------


def test_a_status_shaped_url_on_a_non_fediverse_host_is_an_ordinary_page(
    simweb: SimWeb, settings: Settings
) -> None:
    world = sim.install(simweb)
    url = world.blog("blog.example.org", f"/@someone/{SNOWFLAKE}", "Someone's notes")
    assert claims(url) is not None  # by its shape alone it could be a post

    [report] = run(settings, text_input(f"A blog\n{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "no_media" and entry["post"] is None
    assert entry["resolution"]["stop"] == "final"
    assert [h["status"] for h in entry["resolution"]["hops"]] == [200]
    assert requests_for(simweb, f"/@someone/{SNOWFLAKE}") == [url]
    assert not requests_for(simweb, f"/api/v1/statuses/{SNOWFLAKE}")
    assert not sidecar_of(settings.archive_dir, report)["posts"]


def test_a_fediverse_server_without_the_mastodon_api_is_an_ordinary_page(
    simweb: SimWeb, settings: Settings
) -> None:
    world = sim.install(simweb)
    world.instance("notes.example", software="misskey")
    url = world.blog("notes.example", f"/@frank/{SNOWFLAKE}")

    [report] = run(settings, text_input(f"Notes\n{url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), url)
    assert entry["outcome"] == "no_media" and entry["post"] is None
    assert "evidence/notes.example.nodeinfo.json" in entry["evidence"]  # why it is no post
    assert requests_for(simweb, f"/@frank/{SNOWFLAKE}") == [url]
    assert not requests_for(simweb, f"/api/v1/statuses/{SNOWFLAKE}")


# -- hostile answers ----------------------------------------------------------------------------


def _look_up(settings: Settings, url: str) -> Any:
    ref = claims(url)
    assert ref is not None
    net = Net(settings)
    try:
        return MASTODON.look_up(net, ref)
    finally:
        net.close()


def _hostile(simweb: SimWeb, answer: object, status: int = 200) -> str:
    world = sim.install(simweb)
    world.instance(HOST)
    simweb.json(f"https://{HOST}/api/v1/statuses/{SNOWFLAKE}", answer, status)
    return f"https://{HOST}/@alice/{SNOWFLAKE}"


@pytest.mark.parametrize(
    "answer",
    [
        [],
        "a string",
        None,
        {"account": [], "media_attachments": "many", "content": 7, "created_at": 5},
        {"account": {"acct": 3, "display_name": {}}, "media_attachments": [1, None, "x", []]},
        {
            "media_attachments": [
                {"type": "image", "url": 5},
                {"type": ["video"], "url": "https://a.example/x"},
            ]
        },
        {"reblog": "yes", "quote": {"quoted_status": []}, "url": "javascript:alert(1)"},
        {"reblog": {"id": {"nested": 1}}, "quote": {"id": "../../etc", "account": {}}},
        {
            "media_attachments": [
                {
                    "type": "image",
                    "url": "https://a.example/x",
                    "meta": {"original": {"width": "wide", "duration": float("nan")}},
                }
            ]
        },
        {"created_at": "yesterday", "content": "<p>" + "<b>" * 5000 + "deep</p>"},
    ],
)
def test_wrong_types_never_crash(simweb: SimWeb, settings: Settings, answer: object) -> None:
    url = _hostile(simweb, answer)

    found = _look_up(settings, url)

    if isinstance(answer, dict):
        assert found.post is not None
        assert all(m.url.startswith("https://") for _, m in found.post.all_media())
    else:
        assert found.post is None and found.outcome is not None


def test_media_urls_that_are_not_http_are_dropped(simweb: SimWeb, settings: Settings) -> None:
    bad = [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "ftp://a.example/x",
    ]
    good = "https://files.example/original/ok.jpeg"
    items = [{"type": "image", "url": u, "remote_url": None} for u in bad]
    url = _hostile(simweb, {"media_attachments": [*items, {"type": "image", "url": good}]})

    found = _look_up(settings, url)

    assert [m.url for m in found.post.media] == [good]


def test_a_huge_media_list_is_capped(simweb: SimWeb, settings: Settings) -> None:
    items = [{"type": "image", "url": f"https://files.example/{n}.jpeg"} for n in range(5000)]
    url = _hostile(simweb, {"media_attachments": items})

    found = _look_up(settings, url)

    assert len(found.post.media) == MAX_MEDIA


def test_a_boost_chain_past_any_real_depth_is_cut(simweb: SimWeb, settings: Settings) -> None:
    answer: dict[str, Any] = {"id": "1", "media_attachments": []}
    for n in range(2, 300):
        answer = {"id": str(n), "reblog": answer}
    url = _hostile(simweb, answer)

    found = _look_up(settings, url)

    depth, post = 0, found.post
    while post is not None:
        depth, post = depth + 1, post.reposted
    assert 1 < depth <= 5


def test_a_media_url_on_a_private_address_is_refused(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "alice", [Attachment("image")])
    post.answer["media_attachments"][0]["url"] = "https://127.0.0.1:9/original/x.jpeg"

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), post.url)
    assert entry["outcome"] == "refused", entry["reason"]
    assert not simweb.requests_to("127.0.0.1")


def test_a_huge_answer_is_too_large_not_a_crash(
    simweb: SimWeb, settings: Settings, fedi: MastodonSim
) -> None:
    post = fedi.status(HOST, "alice", [Attachment("image")])
    post.answer["content"] = "<p>" + "x" * (5 * 1024 * 1024) + "</p>"

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), post.url)
    assert entry["outcome"] == "too_large", entry["reason"]


def test_an_answer_that_is_not_json_fails_for_now(simweb: SimWeb, settings: Settings) -> None:
    world = sim.install(simweb)
    world.instance(HOST)
    simweb.page(f"https://{HOST}/api/v1/statuses/{SNOWFLAKE}", "<h1>maintenance</h1>")

    found = _look_up(settings, f"https://{HOST}/@alice/{SNOWFLAKE}")

    assert found.post is None and found.outcome.value == "failed"


def _embed(url: str) -> str:
    return (
        f'<iframe src="{url}/embed" class="mastodon-embed" width="400"></iframe>'
        f'<script src="https://{HOST}/embed.js" async="async"></script>'
    )
