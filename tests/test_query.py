"""`list` and `show`: what was kept, article by article, from the command line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from embedarc.config import Settings
from tests.conftest import EMBEDARC, embedarc_env
from tests.helpers import embedarc, read_terminal, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment, SimStatus

HOST = "social.example"
DOWN = "https://news.example.org/down"
GONE = "https://news.example.org/gone"


@dataclass
class Kept:
    archive: Path
    post: SimStatus
    strike: str  # folder of the article with the post and a link that failed for now
    quiet: str  # folder of the older article with a gone link


@pytest.fixture
def kept(simweb: SimWeb, settings: Settings) -> Kept:
    fedi = sim.install(simweb)
    fedi.instance(HOST)
    post = fedi.status(
        HOST,
        "alice",
        [Attachment("image", 96, 64), Attachment("video", 64, 48, 1.0)],
        text="Footage from the airbase",
    )
    simweb.page(GONE, "gone", status=404)
    simweb.fail(DOWN, 503)
    [quiet] = run(settings, text_input(f"Quiet day\n{GONE}\n", "quiet.txt"))
    [strike] = run(settings, text_input(f"Strike on the base\n{post.url}\n{DOWN}\n", "strike.txt"))
    assert quiet.folder and strike.folder
    return Kept(settings.archive_dir, post, strike.folder, quiet.folder)


def listed(archive: Path, *args: str) -> list[dict[str, object]]:
    done = embedarc(archive, "list", "--json", *args)
    assert done.exit_code == 0, done.output
    rows: list[dict[str, object]] = json.loads(done.output)
    return rows


# -- list --------------------------------------------------------------------------------------


def test_list_gives_every_article_newest_first_with_its_counts(kept: Kept) -> None:
    rows = listed(kept.archive)

    assert [r["folder"] for r in rows] == [kept.strike, kept.quiet]
    strike, quiet = rows
    assert strike["title"] == "Strike on the base"
    assert strike["links"] == 2 and strike["media"] == 2
    assert strike["outcomes"] == {"archived": 1, "failed": 1}
    assert quiet["outcomes"] == {"gone": 1} and quiet["media"] == 0
    assert set(strike) == {
        "id", "folder", "title", "canonical_url", "published", "archived", "last_archived",
        "links", "media", "outcomes",
    }  # fmt: skip


def test_list_filters_by_outcome(kept: Kept) -> None:
    assert [r["folder"] for r in listed(kept.archive, "--outcome", "failed")] == [kept.strike]
    both = listed(kept.archive, "--outcome", "failed", "--outcome", "gone")
    assert len(both) == 2
    assert listed(kept.archive, "--outcome", "too_large") == []


def test_list_filters_by_site_of_a_post_or_a_host(kept: Kept) -> None:
    assert [r["folder"] for r in listed(kept.archive, "--site", "mastodon")] == [kept.strike]
    assert listed(kept.archive, "--site", "bluesky") == []
    assert listed(kept.archive, "--site", "mast_don") == []  # LIKE's wildcards mean themselves


def test_list_filters_by_date(kept: Kept) -> None:
    [strike, quiet] = listed(kept.archive)
    assert isinstance(strike["archived"], str) and isinstance(quiet["archived"], str)
    day = strike["archived"][:10]

    assert len(listed(kept.archive, "--since", day, "--until", day)) == 2
    assert listed(kept.archive, "--until", "2000-01-01") == []
    assert listed(kept.archive, "--since", "2999-01-01") == []
    assert len(listed(kept.archive, "--since", "1d")) == 2
    since_strike = listed(kept.archive, "--since", strike["archived"])
    assert [r["folder"] for r in since_strike] == [kept.strike]


def test_list_limit_keeps_the_newest(kept: Kept) -> None:
    assert [r["folder"] for r in listed(kept.archive, "--limit", "1")] == [kept.strike]


def test_a_date_that_cannot_be_read_is_a_one_line_usage_error(kept: Kept) -> None:
    done = embedarc(kept.archive, "list", "--since", "last tuesday")

    assert done.exit_code == 2
    assert "neither a day" in done.output and "Traceback" not in done.output


def test_list_prints_a_table_a_person_reads(kept: Kept) -> None:
    done = embedarc(kept.archive, "list")

    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    strike = next(line for line in lines if "Strike on the base" in line)
    assert "1 archived, 1 failed" in strike
    assert lines.index(strike) < next(i for i, x in enumerate(lines) if "Quiet day" in x)
    assert "\x1b" not in done.output  # no colour codes into a pipe
    assert lines[-1] == "2 articles"


# -- show --------------------------------------------------------------------------------------


def test_show_json_says_where_every_file_is(kept: Kept) -> None:
    short = kept.strike[-8:]

    done = embedarc(kept.archive, "show", "--json", short)

    assert done.exit_code == 0, done.output
    detail = json.loads(done.output)
    data = json.loads((kept.archive / kept.strike / "article.json").read_text())
    assert detail["folder"] == kept.strike and detail["id"] == data["article"]["id"]
    assert detail["original"] == f"{kept.strike}/article.txt"
    assert (kept.archive / detail["original"]).is_file()
    links = {link["url"]: link for link in detail["links"]}
    assert links[DOWN]["outcome"] == "failed" and links[DOWN]["reason"]
    assert links[DOWN]["retry"]["state"] == "pending"
    assert links[DOWN]["hops"][0]["status"] == 503
    post_link = links[kept.post.url]
    assert post_link["outcome"] == "archived" and post_link["post"] == kept.post.key
    assert sorted(post_link["media"]) == sorted(f.sha256 for f in kept.post.files)
    [post] = detail["posts"]
    assert post["author"] == f"@alice@{HOST}" and post["text"] == "Footage from the airbase"
    for item, served in zip(
        sorted(detail["media"], key=lambda m: m["sha256"]),
        sorted(kept.post.files, key=lambda f: f.sha256),
        strict=True,
    ):
        assert item["sha256"] == served.sha256 and item["source_url"] == served.url
        assert (kept.archive / item["path"]).read_bytes() == served.data
        assert (kept.archive / item["article_path"]).is_file()
        assert item["size"] == len(served.data) and item["mime"]
    video = next(m for m in detail["media"] if m["mime"].startswith("video/"))
    assert video["width"] == 64 and video["duration"] == pytest.approx(1.0, abs=0.1)


def test_show_takes_an_article_as_remove_does(kept: Kept) -> None:
    data = json.loads((kept.archive / kept.strike / "article.json").read_text())
    for name in (kept.strike, Path(kept.strike).name, data["article"]["id"]):
        done = embedarc(kept.archive, "show", "--json", name)
        assert done.exit_code == 0, (name, done.output)
        assert json.loads(done.output)["folder"] == kept.strike


def test_show_of_an_unknown_article_is_a_one_line_usage_error(kept: Kept) -> None:
    done = embedarc(kept.archive, "show", "nothing-like-it")

    assert done.exit_code == 2
    assert done.output.startswith("Error: no article") and len(done.output.splitlines()) == 1


def test_show_prints_links_hops_posts_and_files(kept: Kept) -> None:
    done = embedarc(kept.archive, "show", kept.strike)

    assert done.exit_code == 0, done.output
    out = done.output
    assert out.splitlines()[0] == "Strike on the base"
    assert f"failed  {DOWN}" in out and "hop 0  503" in out
    assert f"archived  {kept.post.url}" in out
    assert "pending: 1 attempts" in out
    assert "Footage from the airbase" in out
    for served in kept.post.files:
        assert f"from {served.url}" in out
        assert served.sha256 in out
    assert "\x1b" not in out


def test_show_reports_an_original_check_found_dead(
    simweb: SimWeb, kept: Kept, tmp_path: Path
) -> None:
    embedarc(kept.archive, "check")
    simweb.fail(kept.post.files[0].url, 404)
    embedarc(kept.archive, "check")

    detail = json.loads(embedarc(kept.archive, "show", "--json", kept.strike).output)

    check = next(link["check"] for link in detail["links"] if link["url"] == kept.post.url)
    assert check["alive"] == 0 and check["first_dead"]
    human = embedarc(kept.archive, "show", kept.strike).output
    assert f"original dead since {check['first_dead']}" in human


# -- read-only commands ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [["list"], ["show", "x"], ["search", "x"]], ids=" ".join)
def test_reading_a_folder_that_holds_no_archive_makes_none(args: list[str], tmp_path: Path) -> None:
    mistyped = tmp_path / "archvie"

    done = embedarc(mistyped, *args)

    assert done.exit_code == 2 and "there is no archive at" in done.output
    assert not mistyped.exists()


# -- hostile titles --------------------------------------------------------------------------

HOSTILE = "Evil \x1b[2J\x1b]0;pwned\x07 [bold red]loud[/bold red] [link=https://evil.example]x"


@pytest.fixture
def hostile(simweb: SimWeb, settings: Settings) -> Path:
    simweb.page(GONE, "gone", status=404)
    [report] = run(settings, text_input(f"{HOSTILE}\nAirbase {GONE}\n", "evil.txt"))
    data = sidecar_of(settings.archive_dir, report)
    assert data["article"]["title"] == HOSTILE
    return settings.archive_dir


def on_a_terminal(web: SimWeb, archive: Path, *args: str) -> str:
    """What a terminal receives when the installed command writes its stdout to one."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [EMBEDARC, *args, "--archive-dir", str(archive)],
        env={**embedarc_env(web), "TERM": "xterm-256color", "COLUMNS": "200"},
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(slave)
    received = read_terminal(master, proc)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    return received


@pytest.mark.parametrize(
    "args", [["list"], ["show", "FOLDER"], ["search", "loud"]], ids=lambda a: a[0]
)
def test_a_hostile_title_is_shown_as_text_not_obeyed(
    simweb: SimWeb, hostile: Path, args: list[str]
) -> None:
    folder = next((hostile / "articles").iterdir()).name
    args = [folder if a == "FOLDER" else a for a in args]

    piped = embedarc(hostile, *args)
    terminal = on_a_terminal(simweb, hostile, *args)

    for out in (piped.output, terminal):
        assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out
        assert "\x1b]8;" not in out  # no hyperlink planted
        assert "\\x1b[2J" in out  # shown, escaped
        assert "[bold red]loud[/bold red]" in out  # markup shown as the characters it is
    assert "\x1b[" in terminal  # the terminal did get rich's own styling


def test_json_of_a_hostile_title_has_no_raw_controls(hostile: Path) -> None:
    for args in (["list", "--json"], ["search", "--json", "loud"]):
        done = embedarc(hostile, *args)
        assert "\x1b" not in done.output and "\x07" not in done.output
        assert json.loads(done.output)[0]["title"] == HOSTILE


def test_list_and_show_read_a_read_only_archive(kept: Kept, tmp_path: Path) -> None:
    from tests.helpers import read_only_view

    with read_only_view(kept.archive, tmp_path / "ro") as view:
        rows = embedarc(view, "list", "--json")
        detail = embedarc(view, "show", "--json", kept.strike)

    assert rows.exit_code == 0 and len(json.loads(rows.output)) == 2
    assert detail.exit_code == 0 and json.loads(detail.output)["folder"] == kept.strike


def test_list_and_show_read_the_previous_releases_archive(tmp_path: Path) -> None:
    import shutil

    from tests.helpers import PREVIOUS_RELEASE

    archive = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, archive, ignore=shutil.ignore_patterns("PROVENANCE.md"))

    [row] = listed(archive)
    detail = json.loads(embedarc(archive, "show", "--json", str(row["id"])).output)

    assert row["outcomes"] == {"archived": 5} and row["media"] == 3
    assert len(detail["links"]) == 5 and len(detail["media"]) == 3
    for item in detail["media"]:
        assert (archive / item["path"]).is_file()
