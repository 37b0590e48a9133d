"""The view: index.html for the archive and one per article folder, static and self-contained."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode

from embedarc.keeping.index import Index
from embedarc.report.charts import rot_points
from embedarc.report.safe import local_href, web_href
from embedarc.upkeep.verify import verify
from tests.helpers import (
    archive_text,
    article_folder,
    embedarc,
    local_targets,
    parse,
    read_only_view,
)
from tests.simweb import SimWeb
from tests.simweb.bluesky import BlueskySim, BskyImage, BskyVideo, install

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture
def sky(simweb: SimWeb) -> BlueskySim:
    return install(simweb)


def one(tree: HTMLParser | LexborNode, selector: str) -> LexborNode:
    node = tree.css_first(selector)
    assert node is not None, selector
    return node


def test_archive_writes_the_archive_page_and_the_article_page_with_the_video(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una Reporter")
    post = sky.post(una, "3lviewvideo2a", "the clip from the square", video=BskyVideo(31))

    archive_text(archive_dir, tmp_path, "a.txt", f"Clip from the square\n{post.url}\n")

    folder = article_folder(archive_dir, "Clip from the square")
    page = folder / "index.html"
    tree = parse(page)
    assert one(tree, "h1").text() == "Clip from the square"
    [video] = tree.css("video")
    assert "controls" in video.attributes
    assert video.attributes["preload"] == "metadata"
    poster = folder / unquote(video.attributes["poster"] or "")
    assert poster.is_file() and poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    source = folder / unquote(one(tree, "video source").attributes["src"] or "")
    assert source.is_file() and source.name.split(".")[0] in post.hashes
    card = one(tree, ".card").text()
    assert "Una Reporter" in card and "@una.example.com" in card
    assert "the clip from the square" in card
    [sha] = post.hashes
    assert tree.body is not None and sha in tree.body.text()
    assert all(target.exists() for target in local_targets(page))

    home = archive_dir / "index.html"
    rows = parse(home).css("ol.articles li")
    assert [one(r, ".title a").text() for r in rows] == ["Clip from the square"]
    assert all(target.exists() for target in local_targets(home))


def test_the_pages_ask_for_nothing_outside_the_archive_and_run_no_script(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lviewimage2a", "a picture", images=[BskyImage(320, 240, 5)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Picture\n{post.url}\n")

    for page in [archive_dir / "index.html", *archive_dir.glob("articles/*/index.html")]:
        tree = parse(page)
        policy = one(tree, 'meta[http-equiv="Content-Security-Policy"]')
        assert policy is not None and "default-src 'none'" in (policy.attributes["content"] or "")
        assert "script-src 'none'" in (policy.attributes["content"] or "")
        assert tree.css("script, link[rel=stylesheet], iframe, object, embed, base") == []
        for node in tree.css("[src], [poster]"):
            value = node.attributes.get("src") or node.attributes.get("poster") or ""
            assert urlsplit(value).scheme == "" and not value.startswith("/"), value


def test_hostile_titles_post_texts_and_names_are_escaped(
    sky: BlueskySim, simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    mal = sky.account("mal.example.com", HOSTILE)
    post = sky.post(mal, "3lhostilepos2", HOSTILE, images=[BskyImage(120, 90, 6)])
    simweb.redirect("https://short.example.com/x", "javascript:alert(document.cookie)")
    text = f"{HOSTILE}\n{post.url}\nhttps://short.example.com/x\n"

    archive_text(archive_dir, tmp_path, "evil.txt", text)

    pages = [archive_dir / "index.html", *archive_dir.glob("articles/*/index.html")]
    assert len(pages) == 2
    for page in pages:
        tree = parse(page)
        assert tree.css("script") == [], page
        assert [n for n in tree.css("img") if n.attributes.get("src") == "x"] == []
        for node in tree.css("*"):
            handlers = [name for name in node.attributes if name.lower().startswith("on")]
            assert handlers == [], (page, node.tag, handlers)
            for name in ("href", "src", "poster"):
                value = (node.attributes.get(name) or "").strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), value
    article_page = pages[1].read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article_page  # shown, as text
    assert "javascript:alert(document.cookie)" in article_page  # the hop's Location, as text


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("http://example.org", "http://example.org"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("file:///etc/passwd", None),
        ("//evil.example/x", None),
        ("https:///nohost", None),
        ("vbscript:msgbox", None),
    ],
)
def test_only_http_urls_become_links(url: str, href: str | None) -> None:
    assert web_href(url) == href


@pytest.mark.parametrize(
    ("target", "href"),
    [
        ("articles/a/media/x.mp4", "media/x.mp4"),
        ("media/ab/x.jpg", "../../media/ab/x.jpg"),
        ("articles/a/evidence/1#2?.json", "evidence/1%232%3F.json"),
        ("../outside", None),
        ("articles/../../outside", None),
        ("/etc/passwd", None),
        ("javascript:alert(1)", None),
        ("c:/x", None),
    ],
)
def test_local_links_stay_inside_the_archive(target: str, href: str | None) -> None:
    assert local_href("articles/a", target) == href


def test_pages_still_work_when_the_archive_is_moved(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lmovedarch2a", "moved", images=[BskyImage(200, 100, 9)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Moved\n{post.url}\n")

    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(archive_dir, moved)
    shutil.rmtree(archive_dir)

    pages = [moved / "index.html", *moved.glob("articles/*/index.html")]
    targets = [t for page in pages for t in local_targets(page)]
    assert targets and all(t.exists() for t in targets)
    assert all(t.resolve().is_relative_to(moved.resolve()) for t in targets)


def test_a_later_archive_rewrites_only_the_pages_of_the_articles_it_changed(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    first = sky.post(una, "3lfirstpost2a", "first", images=[BskyImage(100, 80, 1)])
    second = sky.post(una, "3lsecondpos2a", "second", images=[BskyImage(80, 100, 2)])
    archive_text(archive_dir, tmp_path, "a.txt", f"First story\n{first.url}\n")
    first_page = article_folder(archive_dir, "First story") / "index.html"
    before = first_page.stat()
    home_before = (archive_dir / "index.html").stat()

    archive_text(archive_dir, tmp_path, "b.txt", f"Second story\n{second.url}\n")

    after = first_page.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (article_folder(archive_dir, "Second story") / "index.html").is_file()
    assert (archive_dir / "index.html").stat().st_ino != home_before.st_ino
    titles = [r.text() for r in parse(archive_dir / "index.html").css("ol.articles .title")]
    assert titles == ["Second story", "First story"]  # newest first

    done = embedarc(archive_dir, "report")  # all of them, on demand
    assert done.exit_code == 0, done.output
    assert first_page.stat().st_ino != before.st_ino


def test_no_report_leaves_the_pages_alone(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lnoreport12a", "quiet", images=[BskyImage(100, 80, 3)])

    archive_text(archive_dir, tmp_path, "a.txt", f"Quiet\n{post.url}\n", "--no-report")
    assert not (archive_dir / "index.html").exists()
    assert list(archive_dir.glob("articles/*/index.html")) == []

    (archive_dir / "embedarc.toml").write_text("report = false\n")
    assert embedarc(archive_dir, "run").exit_code in (0, 1)
    assert not (archive_dir / "index.html").exists()
    assert embedarc(archive_dir, "report").exit_code == 0  # the command itself always writes
    assert (archive_dir / "index.html").is_file()


def test_an_archive_with_its_pages_is_sound(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lsoundarch2a", "sound", video=BskyVideo(7))
    archive_text(archive_dir, tmp_path, "a.txt", f"Sound\n{post.url}\n")
    assert list(archive_dir.glob("articles/*/index.html"))

    report = verify(archive_dir)

    assert report.sound, (report.missing, report.altered, report.unindexed)


def test_remove_takes_the_article_off_the_archive_page_with_its_thumbnails(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    kept = sky.post(una, "3lkeptpost12a", "kept", images=[BskyImage(100, 80, 11)])
    taken = sky.post(una, "3ltakendown2a", "taken", images=[BskyImage(80, 100, 12)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Kept story\n{kept.url}\n")
    archive_text(archive_dir, tmp_path, "b.txt", f"Taken down\n{taken.url}\n")
    [taken_sha] = taken.hashes
    assert (archive_dir / "thumbs" / taken_sha[:2] / f"{taken_sha}.jpg").is_file()
    folder = article_folder(archive_dir, "Taken down")

    done = embedarc(archive_dir, "remove", folder.name)

    assert done.exit_code == 0, done.output
    home = (archive_dir / "index.html").read_text()
    assert "Taken down" not in home and "Kept story" in home
    assert not (archive_dir / "thumbs" / taken_sha[:2] / f"{taken_sha}.jpg").exists()


def test_failures_are_listed_under_needs_attention(
    sky: BlueskySim, simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.fault("https://flaky.example.com/clip.mp4", "status", status=503)
    archive_text(archive_dir, tmp_path, "a.txt", "Flaky\nhttps://flaky.example.com/clip.mp4\n")

    tree = parse(archive_dir / "index.html")
    [row] = tree.css("h2 + table tr")[1:]
    cells = [td.text() for td in row.css("td")]
    assert cells[0] == "failed for now"
    assert cells[1] == "https://flaky.example.com/clip.mp4" and cells[2] == "Flaky"
    assert "503" in cells[3] and "next try" in cells[3]
    [li] = tree.css("ol.articles li")
    assert "o-failed" in (li.attributes.get("class") or "")
    one(tree, "#o-failed")  # its filter


def test_newly_dead_originals_are_listed_and_drawn_on_the_link_rot_curve(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    posts = [
        sky.post(una, f"3lrotcurve{n}2a", f"post {n}", images=[BskyImage(90, 60, 20 + n)])
        for n in range(4)
    ]
    body = "Rotting\n" + "\n".join(p.url for p in posts) + "\n"
    archive_text(archive_dir, tmp_path, "a.txt", body)
    now = datetime.now(UTC)

    def at(days: float) -> str:
        return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # As `check` would have recorded it over 10 days: two links died on day 3, two live on.
    with Index(archive_dir / "index.db") as index, index.write():
        index.db.execute("update links set resolved_at = ?", [at(10)])
        for n, link in enumerate(index.db.query("select id, article_id, url from links")):
            dead = n < 2
            index.db.table("link_checks").insert(
                {
                    "link_id": link["id"],
                    "article_id": link["article_id"],
                    "url": link["url"],
                    "last_checked": at(0),
                    "last_alive": at(8) if dead else at(0),
                    "first_dead": at(7) if dead else None,
                    "alive": 0 if dead else 1,
                    "detail": "{}",
                }
            )
    assert embedarc(archive_dir, "report").exit_code == 0

    tree = parse(archive_dir / "index.html")
    needs = [one(tr, "td").text() for tr in tree.css("h2 + table tr")[1:]]
    assert needs == ["newly dead original"] * 2
    rot = tree.css("table")[-1]
    days = [td.text() for td in rot.css("tr")[0].css("td")]
    shares = [td.text() for td in rot.css("tr")[1].css("td")]
    assert days == ["0", "1", "2", "3", "5", "7", "10"]
    assert shares == ["100% (4/4)"] * 3 + ["50% (2/4)"] * 4
    assert len(tree.css("svg circle.dot")) == len(days)


def test_link_rot_counts_a_link_for_day_n_only_when_its_state_that_day_is_known() -> None:
    now = datetime(2025, 1, 31, tzinfo=UTC)

    def day(n: int) -> str:
        return (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n)).isoformat()

    rows: list[dict[str, object]] = [
        # checked on day 1 only, alive: says nothing about day 2 or later
        {"archived": day(0), "last_checked": day(1), "last_alive": day(1), "first_dead": None},
        # seen alive on day 5, dead from day 9: unknown between them
        {"archived": day(0), "last_checked": day(20), "last_alive": day(5), "first_dead": day(9)},
        # archived 3 days ago: not yet 5 days old
        {"archived": day(27), "last_checked": day(30), "last_alive": day(30), "first_dead": None},
    ]

    points = {days: (known, alive) for days, known, alive in rot_points(rows, now)}

    assert points[0] == (3, 3) and points[1] == (3, 3)
    assert points[2] == (2, 2)  # the first one was not looked at again
    assert points[5] == (1, 1)  # the third is too young, the first unknown
    assert 7 not in points  # the second: last alive day 5, first dead day 9
    assert points[10] == (1, 0)  # dead from day 9 on
    assert 30 not in points  # the second was last checked on day 20


def test_report_on_a_folder_without_an_archive_is_a_usage_error(tmp_path: Path) -> None:
    done = embedarc(tmp_path / "nothing", "report")
    assert done.exit_code == 2 and "there is no archive" in done.output
    assert not (tmp_path / "nothing").exists()


def test_run_updates_the_pages_of_what_it_archived(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lrunupdates2a", "from a run", images=[BskyImage(100, 80, 13)])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert embedarc(archive_dir, "sources", "add", str(inbox)).exit_code == 0
    (inbox / "story.txt").write_text(f"Dropped in the inbox\n{post.url}\n")

    done = embedarc(archive_dir, "run")

    assert done.exit_code == 0, done.output
    titles = [r.text() for r in parse(archive_dir / "index.html").css("ol.articles .title")]
    assert titles == ["Dropped in the inbox"]
    assert (article_folder(archive_dir, "Dropped in the inbox") / "index.html").is_file()


def test_report_on_a_read_only_archive_is_one_line(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lreadonlyar2a", "kept", images=[BskyImage(100, 80, 14)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Kept\n{post.url}\n")

    with read_only_view(archive_dir, tmp_path / "ro") as view:
        done = embedarc(view, "report")

    assert done.exit_code == 1, done.output
    assert done.output.startswith("Error: ") and "read-only" in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_needs_attention_lists_the_first_200_and_counts_the_rest(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.fault("https://flaky.example.com/clip.mp4", "status", status=503)
    archive_text(archive_dir, tmp_path, "a.txt", "Flaky\nhttps://flaky.example.com/clip.mp4\n")
    with Index(archive_dir / "index.db") as index, index.write():
        [article] = index.db.query("select id from articles")
        index.db.table("links").insert_all(
            {
                "id": f"extra{n}",
                "article_id": article["id"],
                "url": f"https://flaky.example.com/{n}",
                "kind": "url",
                "outcome": "failed_permanently",
                "reason": "HTTP 503",
            }
            for n in range(249)
        )
    assert embedarc(archive_dir, "report").exit_code == 0

    tree = parse(archive_dir / "index.html")

    assert len(tree.css("h2 + table tr")) == 1 + 200
    assert "… and 50 more" in one(tree, "h2 + table + p").text()


def test_a_quoted_post_is_shown_inside_the_card_of_the_post_quoting_it(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    carol = sky.account("carol.example.org", "Carol")
    dave = sky.account("dave.example.org", "Dave")
    quoted = sky.post(dave, "3kquotedpost2a", "the source", images=[BskyImage(160, 120, 15)])
    post = sky.post(carol, "3kquotingpos2b", "look at this", quote=quoted)

    archive_text(archive_dir, tmp_path, "a.txt", f"Quote\n{post.url}\n")

    tree = parse(article_folder(archive_dir, "Quote") / "index.html")
    outer = one(tree, "section.link > .card")
    inner = one(tree, "section.link > .card > .card")
    assert "look at this" in one(outer, ".text").text() and "@carol.example.org" in outer.text()
    assert one(inner, ".text").text() == "the source" and "@dave.example.org" in inner.text()


def test_the_capture_record_and_timestamps_in_an_article_folder_are_linked_from_its_page(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lexportedar2a", "exported", images=[BskyImage(100, 80, 16)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Exported\n{post.url}\n")
    folder = article_folder(archive_dir, "Exported")
    (folder / "timestamps").mkdir()
    (folder / "timestamps" / "manifest-1.txt").write_text("")
    (folder / "timestamps" / "manifest-1.tsa-example.tsr").write_bytes(b"0")

    assert embedarc(archive_dir, "report").exit_code == 0

    links = {a.text(): a.attributes["href"] for a in parse(folder / "index.html").css("dd a")}
    assert links["capture/exchanges.jsonl"] == "capture/exchanges.jsonl"
    assert links["timestamps/manifest-1.txt"] == "timestamps/manifest-1.txt"
    assert links["timestamps/manifest-1.tsa-example.tsr"] == "timestamps/manifest-1.tsa-example.tsr"


def test_an_idle_run_leaves_the_pages_as_they_are(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lidleidleid2a", "once", images=[BskyImage(100, 80, 12)])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert embedarc(archive_dir, "sources", "add", str(inbox)).exit_code == 0
    (inbox / "story.txt").write_text(f"Once\n{post.url}\n")
    assert embedarc(archive_dir, "run").exit_code == 0
    page = archive_dir / "index.html"
    before = page.stat().st_ino, page.read_bytes()

    done = embedarc(archive_dir, "run")  # nothing new in the inbox

    assert done.exit_code == 0, done.output
    assert (page.stat().st_ino, page.read_bytes()) == before  # not written again


def test_report_takes_out_thumbnails_of_files_no_longer_in_the_archive(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    """A thumbnail whose file left the archive (an article removed with --no-report, an older
    release) is taken out by `report`, and counted in its --json."""
    una = sky.account("una.example.com", "Una")
    post = sky.post(una, "3lprunepost12", "kept", images=[BskyImage(100, 80, 13)])
    archive_text(archive_dir, tmp_path, "a.txt", f"Kept story\n{post.url}\n")
    [kept_sha] = post.hashes
    stray = archive_dir / "thumbs" / "ab" / f"{'ab' + '0' * 62}.jpg"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"an old thumbnail")

    done = embedarc(archive_dir, "report", "--json")

    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["removed_thumbnails"] == 1
    assert not stray.exists()
    assert (archive_dir / "thumbs" / kept_sha[:2] / f"{kept_sha}.jpg").is_file()
