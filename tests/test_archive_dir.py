"""Which commands make an archive, and what the others do with a missing or read-only one.

Only commands that archive (`archive`, `run`, and `sources add`, which sets one up) create the
archive folder; the others say there is none and exit 2, so a mistyped --archive-dir is not
taken for a new, empty archive. A read-only archive can still be read (`status`, `sources
list`, `verify`, `remove --dry-run`); commands that would change it end in one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.config import Settings
from tests.helpers import make_tweet, read_only_view, run, text_input
from tests.simweb import Photo, SimWeb

READERS_AND_UPKEEP = [
    ["status"],
    ["status", "--json"],
    ["check"],
    ["sources", "list"],
    ["sources", "remove", "#1"],
    ["verify"],
    ["rebuild-index"],
    ["remove", "some-article"],
    ["remove", "--dry-run", "some-article"],
]


def invoke(archive_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--archive-dir", str(archive_dir)])


@pytest.mark.parametrize("args", READERS_AND_UPKEEP, ids=" ".join)
def test_a_command_that_does_not_archive_never_creates_an_archive(
    args: list[str], tmp_path: Path
) -> None:
    mistyped = tmp_path / "archvie"

    result = invoke(mistyped, *args)

    assert result.exit_code == 2, result.output
    assert "there is no archive at" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert not mistyped.exists()


def test_doctor_does_not_create_the_archive_it_checks(tmp_path: Path) -> None:
    mistyped = tmp_path / "archvie"

    result = invoke(mistyped, "doctor", "--json")

    finding = next(f for f in json.loads(result.output) if f["name"] == "archive folder")
    assert "does not exist yet" in finding["detail"]
    assert not mistyped.exists()


def test_sources_add_sets_up_a_new_archive(tmp_path: Path) -> None:
    result = invoke(tmp_path / "new", "sources", "add", "https://feeds.example.org/a.xml")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "index.db").is_file()


@pytest.fixture
def read_only_archive(simweb: SimWeb, settings: Settings, tmp_path: Path) -> Iterator[Path]:
    tweet = make_tweet(simweb, 1, [Photo(80, 60)])
    [report] = run(settings, text_input(f"Kept\n{tweet.status_url}\n", "kept.txt"))
    assert not report.failed
    with read_only_view(settings.archive_dir, tmp_path / "ro") as view:
        yield view


@pytest.mark.parametrize(
    "args", [["status", "--json"], ["sources", "list"], ["verify"]], ids=" ".join
)
def test_a_read_only_archive_can_be_read(args: list[str], read_only_archive: Path) -> None:
    result = invoke(read_only_archive, *args)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_status_of_a_read_only_archive_counts_what_it_holds(read_only_archive: Path) -> None:
    result = invoke(read_only_archive, "status", "--json")
    assert json.loads(result.output)["articles"] == 1


def test_remove_dry_run_reads_a_read_only_archive(read_only_archive: Path) -> None:
    folder = next((read_only_archive / "articles").iterdir()).name
    result = invoke(read_only_archive, "remove", "--dry-run", folder)
    assert result.exit_code == 0, result.output
    assert "would remove" in result.output


@pytest.mark.parametrize(
    "args",
    [["rebuild-index"], ["remove", "FOLDER"], ["sources", "add", "https://f.example.org/x"]],
    ids=" ".join,
)
def test_changing_a_read_only_archive_is_one_line(args: list[str], read_only_archive: Path) -> None:
    folder = next((read_only_archive / "articles").iterdir()).name
    args = [folder if a == "FOLDER" else a for a in args]

    result = invoke(read_only_archive, *args)

    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "read-only" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert isinstance(result.exception, SystemExit)
