"""`rebuild-index` and `remove`: the index rebuilt from the sidecars, an article taken out."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.errors import UsageError
from embedarc.job.pipeline import Report
from embedarc.upkeep.maintenance import rebuild_index, remove_article
from embedarc.upkeep.verify import verify
from tests.helpers import html_input, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, TweetSpec, Video

DERIVED = ("articles", "links", "hops", "posts", "media", "media_sources", "link_media")
STORY_URL = "https://news.example.org/story"


def story(settings: Settings, tweet: TweetSpec, title: str) -> Report:
    [report] = run(settings, text_input(f"{title}\n{tweet.status_url}\n", f"{title}.txt"))
    assert report.folder is not None and not report.failed, report.summary()
    return report


def counts(archive_dir: Path) -> dict[str, int]:
    db = sqlite_utils.Database(archive_dir / "index.db")
    try:
        return {name: db[name].count for name in DERIVED}
    finally:
        db.close()


def stored(archive_dir: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (archive_dir / "media").rglob("*") if p.is_file()}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


# -- rebuild-index ---------------------------------------------------------------------------


def test_rebuild_index_restores_every_derived_row_from_the_sidecars(
    simweb: SimWeb, settings: Settings
) -> None:
    story(settings, make_tweet(simweb, 1, [Video(160, 90)]), "First")
    story(settings, make_tweet(simweb, 2, [Photo(64, 48), Photo(48, 64)]), "Second")
    before = counts(settings.archive_dir)
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        db.execute("pragma foreign_keys=off")
        for name in DERIVED:
            db.execute(f"delete from {name}")

    assert rebuild_index(settings.archive_dir) == 2

    assert counts(settings.archive_dir) == before
    assert verify(settings.archive_dir).sound


def test_rebuild_index_recreates_a_deleted_index(simweb: SimWeb, settings: Settings) -> None:
    story(settings, make_tweet(simweb, 1, [Video(160, 90)]), "First")
    before = counts(settings.archive_dir)
    for path in settings.archive_dir.glob("index.db*"):
        path.unlink()

    rebuild_index(settings.archive_dir)

    assert counts(settings.archive_dir) == before


def test_rebuild_index_keeps_tables_not_derived_from_sidecars(
    simweb: SimWeb, settings: Settings
) -> None:
    story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "First")
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        db.execute("create table notes (id integer primary key, text text)")
        db.execute("insert into notes (text) values ('keep me')")

    rebuild_index(settings.archive_dir)

    index = sqlite_utils.Database(settings.archive_dir / "index.db")
    assert list(index.table("notes").rows) == [{"id": 1, "text": "keep me"}]
    assert index.table("_migrations").count >= 1


def test_rebuild_index_skips_a_corrupt_sidecar_and_indexes_the_rest(
    simweb: SimWeb, settings: Settings
) -> None:
    story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "First")
    broken = story(settings, make_tweet(simweb, 2, [Photo(48, 64)]), "Second")
    sidecar = settings.archive_dir / str(broken.folder) / "article.json"
    sidecar.write_text("{not json")
    skipped: list[tuple[Path, str]] = []

    count = rebuild_index(settings.archive_dir, on_skipped=lambda p, why: skipped.append((p, why)))

    assert count == 1
    assert [path for path, _ in skipped] == [sidecar]
    assert counts(settings.archive_dir)["articles"] == 1


def test_rebuild_index_skips_a_sidecar_missing_required_fields(
    simweb: SimWeb, settings: Settings
) -> None:
    report = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "First")
    sidecar = settings.archive_dir / str(report.folder) / "article.json"
    data = json.loads(sidecar.read_text())
    del data["article"]["content_sha256"]
    sidecar.write_text(json.dumps(data))
    skipped: list[str] = []

    assert rebuild_index(settings.archive_dir, on_skipped=lambda _p, why: skipped.append(why)) == 0

    assert skipped == ["the article has no content_sha256"]
    assert counts(settings.archive_dir)["articles"] == 0


def test_rebuild_index_command_reports_a_skipped_sidecar_and_exits_1(
    simweb: SimWeb, settings: Settings
) -> None:
    report = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "First")
    (settings.archive_dir / str(report.folder) / "article.json").write_text("[]")

    code, output = invoke("rebuild-index", "--archive-dir", str(settings.archive_dir))

    assert code == 1
    assert "skipped" in output and "article.json has no article" in output
    assert "Traceback" not in output


# -- remove ----------------------------------------------------------------------------------


def test_remove_takes_out_the_folder_rows_and_media_and_leaves_the_archive_sound(
    simweb: SimWeb, settings: Settings
) -> None:
    kept = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "Kept")
    doomed = story(settings, make_tweet(simweb, 2, [Video(160, 90)]), "Doomed")
    doomed_media = {m["sha256"] for m in sidecar_of(settings.archive_dir, doomed)["media"]}
    kept_counts = counts(settings.archive_dir)

    removal = remove_article(settings.archive_dir, str(doomed.folder).split("/")[-1])

    assert removal.folder == doomed.folder
    assert not (settings.archive_dir / str(doomed.folder)).exists()
    assert stored(settings.archive_dir).isdisjoint(doomed_media)
    after = counts(settings.archive_dir)
    assert after["articles"] == 1 and after["links"] == kept_counts["links"] - 1
    assert after["posts"] == 1 and after["media"] == 1
    assert (settings.archive_dir / str(kept.folder) / "article.json").is_file()
    assert verify(settings.archive_dir).sound


def test_remove_keeps_media_another_article_cites(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 1, [Video(160, 90)])
    story(settings, tweet, "One")
    other = story(settings, tweet, "Two")
    [sha] = {m["sha256"] for m in sidecar_of(settings.archive_dir, other)["media"]}

    removal = remove_article(settings.archive_dir, str(other.folder))

    assert removal.removed_media == ()
    assert [Path(p).name.split(".")[0] for p in removal.kept_media] == [sha]
    assert sha in stored(settings.archive_dir)
    assert verify(settings.archive_dir).sound


def test_remove_finds_an_article_by_its_canonical_url(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 1, [Photo(64, 48)])
    page = (
        f'<html><head><title>Story</title><link rel="canonical" href="{STORY_URL}"></head>'
        f'<body><article><a href="{tweet.status_url}">footage</a></article></body></html>'
    )
    [report] = run(settings, html_input(page))

    removal = remove_article(settings.archive_dir, STORY_URL)

    assert removal.folder == report.folder
    assert verify(settings.archive_dir).sound


def test_remove_finds_an_article_by_its_id(simweb: SimWeb, settings: Settings) -> None:
    report = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "One")
    article_id = sidecar_of(settings.archive_dir, report)["article"]["id"]

    assert remove_article(settings.archive_dir, article_id).folder == report.folder


def test_remove_dry_run_lists_and_changes_nothing(simweb: SimWeb, settings: Settings) -> None:
    report = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "One")
    before = counts(settings.archive_dir), stored(settings.archive_dir)

    removal = remove_article(settings.archive_dir, str(report.folder), dry_run=True)

    assert len(removal.removed_media) == 1
    assert (counts(settings.archive_dir), stored(settings.archive_dir)) == before
    assert (settings.archive_dir / str(report.folder)).is_dir()


def test_remove_of_an_unknown_article_is_a_usage_error(simweb: SimWeb, settings: Settings) -> None:
    story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "One")

    with pytest.raises(UsageError, match="no article"):
        remove_article(settings.archive_dir, "https://nowhere.example.org/x")


def test_remove_command_prints_what_it_removed(simweb: SimWeb, settings: Settings) -> None:
    report = story(settings, make_tweet(simweb, 1, [Photo(64, 48)]), "One")
    [entry] = sidecar_of(settings.archive_dir, report)["media"]

    code, output = invoke("remove", str(report.folder), "--archive-dir", str(settings.archive_dir))

    assert code == 0, output
    assert f"removed {report.folder}" in output
    assert f"removed {entry['path']}" in output


def test_remove_command_for_an_unknown_article_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "archive" / "articles").mkdir(parents=True)

    code, output = invoke("remove", "nothing-here", "--archive-dir", str(tmp_path / "archive"))

    assert code == 2
    assert "no article" in output and "Traceback" not in output


def test_remove_and_rebuild_refuse_while_a_run_holds_the_archive(
    simweb: SimWeb, settings: Settings
) -> None:
    from embedarc.errors import ArchiveError
    from embedarc.keeping.lock import run_lock

    [report] = run(settings, text_input("Kept\nno links\n"))
    with run_lock(settings.archive_dir) as busy:
        assert busy is None  # this test holds it, as a running `run` would
        with pytest.raises(ArchiveError, match="try later"):
            remove_article(settings.archive_dir, report.article_id or "")
        with pytest.raises(ArchiveError, match="try later"):
            rebuild_index(settings.archive_dir)

    assert (settings.archive_dir / (report.folder or "")).is_dir()
