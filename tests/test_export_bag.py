"""`export --bag`: one BagIt bag (RFC 8493) per article, checked by the bagit library and tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.job.pipeline import Report
from embedarc.network.capture_record import RECORD
from tests.helpers import STORY, archive_world, export, wacz_validate
from tests.simweb import SimWeb

BAGIT = Path(sys.executable).with_name("bagit.py")


def bagit_validate(bag: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BAGIT), "--validate", str(bag)], capture_output=True, text=True)


@pytest.fixture
def world(settings: Settings, simweb: SimWeb) -> tuple[Report, dict[str, Any]]:
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    (settings.archive_dir / "embedarc.toml").write_text(
        'source_organization = "Example Newsroom Archive"\n'
    )
    return archive_world(settings, simweb)


def bag_of(settings: Settings, report: Report, bags: Path) -> tuple[Result, Path]:
    result = export(settings.archive_dir, "--bag", str(bags), str(report.article_id))
    return result, bags / Path(str(report.folder)).name


def test_a_bag_validates_and_fails_once_one_byte_changes(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    result, bag = bag_of(settings, report, tmp_path / "bags")

    assert result.exit_code == 0, result.output
    bagit.Bag(str(bag)).validate()  # raises BagValidationError when it does not hold
    checked = bagit_validate(bag)
    assert checked.returncode == 0, checked.stderr
    assert "is valid" in checked.stderr

    media = next((bag / "data" / "media").iterdir())
    data = bytearray(media.read_bytes())
    data[len(data) // 2] ^= 0x01
    media.write_bytes(bytes(data))

    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag)).validate()
    assert bagit_validate(bag).returncode != 0
    # A copy: the archive's own files are untouched.
    verified = CliRunner().invoke(
        cli, ["verify", "--archive-dir", str(settings.archive_dir)], catch_exceptions=False
    )
    assert verified.exit_code == 0, verified.output


def test_a_bag_holds_the_folder_and_the_wacz_with_both_manifests_and_bag_info(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    folder = settings.archive_dir / str(report.folder)
    (folder / "timestamps").mkdir()
    (folder / "timestamps" / "article.json.tsr").write_bytes(b"token")  # whatever it holds

    _, bag = bag_of(settings, report, tmp_path / "bags")

    payload = {p.relative_to(bag / "data").as_posix() for p in (bag / "data").rglob("*")}
    name = Path(str(report.folder)).name
    expected = {"article.html", "article.json", RECORD, "timestamps/article.json.tsr"}
    assert expected | {f"{name}.wacz"} <= payload
    assert any(p.startswith("media/") for p in payload)
    assert any(p.startswith("evidence/") for p in payload)
    assert (bag / "manifest-sha256.txt").is_file() and (bag / "manifest-sha512.txt").is_file()
    info = bagit.Bag(str(bag)).info
    assert info["External-Identifier"] == STORY
    assert info["Source-Organization"] == "Example Newsroom Archive"
    assert info["Embedarc-Capture-Start"] <= info["Embedarc-Capture-End"]
    assert info["Embedarc-Version"] and info["Yt-Dlp-Version"]
    assert wacz_validate(bag / "data" / f"{name}.wacz").returncode == 0


def test_an_existing_bag_is_not_overwritten(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    bag_of(settings, report, tmp_path / "bags")

    again, bag = bag_of(settings, report, tmp_path / "bags")

    assert again.exit_code == 1 and "exists already" in again.output
    assert again.output.count("\n") == 1
    bagit.Bag(str(bag)).validate()


def test_the_source_organization_flag_overrides_the_config(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    result = export(
        settings.archive_dir, "--bag", str(tmp_path / "b"), "--all", "--source-organization", "Desk"
    )

    assert result.exit_code == 0, result.output
    [bag] = (tmp_path / "b").iterdir()
    assert bagit.Bag(str(bag)).info["Source-Organization"] == "Desk"


def test_an_archive_of_the_previous_release_bags_and_validates(tmp_path: Path) -> None:
    import shutil

    from tests.helpers import PREVIOUS_RELEASE

    old = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, old, ignore=shutil.ignore_patterns("PROVENANCE.md"))

    result = export(old, "--bag", str(tmp_path / "bags"), "--all")

    assert result.exit_code == 0, result.output
    [bag] = (tmp_path / "bags").iterdir()
    bagit.Bag(str(bag)).validate()
    info = bagit.Bag(str(bag)).info
    assert info["External-Identifier"].startswith("https://")
    assert "Embedarc-Capture-Start" not in info  # nothing was recorded then
    assert "Source-Organization" not in info  # none configured
