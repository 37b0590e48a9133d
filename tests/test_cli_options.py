"""Options read alike everywhere: one reading of durations and sizes for flags, variables and the
config file; -v/-q before or after the command; each command lists only options it uses; ids
as they are shown; retries and, with -v, each request and hop in the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.cli.options import ByteSize, Duration
from embedarc.config import load_settings
from embedarc.errors import ConfigError
from embedarc.job.pipeline import Report
from tests.conftest import run_embedarc
from tests.helpers import run, text_input
from tests.simweb import SimWeb

STORY_URL = "https://news.example.org/story"
STORY = "<html><head><title>A story</title></head><body><article><p>Words.</p></article></body>"


def embedarc(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


# -- one reading of durations and sizes ------------------------------------------------------

DURATIONS = [("90", 90.0), ("90s", 90.0), ("1.5m", 90.0), ("2h", 7200.0), ("1d", 86400.0),
             ("1h30m", 5400.0), ("250ms", 0.25)]  # fmt: skip
SIZES = [("1048576", 1048576), ("500K", 500 * 1024), ("500M", 500 * 1024**2),
         ("2G", 2 * 1024**3), ("1.5GB", int(1.5 * 1024**3)), ("2GiB", 2 * 1024**3)]  # fmt: skip


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_a_duration_means_the_same_as_flag_variable_and_config_file(
    tmp_path: Path, text: str, seconds: float
) -> None:
    (tmp_path / "embedarc.toml").write_text(f'max_download_time = "{text}"\n')
    env = {"EMBEDARC_ARCHIVE": str(tmp_path), "EMBEDARC_TIMEOUT": text, "EMBEDARC_RETRY_BASE": text}

    settings = load_settings({}, env=env)

    assert Duration().convert(text, None, None) == seconds
    assert (settings.timeout, settings.retry_base, settings.max_download_time) == (seconds,) * 3


@pytest.mark.parametrize(("text", "size"), SIZES)
def test_a_size_means_the_same_as_flag_variable_and_config_file(
    tmp_path: Path, text: str, size: int
) -> None:
    (tmp_path / "embedarc.toml").write_text(f'max_article_size = "{text}"\n')
    env = {"EMBEDARC_ARCHIVE": str(tmp_path), "EMBEDARC_MAX_FILE_SIZE": text}

    settings = load_settings({}, env=env)

    assert ByteSize().convert(text, None, None) == size
    assert (settings.max_file_size, settings.max_article_size) == (size, size)


def test_plain_numbers_in_the_config_file_are_still_seconds_and_bytes(tmp_path: Path) -> None:
    (tmp_path / "embedarc.toml").write_text(
        "timeout = 45\nmax_file_size = 1000\nhost_delay = 0.5\n"
    )

    settings = load_settings({}, env={"EMBEDARC_ARCHIVE": str(tmp_path)})

    assert (settings.timeout, settings.max_file_size, settings.host_delay) == (45.0, 1000, 0.5)


def test_the_flags_the_issue_names_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("No links\nJust words.\n")

    done = embedarc(
        "archive", str(tmp_path / "a.txt"), "--archive-dir", str(tmp_path / "archive"),
        "--timeout", "30s", "--max-download-time", "1h", "--max-file-size", "500M",
        "--retry-base", "10m", "--host-delay", "1s", "--max-article-size", "1M",
    )  # fmt: skip

    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--timeout", "soon"], {}, "'soon' is not a duration"),
        (["--timeout", "0"], {}, "the duration must be greater than zero"),
        (["--max-file-size", "huge"], {}, "'huge' is not a size"),
        ([], {"EMBEDARC_TIMEOUT": "soon"}, "EMBEDARC_TIMEOUT: timeout: 'soon' is not a duration"),
        ([], {"EMBEDARC_MAX_FILE_SIZE": "-5M"}, "a size cannot be negative"),
    ],
)
def test_a_bad_duration_or_size_is_a_one_line_usage_error(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    (tmp_path / "a.txt").write_text("No links\n")

    done = embedarc("archive", str(tmp_path / "a.txt"), *args, env=env)

    assert done.exit_code == 2
    assert message in done.output and "Traceback" not in done.output


def test_a_boolean_is_not_a_duration_in_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "embedarc.toml").write_text("timeout = true\n")
    with pytest.raises(ConfigError, match="timeout: True is not a duration"):
        load_settings({}, env={"EMBEDARC_ARCHIVE": str(tmp_path)})


# -- where options go --------------------------------------------------------------------


def test_quiet_before_the_command_silences_the_summary(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("No links\nJust words.\n")
    archive = ["--archive-dir", str(tmp_path / "archive")]

    loud = embedarc("archive", str(tmp_path / "a.txt"), *archive)
    quiet = embedarc("-q", "archive", str(tmp_path / "a.txt"), *archive)

    assert loud.exit_code == quiet.exit_code == 0
    assert "'No links'" in loud.stdout
    assert quiet.stdout == ""


def test_verbose_before_the_command_logs_each_request_and_hop(
    simweb: SimWeb, tmp_path: Path
) -> None:
    simweb.redirect("https://t.co/AbCdEf1234", STORY_URL)
    simweb.page(STORY_URL, STORY)
    (tmp_path / "a.txt").write_text("Short link\nhttps://t.co/AbCdEf1234\n")

    done = run_embedarc("-v", "archive", "a.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "GET https://t.co/AbCdEf1234 -> HTTP 301 in" in done.stderr
    assert f"GET {STORY_URL} -> HTTP 200 in" in done.stderr
    assert f"hop 1 (http, HTTP 301): https://t.co/AbCdEf1234 -> {STORY_URL}" in done.stderr
    assert f"hop 2 (http, HTTP 200): {STORY_URL}" in done.stderr


def test_verbose_after_the_command_logs_the_same(simweb: SimWeb, tmp_path: Path) -> None:
    simweb.page(STORY_URL, STORY)

    done = run_embedarc("archive", STORY_URL, "-v", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert f"GET {STORY_URL} -> HTTP 200 in" in done.stderr


NETWORK_ONLY = ["--cookies", "--no-wayback", "--max-hops", "--max-file-size",
                "--max-download-time", "--max-article-size", "--max-image-pixels"]  # fmt: skip


def test_check_and_doctor_list_only_the_options_they_use() -> None:
    archive = embedarc("archive", "--help").output
    check = embedarc("check", "--help").output
    doctor = embedarc("doctor", "--help").output

    assert all(option in archive for option in [*NETWORK_ONLY, "--proxy", "--no-third-parties"])
    assert not [option for option in [*NETWORK_ONLY, "--no-third-parties"] if option in check]
    assert all(option in check for option in ["--proxy", "--timeout", "--allow-host"])
    unused = [*NETWORK_ONLY, "--concurrency", "--per-host", "--allow-private", "--retries"]
    assert not [option for option in unused if option in doctor]
    assert all(option in doctor for option in ["--proxy", "--ca-bundle", "--no-third-parties"])


def test_an_option_check_does_not_use_is_refused(tmp_path: Path) -> None:
    done = embedarc("check", "--max-file-size", "1G", "--archive-dir", str(tmp_path))
    assert done.exit_code == 2
    assert "No such option '--max-file-size'" in done.output


def test_run_loop_every_zero_is_a_usage_error(tmp_path: Path) -> None:
    done = embedarc("run", "--loop", "--every", "0", "--runs", "1", "--archive-dir", str(tmp_path))
    assert done.exit_code == 2
    assert "greater than zero" in done.output


# -- ids as they are shown -----------------------------------------------------------------


def test_sources_remove_takes_the_hash_id_that_list_shows(tmp_path: Path) -> None:
    (tmp_path / "links.txt").write_text(f"{STORY_URL}\n")
    archive = ["--archive-dir", str(tmp_path / "archive")]
    added = embedarc("sources", "add", str(tmp_path / "links.txt"), *archive)
    assert added.exit_code == 0 and "#1" in added.output

    removed = embedarc("sources", "remove", "#1", *archive)

    assert removed.exit_code == 0, removed.output
    assert "removed list #1" in removed.output
    assert embedarc("sources", "list", *archive).output == ""


def archived(tmp_path: Path) -> Report:
    settings = load_settings({"archive_dir": tmp_path / "archive"}, env={})
    [report] = run(settings, text_input("Short ids\nNo links here.\n", "ids.txt"))
    assert report.folder is not None and report.article_id is not None
    return report


def test_remove_takes_the_short_id_that_ends_the_folder_name(tmp_path: Path) -> None:
    report = archived(tmp_path)
    assert report.folder is not None
    short = report.folder.rsplit("-", 1)[1]
    assert len(short) == 8

    done = embedarc("remove", short, "--archive-dir", str(tmp_path / "archive"))

    assert done.exit_code == 0, done.output
    assert f"removed {report.folder}" in done.output
    assert not (tmp_path / "archive" / report.folder).exists()


def test_remove_takes_a_longer_prefix_of_the_id(tmp_path: Path) -> None:
    report = archived(tmp_path)
    assert report.article_id is not None

    done = embedarc("remove", report.article_id[:12], "--archive-dir", str(tmp_path / "archive"))

    assert done.exit_code == 0, done.output
    assert f"removed {report.folder}" in done.output


def test_remove_refuses_a_prefix_shorter_than_the_short_id(tmp_path: Path) -> None:
    report = archived(tmp_path)
    assert report.article_id is not None

    done = embedarc("remove", report.article_id[:4], "--archive-dir", str(tmp_path / "archive"))

    assert done.exit_code == 2
    assert report.folder is not None and (tmp_path / "archive" / report.folder).exists()


# -- retries in the log ----------------------------------------------------------------------


def test_retries_of_an_article_url_are_logged(simweb: SimWeb, tmp_path: Path) -> None:
    simweb.page(STORY_URL, STORY)
    simweb.fail(STORY_URL, 503, times=2)

    done = run_embedarc("archive", STORY_URL, web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr.count(f"retrying in 0.0 s: {STORY_URL} (HTTP 503)") == 2


def test_retries_of_an_origin_link_are_logged(simweb: SimWeb, tmp_path: Path) -> None:
    simweb.redirect("https://ift.tt/3AbCdEf", STORY_URL)
    simweb.page(STORY_URL, STORY)
    simweb.fail("https://ift.tt/3AbCdEf", 503, times=1)
    (tmp_path / "a.txt").write_text(
        "Syndicated\nWords.\nvia ZeroHedge News https://ift.tt/3AbCdEf Tyler Durden\n"
    )

    done = run_embedarc("archive", "a.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "retrying in 0.0 s: https://ift.tt/3AbCdEf (HTTP 503)" in done.stderr
