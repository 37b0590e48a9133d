"""The archive carries Datasette metadata, and Datasette itself reads a real archive with it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette

from embedarc.config import Settings
from embedarc.keeping.catalog import DATABASE, METADATA_NAME, QUERIES, TABLES, metadata_json
from tests.helpers import embedarc, run, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment, SimStatus

HOST = "social.example"
DOWN = "https://news.example.org/down"


@pytest.fixture
def world(simweb: SimWeb, settings: Settings) -> tuple[Path, SimStatus, SimStatus]:
    """An archive with a link that failed for now, a post with a video, and a post whose
    original file `check` then found dead."""
    fedi = sim.install(simweb)
    fedi.instance(HOST)
    video = fedi.status(HOST, "alice", [Attachment("video", 64, 48, 1.0)], text="Convoy")
    photo = fedi.status(HOST, "bob", [Attachment("image", 80, 60)], text="Smoke")
    simweb.fail(DOWN, 503)
    run(settings, text_input(f"Convoy on the road\n{video.url}\n{DOWN}\n", "a.txt"))
    run(settings, text_input(f"Smoke over the port\n{photo.url}\n", "b.txt"))
    archive = settings.archive_dir
    assert embedarc(archive, "check").exit_code == 0
    simweb.fail(photo.files[0].url, 404)
    assert embedarc(archive, "check").exit_code == 1  # newly dead
    return archive, video, photo


def ask(archive: Path, path: str) -> Any:
    metadata = json.loads((archive / METADATA_NAME).read_text())

    async def get() -> Any:
        ds = Datasette([str(archive / "index.db")], metadata=metadata)
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(get())


def test_the_canned_query_for_links_that_need_another_try(
    world: tuple[Path, SimStatus, SimStatus],
) -> None:
    archive, _, _ = world

    rows = ask(archive, f"/{DATABASE}/links_that_need_another_try.json?_shape=array")

    [row] = rows
    assert row["url"] == DOWN and row["outcome"] == "failed" and row["attempts"] == 1
    assert row["title"] == "Convoy on the road" and row["next_attempt"]


def test_the_canned_query_for_originals_that_died(
    world: tuple[Path, SimStatus, SimStatus],
) -> None:
    archive, _, photo = world

    [row] = ask(archive, f"/{DATABASE}/originals_that_died.json?_shape=array")

    assert row["url"] == photo.url and row["title"] == "Smoke over the port"
    assert row["first_dead"] and row["files_kept"] == 1


def test_the_canned_query_for_videos_by_author(world: tuple[Path, SimStatus, SimStatus]) -> None:
    archive, video, _ = world
    author = f"@alice@{HOST}"

    everyone = ask(archive, f"/{DATABASE}/videos_by_author.json?_shape=array")
    alice = ask(archive, f"/{DATABASE}/videos_by_author.json?_shape=array&author={author}")
    bob = ask(archive, f"/{DATABASE}/videos_by_author.json?_shape=array&author=@bob@{HOST}")

    assert everyone == alice and bob == []
    [row] = alice
    assert row["author"] == author and row["sha256"] == video.files[0].sha256
    assert (archive / row["path"]).is_file() and row["duration"] == pytest.approx(1.0, abs=0.1)


def test_datasette_facets_links_by_outcome_and_searches_titles(
    world: tuple[Path, SimStatus, SimStatus],
) -> None:
    archive, _, _ = world

    links = ask(archive, f"/{DATABASE}/links.json")
    titles = ask(archive, f"/{DATABASE}/articles.json?_search=port&_shape=array")

    outcome = {r["value"]: r["count"] for r in links["facet_results"]["outcome"]["results"]}
    assert outcome == {"archived": 2, "failed": 1}
    assert [row["title"] for row in titles] == ["Smoke over the port"]


def test_the_metadata_names_only_tables_and_columns_that_exist(settings: Settings) -> None:
    run(settings, text_input("Nothing here\n", "n.txt"))  # a real archive: every migration
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        real = {
            table: {c[1] for c in db.execute(f"pragma table_info([{table}])")}
            for (table,) in db.execute("select name from sqlite_master where type = 'table'")
        }
    for table, (_, label, facets, sort_desc, columns) in TABLES.items():
        assert table in real, table
        named = {*columns, *facets, *(c for c in (label, sort_desc) if c)}
        assert named <= real[table], (table, named - real[table])
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        for query in QUERIES.values():  # each runs: it names only what exists
            db.execute(query["sql"], {"author": ""}).fetchall()


def test_archive_writes_the_metadata_and_keeps_it_current(settings: Settings) -> None:
    path = settings.archive_dir / METADATA_NAME
    run(settings, text_input("Nothing here\n", "n.txt"))
    assert path.read_bytes() == metadata_json()
    path.write_text("{}")

    assert embedarc(settings.archive_dir, "rebuild-index").exit_code == 0

    assert path.read_bytes() == metadata_json()
    described = json.loads(path.read_text())["databases"][DATABASE]
    assert described["tables"]["links"]["facets"] == ["outcome", "kind", "found_in"]
    assert set(described["queries"]) == {
        "links_that_need_another_try", "originals_that_died", "videos_by_author",
    }  # fmt: skip


def test_the_metadata_is_not_written_through_a_link(settings: Settings, tmp_path: Path) -> None:
    run(settings, text_input("Nothing here\n", "n.txt"))
    outside = tmp_path / "outside.json"
    outside.write_text("mine")
    path = settings.archive_dir / METADATA_NAME
    path.unlink()
    path.symlink_to(outside)
    (tmp_path / "m.txt").write_text("More\n")

    done = embedarc(settings.archive_dir, "archive", str(tmp_path / "m.txt"))

    assert done.exit_code == 1 and "refusing to write through a symlink" in done.output
    assert outside.read_text() == "mine"
