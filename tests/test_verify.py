"""`verify`: every stored file re-hashed, every folder and index row checked against them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.job.pipeline import Report
from embedarc.keeping.store import Store
from embedarc.upkeep.verify import verify
from tests.helpers import make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, Video


def archived(settings: Settings, simweb: SimWeb, seq: int = 1) -> Report:
    """An archive with one article citing one tweet with a video and a photo."""
    tweet = make_tweet(simweb, seq, [Video(160, 90), Photo(64, 48)])
    [report] = run(settings, text_input(f"Story {seq}\n{tweet.status_url}\n", f"s{seq}.txt"))
    assert report.folder is not None and not report.failed, report.summary()
    return report


def store_files(archive_dir: Path) -> list[Path]:
    return sorted(p for p in (archive_dir / "media").rglob("*") if p.is_file())


def paths(problems: Any) -> set[str]:
    return {p.path for p in problems}


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_freshly_archived_article_is_sound(simweb: SimWeb, settings: Settings) -> None:
    archived(settings, simweb)

    report = verify(settings.archive_dir)

    assert report.sound, report.as_dict()
    assert report.articles_checked == 1
    assert report.bytes_checked >= sum(p.stat().st_size for p in store_files(settings.archive_dir))


def test_hard_linked_folder_media_are_hashed_once(simweb: SimWeb, settings: Settings) -> None:
    report = archived(settings, simweb)
    folder_media = sorted((settings.archive_dir / report.folder / "media").iterdir())  # type: ignore[operator]
    stored = store_files(settings.archive_dir)
    assert {p.stat().st_ino for p in folder_media} == {p.stat().st_ino for p in stored}

    result = verify(settings.archive_dir)

    assert result.files_checked == len(stored) == 2
    assert result.bytes_checked == sum(p.stat().st_size for p in stored)


def test_stored_file_whose_bytes_do_not_match_its_name_is_altered(
    simweb: SimWeb, settings: Settings
) -> None:
    archived(settings, simweb)
    victim = store_files(settings.archive_dir)[0]
    flip_a_byte(victim)

    report = verify(settings.archive_dir)

    assert not report.sound
    assert victim.relative_to(settings.archive_dir).as_posix() in paths(report.altered)
    assert not report.missing


def test_copied_folder_media_with_other_bytes_is_altered(
    simweb: SimWeb, settings: Settings
) -> None:
    report = archived(settings, simweb)
    [entry, *_] = sidecar_of(settings.archive_dir, report)["media"]
    copy = settings.archive_dir / entry["article_path"]
    copy.unlink()  # a copy instead of a hard link, then damaged: only the copy is wrong
    shutil.copyfile(settings.archive_dir / entry["path"], copy)
    flip_a_byte(copy)

    result = verify(settings.archive_dir)

    assert paths(result.altered) == {entry["article_path"]}
    assert result.files_checked == 3


def test_stored_file_no_article_refers_to_is_unindexed(simweb: SimWeb, settings: Settings) -> None:
    archived(settings, simweb)
    store = Store(settings.archive_dir)
    stray = store.commit(store.receive([b"nobody cites me"], max_size=1000), "bin")

    report = verify(settings.archive_dir)

    assert paths(report.unindexed) == {store.relative(stray)}
    assert not report.altered and not report.missing


def test_index_row_pointing_at_a_missing_file_is_missing(
    simweb: SimWeb, settings: Settings
) -> None:
    archived(settings, simweb)
    nowhere = "media/00/" + "0" * 64 + ".mp4"
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        db.execute("update media set path = ? where mime like 'video/%'", [nowhere])

    result = verify(settings.archive_dir)

    [problem] = result.missing
    assert problem.path == nowhere and "index row" in problem.reason


def test_deleted_stored_file_is_missing(simweb: SimWeb, settings: Settings) -> None:
    report = archived(settings, simweb)
    [entry, *_] = sidecar_of(settings.archive_dir, report)["media"]
    (settings.archive_dir / entry["path"]).unlink()

    result = verify(settings.archive_dir)

    assert entry["path"] in paths(result.missing)
    assert not result.altered


def test_article_absent_from_the_index_is_unindexed(simweb: SimWeb, settings: Settings) -> None:
    report = archived(settings, simweb)
    with sqlite3.connect(settings.archive_dir / "index.db") as db:
        db.execute("pragma foreign_keys=off")
        db.execute("delete from articles")

    result = verify(settings.archive_dir)

    assert f"{report.folder}/article.json" in paths(result.unindexed)


def test_index_row_for_an_article_without_folder_is_missing(
    simweb: SimWeb, settings: Settings
) -> None:
    report = archived(settings, simweb)
    shutil.rmtree(settings.archive_dir / report.folder)  # type: ignore[operator]

    result = verify(settings.archive_dir)

    assert f"{report.folder}/article.json" in paths(result.missing)


def test_changed_original_article_bytes_are_altered(simweb: SimWeb, settings: Settings) -> None:
    report = archived(settings, simweb)
    original = settings.archive_dir / report.folder / "article.txt"  # type: ignore[operator]
    original.write_bytes(original.read_bytes() + b"edited later\n")

    result = verify(settings.archive_dir)

    assert paths(result.altered) == {f"{report.folder}/article.txt"}


def test_unparseable_sidecar_is_altered(simweb: SimWeb, settings: Settings) -> None:
    report = archived(settings, simweb)
    sidecar = settings.archive_dir / report.folder / "article.json"  # type: ignore[operator]
    sidecar.write_bytes(sidecar.read_bytes()[:100])

    result = verify(settings.archive_dir)

    assert f"{report.folder}/article.json" in paths(result.altered)


def test_sidecar_path_leading_out_of_the_archive_is_not_followed(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    report = archived(settings, simweb)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    sidecar = settings.archive_dir / report.folder / "article.json"  # type: ignore[operator]
    data = json.loads(sidecar.read_text())
    data["media"][0]["path"] = "../secret.txt"
    sidecar.write_text(json.dumps(data))

    result = verify(settings.archive_dir)

    assert f"{report.folder}/article.json" in paths(result.altered)
    assert all("secret" not in p.path for p in result.missing + result.unindexed)


def test_partial_downloads_in_tmp_are_ignored(simweb: SimWeb, settings: Settings) -> None:
    archived(settings, simweb)
    (settings.archive_dir / "tmp" / "abc.part").write_bytes(b"half a video")

    assert verify(settings.archive_dir).sound


def test_progress_reaches_the_total(simweb: SimWeb, settings: Settings) -> None:
    archived(settings, simweb)
    seen: list[tuple[int, int]] = []

    verify(settings.archive_dir, on_progress=lambda done, total: seen.append((done, total)))

    assert seen and seen[-1][0] == seen[-1][1] > 0


def test_verify_command_prints_a_summary_and_exits_0_when_sound(
    simweb: SimWeb, settings: Settings
) -> None:
    archived(settings, simweb)

    result = CliRunner().invoke(cli, ["verify", "--archive-dir", str(settings.archive_dir)])

    assert result.exit_code == 0, result.output
    assert "sound: 1 articles, 2 files" in result.output


def test_verify_command_json_lists_problems_and_exits_1(simweb: SimWeb, settings: Settings) -> None:
    archived(settings, simweb)
    victim = store_files(settings.archive_dir)[0]
    flip_a_byte(victim)

    result = CliRunner().invoke(
        cli, ["verify", "--json", "--archive-dir", str(settings.archive_dir)]
    )

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["sound"] is False
    assert victim.relative_to(settings.archive_dir).as_posix() in {
        p["path"] for p in report["altered"]
    }


def test_verify_command_on_a_folder_that_is_no_archive_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["verify", "--archive-dir", str(tmp_path / "nothing")])

    assert result.exit_code == 2
    assert "there is no archive" in result.output


def test_a_sidecar_value_that_does_not_fit_is_listed_as_irregular_and_leaves_it_sound(
    simweb: SimWeb, settings: Settings
) -> None:
    """A value of the wrong type (an edit by hand, a later release) is read as absent and kept
    as written: `verify` says where, and the archive is still sound."""
    report = archived(settings, simweb)
    path = settings.archive_dir / report.folder / "article.json"  # type: ignore[operator]
    data = json.loads(path.read_text())
    data["article"]["title"] = 42
    data["links"][0]["attribution"] = ["not", "text"]
    path.write_text(json.dumps(data, indent=2))
    archive = ["--archive-dir", str(settings.archive_dir)]

    shown = CliRunner().invoke(cli, ["verify", *archive])
    as_json = json.loads(CliRunner().invoke(cli, ["verify", "--json", *archive]).stdout)

    assert shown.exit_code == 0, shown.output
    assert "1 with irregular values" in shown.output
    assert f"irregular: {report.folder}/article.json: " in shown.output
    [irregular] = as_json["irregular"]
    assert as_json["sound"] is True and irregular["path"] == f"{report.folder}/article.json"
    assert "Sidecar.article.title: str expected, not int" in irregular["reason"]
    assert ".attribution:" in irregular["reason"] and irregular["reason"].endswith("as written")
    assert json.loads(path.read_text()) == data  # verify only reads
