"""An archive made by the previous release (0.1.0) opens with this one, losing nothing.

`tests/fixtures/archive-0.1.0/` was made by that release from the bundled example; here a copy
is read, migrated, verified, rebuilt and archived into again by the current code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from embedarc.verify import verify
from tests.helpers import embedarc
from tests.simweb import SimWeb, scenarios

FIXTURE = Path(__file__).parent / "fixtures" / "archive-0.1.0"
DERIVED = ("articles", "links", "hops", "tweets", "media", "media_sources", "link_media")


def rows(archive: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(archive / "index.db") as db:
        columns = [c[1] for c in db.execute(f"pragma table_info([{table}])")]
        old = [c for c in columns if c not in ("post",)]  # columns the migration added
        return sorted(db.execute(f"select {', '.join(old)} from [{table}]"))


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(FIXTURE, archive, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    return archive


def sidecar(archive: Path) -> dict[str, Any]:
    [path] = (archive / "articles").glob("*/article.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_previous_releases_archive_is_migrated_keeping_every_row(old_archive: Path) -> None:
    before = {table: rows(old_archive, table) for table in DERIVED}

    done = embedarc(old_archive, "status", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["articles"] == 1 and report["links"] == {"archived": 5}
    assert {table: rows(old_archive, table) for table in DERIVED} == before
    with sqlite3.connect(old_archive / "index.db") as db:
        applied = {name for (name,) in db.execute("select name from _migrations")}
    assert {"m003_source_item_retries", "m004_posts"} <= applied


def test_the_previous_releases_archive_is_sound_and_rebuilds_to_the_same_rows(
    old_archive: Path,
) -> None:
    assert verify(old_archive).sound
    embedarc(old_archive, "status")  # migrated
    before = {table: rows(old_archive, table) for table in DERIVED}

    done = embedarc(old_archive, "rebuild-index")

    assert done.exit_code == 0, done.output
    assert {table: rows(old_archive, table) for table in DERIVED} == before
    assert verify(old_archive).sound


def test_archiving_the_same_article_again_asks_nothing_and_loses_nothing(
    simweb: SimWeb, old_archive: Path, tmp_path: Path
) -> None:
    world = scenarios.example(simweb)
    old = sidecar(old_archive)
    simweb.clear_requests()

    done = embedarc(old_archive, "archive", str(world["text_file"]))

    assert done.exit_code == 0, done.output
    media_hosts = {"pbs.twimg.com", "video.twimg.com", "cdn.syndication.twimg.com"}
    assert [r.url for r in simweb.requests if r.host in media_hosts] == []
    new = sidecar(old_archive)
    assert [e["url"] for e in new["links"]] == [e["url"] for e in old["links"]]
    assert {m["sha256"] for m in new["media"]} == {m["sha256"] for m in old["media"]}
    assert verify(old_archive).sound
