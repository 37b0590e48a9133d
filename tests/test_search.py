"""`search`: titles, post texts, authors and URLs, through the index's FTS5 tables kept in step
with every command that writes the index; read-only and older archives too."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.keeping.index import SEARCHED
from tests.helpers import PREVIOUS_RELEASE, embedarc, read_only_view, run, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment, MastodonSim, SimStatus

HOST = "social.example"


@pytest.fixture
def fedi(simweb: SimWeb) -> MastodonSim:
    world = sim.install(simweb)
    world.instance(HOST)
    return world


def found(archive: Path, *words: str) -> list[dict[str, object]]:
    done = embedarc(archive, "search", "--json", *words)
    assert done.exit_code == 0, done.output
    hits: list[dict[str, object]] = json.loads(done.output)
    return hits


def folders(archive: Path, *words: str) -> list[object]:
    return [hit["folder"] for hit in found(archive, *words)]


def search_tables_in_step(archive: Path) -> None:
    """FTS5's own check that each search table holds exactly its table's words."""
    with sqlite3.connect(archive / "index.db") as db:
        for table in SEARCHED:
            fts = f"[{table}_fts]"
            db.execute(f"insert into {fts}({fts}, rank) values('integrity-check', 1)")


def archive_post(
    settings: Settings, fedi: MastodonSim, title: str, text: str
) -> tuple[str, SimStatus]:
    post = fedi.status(HOST, "alice", [Attachment("video", 64, 48, 1.0)], text=text)
    [report] = run(settings, text_input(f"{title}\n{post.url}\n", f"{title[:8]}.txt"))
    assert report.folder
    return report.folder, post


# -- what it finds -----------------------------------------------------------------------------


def test_search_finds_an_article_by_each_kind_of_words(
    settings: Settings, fedi: MastodonSim
) -> None:
    folder, post = archive_post(settings, fedi, "Convoy seen near Kharkiv", "Tanks rolling at dawn")
    archive = settings.archive_dir

    [by_title] = found(archive, "kharkiv")
    [by_text] = found(archive, "tanks", "dawn")
    [by_author] = found(archive, "Alice")  # the display name
    [by_url] = found(archive, post.url)

    assert by_title["folder"] == folder and by_title["matched"] == ["title"]
    assert by_title["snippet"] == "Convoy seen near «Kharkiv»"
    assert by_text["matched"] == ["post text"]
    assert "«Tanks» rolling at «dawn»" in str(by_text["snippet"])
    assert "author" in by_author["matched"]  # type: ignore[operator]
    assert by_url["matched"] == ["url"] and by_url["folder"] == folder


def test_every_word_must_appear_and_a_star_is_a_prefix(
    settings: Settings, fedi: MastodonSim
) -> None:
    folder, _ = archive_post(settings, fedi, "Convoy seen near Kharkiv", "Tanks rolling")
    archive = settings.archive_dir

    assert folders(archive, "convoy", "kharkiv") == [folder]
    assert folders(archive, "convoy", "odesa") == []
    assert folders(archive, "khar*") == [folder]
    assert folders(archive, "khar") == []


def test_the_best_match_comes_first_one_line_per_article(
    settings: Settings, fedi: MastodonSim
) -> None:
    once, _ = archive_post(settings, fedi, "Drone over the port", "Nothing else")
    often, _ = archive_post(settings, fedi, "Drone strike: drone footage", "A drone, again")

    hits = found(settings.archive_dir, "drone")

    assert [h["folder"] for h in hits] == [often, once]


@pytest.mark.parametrize(
    "query", ['"', "AND(", "title:x", "NEAR(", "a OR", '"unbalanced', "*", "(", "-"]
)
def test_fts_syntax_in_plain_words_means_only_itself(
    settings: Settings, fedi: MastodonSim, query: str
) -> None:
    archive_post(settings, fedi, "Quoted words", "text")

    done = embedarc(settings.archive_dir, "search", query)

    assert "Traceback" not in done.output
    assert done.exit_code in (0, 2), done.output
    if done.exit_code == 2:  # nothing but punctuation: nothing to search for
        assert done.output.startswith("Error: nothing to search for")
        assert len(done.output.splitlines()) == 1


def test_a_words_own_quote_marks_do_not_end_it(settings: Settings, fedi: MastodonSim) -> None:
    folder, _ = archive_post(settings, fedi, 'He said "retreat" AND( left', "x")
    assert folders(settings.archive_dir, '"retreat"', "AND(") == [folder]


def test_an_fts_query_that_cannot_be_read_is_one_line_exit_2(
    settings: Settings, fedi: MastodonSim
) -> None:
    archive_post(settings, fedi, "Some title", "text")

    done = embedarc(settings.archive_dir, "search", "--fts", "AND(")

    assert done.exit_code == 2
    assert done.output.startswith("Error: cannot read the search 'AND('")
    assert len(done.output.splitlines()) == 1


def test_an_fts_query_is_read_as_one(settings: Settings, fedi: MastodonSim) -> None:
    strike, _ = archive_post(settings, fedi, "Strike on the depot", "text")
    drill, _ = archive_post(settings, fedi, "Strike drill at the base", "text")
    archive = settings.archive_dir

    assert [h["folder"] for h in found(archive, "--fts", "strike NOT drill")] == [strike]
    assert sorted(map(str, folders(archive, "--fts", "depot OR drill"))) == sorted([strike, drill])


def test_search_prints_what_matched_and_the_words_around(
    settings: Settings, fedi: MastodonSim
) -> None:
    folder, _ = archive_post(settings, fedi, "Convoy seen near Kharkiv", "Tanks rolling")

    done = embedarc(settings.archive_dir, "search", "tanks")

    assert done.exit_code == 0
    head, snippet, count = done.output.splitlines()
    assert head.startswith(folder[-8:])  # the short id `show` and `remove` take
    assert "Convoy seen near Kharkiv" in head and "(post text)" in head
    assert snippet.strip() == "«Tanks» rolling"
    assert count == "1 article"


# -- in step with every write --------------------------------------------------------------


def test_archive_and_run_make_new_articles_searchable(
    simweb: SimWeb, fedi: MastodonSim, archive_dir: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    post = fedi.status(HOST, "bob", [Attachment("image")], text="Flooded streets")
    (tmp_path / "a.txt").write_text(f"Storm hits the coast\n{post.url}\n")
    assert embedarc(archive_dir, "archive", str(tmp_path / "a.txt")).exit_code == 0
    assert embedarc(archive_dir, "sources", "add", str(inbox)).exit_code == 0
    (inbox / "b.txt").write_text("Bridge collapses downtown\nhttps://news.example.org/none\n")
    simweb.page("https://news.example.org/none", "gone", status=404)

    assert embedarc(archive_dir, "run").exit_code == 0

    assert len(folders(archive_dir, "flooded")) == 1
    assert len(folders(archive_dir, "bridge")) == 1
    search_tables_in_step(archive_dir)


def test_archiving_an_article_again_replaces_its_words(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.page("https://news.example.org/old", "gone", status=404)
    simweb.page("https://news.example.org/new", "gone", status=404)
    source = tmp_path / "story.html"
    page = "<html><head><title>{}</title><link rel=canonical href='https://news.example.org/s'>"
    source.write_text(
        page.format("First headline") + "<a href='https://news.example.org/old'>x</a>"
    )
    embedarc(archive_dir, "archive", str(source))
    source.write_text(
        page.format("Second headline") + "<a href='https://news.example.org/new'>y</a>"
    )

    embedarc(archive_dir, "archive", str(source))

    assert folders(archive_dir, "first") == []
    assert len(folders(archive_dir, "second")) == 1
    search_tables_in_step(archive_dir)


def test_remove_takes_an_articles_words_out(settings: Settings, fedi: MastodonSim) -> None:
    gone, post = archive_post(settings, fedi, "Removed story", "Secret words")
    kept, _ = archive_post(settings, fedi, "Kept story", "Other words")
    archive = settings.archive_dir

    assert embedarc(archive, "remove", gone).exit_code == 0

    assert folders(archive, "removed") == [] and folders(archive, "secret") == []
    assert folders(archive, post.url) == []
    assert folders(archive, "story") == [kept]
    search_tables_in_step(archive)


def test_rebuild_index_rebuilds_the_search_tables(settings: Settings, fedi: MastodonSim) -> None:
    folder, _ = archive_post(settings, fedi, "Rebuilt story", "Words of the post")
    archive = settings.archive_dir
    with sqlite3.connect(archive / "index.db") as db:  # the search tables lost, as by a bug
        for table in SEARCHED:
            db.execute(f"insert into [{table}_fts]([{table}_fts]) values('delete-all')")
    assert folders(archive, "rebuilt") == []

    done = embedarc(archive, "rebuild-index")

    assert done.exit_code == 0, done.output
    assert folders(archive, "rebuilt") == [folder] and folders(archive, "post") == [folder]
    search_tables_in_step(archive)


# -- read-only and older archives --------------------------------------------------------------


def test_a_read_only_archive_can_be_searched(
    settings: Settings, fedi: MastodonSim, tmp_path: Path
) -> None:
    folder, _ = archive_post(settings, fedi, "Read only story", "words")

    with read_only_view(settings.archive_dir, tmp_path / "ro") as view:
        done = embedarc(view, "search", "--json", "story")

    assert done.exit_code == 0, done.output
    assert [h["folder"] for h in json.loads(done.output)] == [folder]


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, archive, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    return archive


def test_the_previous_releases_archive_is_searchable_once_migrated(old_archive: Path) -> None:
    [hit] = found(old_archive, "preemptive", "strike")

    assert hit["matched"] == ["title", "url"]
    # The tweet that carries the link is a post now (m005), its text searched too.
    assert found(old_archive, "8xGo7BYVO3")[0]["matched"] == ["post text", "url"]
    assert found(old_archive, "@AuroraIntel")[0]["matched"] == ["author", "url"]
    with sqlite3.connect(old_archive / "index.db") as db:
        applied = {name for (name,) in db.execute("select name from _migrations")}
    assert "m007_search" in applied
    search_tables_in_step(old_archive)


def test_a_read_only_archive_of_the_previous_release_is_searched_as_plain_text(
    old_archive: Path, tmp_path: Path
) -> None:
    with read_only_view(old_archive, tmp_path / "ro") as view:
        plain = embedarc(view, "search", "--json", "Preemptive", "rocket")
        fts = embedarc(view, "search", "--fts", "strike")
        human = embedarc(view, "search", "preemptive")

    [hit] = json.loads(plain.stdout)
    assert plain.exit_code == 0 and hit["matched"] == ["title", "url"]
    assert "«Preemptive»" in hit["snippet"] and "«Rocket»" in hit["snippet"]
    assert "no search tables" in plain.stderr
    assert fts.exit_code == 2 and "no search tables" in fts.output
    assert human.exit_code == 0 and "US Launches Preemptive Strike" in human.stdout


def test_a_row_replaced_on_conflict_leaves_the_search_tables_too(
    settings: Settings, fedi: MastodonSim
) -> None:
    from embedarc.keeping.index import Index

    folder, post = archive_post(settings, fedi, "Replaced post", "Words before")
    archive = settings.archive_dir
    with Index(archive / "index.db") as index:  # a writer that replaces rows whole
        row = index.db.table("posts").get(post.key)
        index.db.table("posts").insert({**row, "text": "Words after"}, pk="key", replace=True)

    search_tables_in_step(archive)
    assert folders(archive, "before") == []
    assert folders(archive, "after") == [folder]
