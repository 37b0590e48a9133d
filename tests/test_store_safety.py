"""The store's writes: a failed article write takes back what it added, and no write goes
through a symbolic link inside the archive (the archive folder itself may be one)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.keeping.index import Index
from embedarc.keeping.store import Store
from tests.simweb import SimWeb, scenarios

CLIP_URL = "https://media.example.org/clip.mp4"


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def archive(archive_dir: Path, *sources: str | Path) -> Result:
    return CliRunner().invoke(
        cli,
        ["archive", "--archive-dir", str(archive_dir), *map(str, sources)],
        env={"EMBEDARC_RETRY_PAUSE": "0"},  # retries within the run without waiting
        catch_exceptions=False,
    )


def verify(archive_dir: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["verify", "--json", "--archive-dir", str(archive_dir)], catch_exceptions=False
    )
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (0 if report["sound"] else 1)
    return report


def example(simweb: SimWeb) -> tuple[Path, set[str]]:
    """The bundled example article, and the SHA-256s of the tweets' footage it cites."""
    world = scenarios.example(simweb)
    footage = {f.sha256 for f in [*world["aurora"].files, *world["second"].files]}
    return Path(world["text_file"]), footage


def full_disk_at(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Path]:
    """Make Store.write_file fail with ENOSPC for files called `name`; returns those tried."""
    real = Store.write_file
    tried: list[Path] = []

    def write_file(self: Store, path: Path, data: bytes, *args: Any, **kwargs: Any) -> None:
        if path.name == name:
            tried.append(path)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(self, path, data, *args, **kwargs)

    monkeypatch.setattr(Store, "write_file", write_file)
    return tried


def stored(archive_dir: Path) -> list[Path]:
    return files_in(archive_dir / "media")


def stored_hashes(archive_dir: Path) -> set[str]:
    return {p.name.split(".")[0] for p in stored(archive_dir)}


# -- a full disk while an article is written ---------------------------------------------------


def test_full_disk_at_the_sidecar_leaves_the_archive_sound_and_a_later_run_completes_it(
    simweb: SimWeb, archive_dir: Path
) -> None:
    source, footage = example(simweb)
    # The media are in the store, the evidence and origin page in the folder: then the disk is
    # full as the sidecar that cites them is written.
    with pytest.MonkeyPatch.context() as disk:
        tried = full_disk_at(disk, "article.json")
        failed = archive(archive_dir, source)

    assert tried and failed.exit_code == 1
    assert "No space left on device" in failed.output and "Traceback" not in failed.output
    report = verify(archive_dir)
    assert report["sound"], report
    assert stored(archive_dir) == [] and files_in(archive_dir / "articles") == []

    done = archive(archive_dir, source)

    assert done.exit_code == 0, done.output
    report = verify(archive_dir)
    assert report["sound"] and report["articles_checked"] == 1, report
    assert footage <= stored_hashes(archive_dir)


def test_full_disk_at_the_index_puts_back_the_previous_sidecar(
    simweb: SimWeb, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = example(simweb)
    assert archive(archive_dir, source).exit_code == 0
    [sidecar] = (archive_dir / "articles").glob("*/article.json")
    before = sidecar.read_bytes()
    # Archived again later, and written up to its index rows when SQLite finds the disk full.
    monkeypatch.setattr("embedarc.job.pipeline.now", lambda: "2030-01-01T00:00:00.000Z")
    written: list[bytes] = []

    def no_space(self: Index, data: dict[str, Any]) -> None:
        written.append(sidecar.read_bytes())
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Index, "write_article", no_space)
    failed = archive(archive_dir, source)

    assert failed.exit_code == 1
    assert written and written[0] != before  # the new sidecar was in place
    assert "database or disk is full" in failed.output and "Traceback" not in failed.output
    assert sidecar.read_bytes() == before
    assert [p for p in sidecar.parent.iterdir() if p.name.startswith(".")] == []
    report = verify(archive_dir)
    assert report["sound"], report


def test_full_disk_keeps_stored_files_an_earlier_article_cites(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = example(simweb)
    assert archive(archive_dir, source).exit_code == 0
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in stored(archive_dir)}
    # Another article citing the same footage fails to be written: the files stay.
    other = tmp_path / "other.txt"
    other.write_text("Another story\n" + source.read_text())
    full_disk_at(monkeypatch, "article.json")

    assert archive(archive_dir, other).exit_code == 1

    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in stored(archive_dir)} == before
    report = verify(archive_dir)
    assert report["sound"] and report["articles_checked"] == 1, report


# -- symbolic links inside the archive ---------------------------------------------------------


def first_folder(archive_dir: Path) -> str:
    [folder] = (archive_dir / "articles").iterdir()
    return folder.relative_to(archive_dir).as_posix()


@pytest.mark.parametrize(
    "link",
    ["media", "tmp", "articles", "{folder}", "{folder}/media", "{folder}/evidence"],
)
def test_a_link_inside_the_archive_is_not_written_through(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, link: str
) -> None:
    source, _ = example(simweb)
    assert archive(archive_dir, source).exit_code == 0  # a first run made the folders
    name = link.format(folder=first_folder(archive_dir))
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(archive_dir / name)
    (archive_dir / "index.db").unlink()  # nothing known: everything is written again
    (archive_dir / name).symlink_to(outside, target_is_directory=True)

    result = archive(archive_dir, source)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"Error: refusing to write through a symlink: {archive_dir / name}", lines
    assert "Traceback" not in result.output
    assert list(outside.iterdir()) == []


def test_a_linked_sidecar_is_not_written_through(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    source, _ = example(simweb)
    assert archive(archive_dir, source).exit_code == 0
    sidecar = archive_dir / first_folder(archive_dir) / "article.json"
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(b"{}")
    sidecar.unlink()
    sidecar.symlink_to(elsewhere)

    result = archive(archive_dir, source)

    assert result.exit_code == 1
    assert f"refusing to write through a symlink: {sidecar}" in result.output
    assert elsewhere.read_bytes() == b"{}" and sidecar.is_symlink()


def test_a_linked_partial_download_is_not_written_through(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.file(CLIP_URL, b"\x00\x00\x00\x18ftypmp42" + bytes(4096), "video/mp4")
    (tmp_path / "a.txt").write_text(f"Clip\n{CLIP_URL}\n")
    (archive_dir / "tmp").mkdir(parents=True)
    part = Store(archive_dir).partial_path(CLIP_URL)
    target = tmp_path / "target"
    part.symlink_to(target)

    result = archive(archive_dir, tmp_path / "a.txt")

    assert result.exit_code == 1
    assert f"refusing to write through a symlink: {part}" in result.output
    assert not target.exists()


def test_the_archive_folder_itself_may_be_a_link(
    simweb: SimWeb, tmp_path: Path, archive_dir: Path
) -> None:
    real = tmp_path / "elsewhere" / "archive"
    real.mkdir(parents=True)
    archive_dir.symlink_to(real, target_is_directory=True)
    source, footage = example(simweb)

    assert archive(archive_dir, source).exit_code == 0
    assert archive(archive_dir, source).exit_code == 0  # and again, with everything known

    assert footage <= stored_hashes(real)
    report = verify(archive_dir)
    assert report["sound"] and report["articles_checked"] == 1, report


@pytest.mark.parametrize("link", ["tmp", "{folder}"])
def test_remove_does_not_move_or_delete_through_a_link(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, link: str
) -> None:
    source, _ = example(simweb)
    assert archive(archive_dir, source).exit_code == 0
    folder = first_folder(archive_dir)
    outside = tmp_path / "outside"
    shutil.copytree(archive_dir / link.format(folder=folder), outside)
    before = sorted(p.relative_to(outside) for p in outside.rglob("*"))
    shutil.rmtree(archive_dir / link.format(folder=folder))
    (archive_dir / link.format(folder=folder)).symlink_to(outside, target_is_directory=True)

    result = CliRunner().invoke(cli, ["remove", folder, "--archive-dir", str(archive_dir)])

    assert result.exit_code == 1
    assert "refusing to write through a symlink" in result.output
    assert sorted(p.relative_to(outside) for p in outside.rglob("*")) == before


@pytest.mark.parametrize("planted", ["link to a copy", "pipe"])
def test_verify_never_reads_a_stored_file_through_a_link_or_from_a_pipe(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, planted: str
) -> None:
    """A stored file replaced by a link (to a copy with the same bytes, or to /dev/zero) or by
    a pipe is not the archive's file: verify says so, and never reads through it (a link to
    /dev/zero or a pipe would keep it waiting for ever)."""
    text, _ = example(simweb)
    assert archive(archive_dir, text).exit_code == 0
    target = stored(archive_dir)[0]
    copy = tmp_path / "copy"
    shutil.copyfile(target, copy)
    target.unlink()
    if planted == "pipe":
        os.mkfifo(target)
    else:
        target.symlink_to(copy)

    report = verify(archive_dir)

    assert not report["sound"]
    assert target.relative_to(archive_dir).as_posix() in json.dumps(report)
