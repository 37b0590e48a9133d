"""The installed `embedarc` command, run as a subprocess through the simulated web's proxy."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from tests.conftest import run_embedarc
from tests.simweb import SimWeb, scenarios

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zerohedge-syria-strike.txt"


def test_readme_example_archives_through_the_proxy(simweb: SimWeb, tmp_path: Path) -> None:
    world = scenarios.example(simweb)
    shutil.copytree(EXAMPLE.parent, tmp_path / "examples")

    done = run_embedarc("archive", "examples/zerohedge-syria-strike.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "US Launches Preemptive Strike" in done.stdout
    [folder] = list((tmp_path / "archive" / "articles").iterdir())
    data = json.loads((folder / "article.json").read_text())
    assert world["aurora"].files[0].sha256 in {m["sha256"] for m in data["media"]}
    assert (tmp_path / "archive" / "index.db").is_file()
    assert "Traceback" not in done.stderr


def test_stdin_is_read_as_an_article(simweb: SimWeb, tmp_path: Path) -> None:
    world = scenarios.example(simweb)

    done = run_embedarc(
        "archive", "-", "--json", web=simweb, cwd=tmp_path, stdin=EXAMPLE.read_bytes()
    )

    assert done.returncode == 0, done.stderr
    [summary] = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["source"] == "-"
    assert summary["canonical_url"] == world["article_url"]
    assert summary["outcomes"]["archived"] >= 3
    assert summary["new_media"] == summary["media"] == 3


def test_json_summary_per_article_and_archive_dir_option(simweb: SimWeb, tmp_path: Path) -> None:
    tweet = scenarios.example(simweb)["second"]
    (tmp_path / "a.txt").write_text(f"First\n{tweet.status_url}\n")
    (tmp_path / "b.txt").write_text("Second\nno links at all\n")

    done = run_embedarc(
        "archive", "a.txt", "b.txt", "--json", "--archive-dir", "store", web=simweb, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    summaries = [json.loads(line) for line in done.stdout.splitlines()]
    assert [s["title"] for s in summaries] == ["First", "Second"]
    assert summaries[0]["media"] == 2 and summaries[1]["links"] == 0
    assert (tmp_path / "store" / "index.db").is_file()


def test_archive_dir_from_environment(simweb: SimWeb, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Nothing\njust words\n")

    done = run_embedarc(
        "archive", "a.txt", "-q", web=simweb, cwd=tmp_path, env={"EMBEDARC_ARCHIVE": "elsewhere"}
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (tmp_path / "elsewhere" / "index.db").is_file()


def test_proxy_and_ca_bundle_flags_work_without_environment(simweb: SimWeb, tmp_path: Path) -> None:
    world = scenarios.example(simweb)
    (tmp_path / "a.txt").write_text(f"Flags\n{world['second'].status_url}\n")
    no_env = {name: "" for name in simweb.env()}

    done = run_embedarc(
        "archive", "a.txt", "--proxy", simweb.proxy_url, "--ca-bundle", str(simweb.ca_file),
        web=simweb, cwd=tmp_path, env=no_env,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "2 media" in done.stdout


def test_missing_input_file_exits_2_with_a_message(simweb: SimWeb, tmp_path: Path) -> None:
    done = run_embedarc("archive", "nope.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 2
    assert "nope.txt" in done.stderr and "Traceback" not in done.stderr


def test_bad_option_value_exits_2(simweb: SimWeb, tmp_path: Path) -> None:
    done = run_embedarc("archive", "x.txt", "--max-file-size", "lots", web=simweb, cwd=tmp_path)

    assert done.returncode == 2
    assert "is not a size" in done.stderr


def test_article_url_answering_503_exits_1(simweb: SimWeb, tmp_path: Path) -> None:
    simweb.fail("https://news.example.org/busy", 503)

    done = run_embedarc("archive", "https://news.example.org/busy", web=simweb, cwd=tmp_path)

    assert done.returncode == 1
    assert "503" in done.stderr and "Traceback" not in done.stderr


def test_unreachable_proxy_is_a_transient_failure(simweb: SimWeb, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Offline\nhttps://t.co/abcdefghij\n")

    done = run_embedarc(
        "archive", "a.txt", "--json", web=simweb, cwd=tmp_path,
        env={"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"},
    )  # fmt: skip

    assert done.returncode == 1, done.stderr
    [summary] = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["outcomes"] == {"failed": 1}
    assert "Traceback" not in done.stderr


def test_failed_links_are_listed_with_their_reason(simweb: SimWeb, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Offline\nhttps://t.co/abcdefghij\n")

    done = run_embedarc(
        "archive", "a.txt", web=simweb, cwd=tmp_path,
        env={"HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"},
    )  # fmt: skip

    assert done.returncode == 1
    assert "1 failed" in done.stdout
    assert "  failed: https://t.co/abcdefghij: [Errno 111] Connection refused" in done.stderr


def test_archiving_tweets_behind_short_links_never_loads_ytdlp(
    simweb: SimWeb, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.conftest import embedarc_env

    scenarios.example(simweb)
    script = (
        "import sys; from embedarc.cli import cli\n"
        "try:\n    cli(['archive', sys.argv[1], '-q'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('yt_dlp' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLE)],
        cwd=tmp_path, env=embedarc_env(simweb), capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.stdout.strip() == "False", done.stderr


def test_sidecar_names_the_tool_versions(simweb: SimWeb, tmp_path: Path) -> None:
    from importlib.metadata import version

    (tmp_path / "a.txt").write_text("Versions\nno links\n")
    run_embedarc("archive", "a.txt", web=simweb, cwd=tmp_path)

    [sidecar] = list((tmp_path / "archive" / "articles").glob("*/article.json"))
    data = json.loads(sidecar.read_text())
    assert data["embedarc"] == version("embedarc") and data["yt_dlp"] == version("yt-dlp")


def test_progress_is_a_bar_on_a_terminal_and_log_lines_otherwise(
    simweb: SimWeb, tmp_path: Path
) -> None:
    import os
    import pty
    import subprocess

    from tests.conftest import EMBEDARC, embedarc_env

    (tmp_path / "a.txt").write_text("Progress\nhttps://t.co/progress01\n")
    simweb.tco("progress01", "https://news.example.org/p")
    piped = run_embedarc("archive", "a.txt", web=simweb, cwd=tmp_path)
    leader, follower = pty.openpty()
    on_tty = subprocess.run(
        [EMBEDARC, "archive", "a.txt", "--archive-dir", "tty"],
        cwd=tmp_path, env=embedarc_env(simweb), stderr=follower, stdout=subprocess.PIPE,
        timeout=120,
    )  # fmt: skip
    os.close(follower)
    screen = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(leader, 65536):
            screen += chunk
    os.close(leader)

    assert "INFO read a.txt" in piped.stderr  # plain log lines when stderr is not a terminal
    assert on_tty.returncode == piped.returncode == 0
    assert b"archiving" in screen and b"INFO" not in screen
    assert b"\x1b" not in on_tty.stdout  # the summary on stdout stays plain
