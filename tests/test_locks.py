"""`archive`, `run`, `remove` and `rebuild-index` on one archive at once: nothing archived vanishes.

The scenario the lock exists for: `remove` of one article while another `archive` is still
resolving links of an article that cites the same footage. The running article's rows are not
in the index yet, so without a lock `remove` thinks the file is its alone and deletes it.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.upkeep.verify import verify
from tests.conftest import EMBEDARC, embedarc_env
from tests.helpers import make_tweet, run, text_input
from tests.simweb import Photo, Request, Response, SimWeb
from tests.simweb.messages import html_response

SLOW_PAGE = "https://slow.example.org/page"


class Gate:
    """A page that answers only when the test opens the gate; tells when it was asked."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.open = threading.Event()

    def __call__(self, _request: Request) -> Response:
        self.asked.set()
        self.open.wait(timeout=60)  # a guard against a hung test, not a measured wait
        return html_response("<html><title>slow</title><p>no footage</p></html>")


def start_archive(web: SimWeb, cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EMBEDARC, "archive", "-q", *args],
        cwd=cwd,
        env=embedarc_env(web),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_remove_refuses_while_an_archive_command_writes_and_nothing_archived_vanishes(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    tweet = make_tweet(simweb, 1, [Photo(80, 60)])
    [first] = run(settings, text_input(f"First\n{tweet.status_url}\n", "first.txt"))
    assert first.media == 1 and not first.failed
    gate = Gate()
    simweb.route(SLOW_PAGE, gate)
    (tmp_path / "second.txt").write_text(f"Second\n{tweet.status_url}\n{SLOW_PAGE}\n")

    second = start_archive(simweb, tmp_path, "second.txt")
    try:
        assert gate.asked.wait(timeout=60), "the second article never reached its slow link"
        result = CliRunner().invoke(
            cli,
            ["remove", first.article_id or "", "--archive-dir", str(settings.archive_dir)],
            catch_exceptions=False,
        )
    finally:
        gate.open.set()
        _, err = second.communicate(timeout=120)

    assert result.exit_code == 1
    assert "is writing" in result.output and "Traceback" not in result.output
    assert second.returncode == 0, err.decode()
    assert (settings.archive_dir / (first.folder or "")).is_dir()  # nothing was removed
    report = verify(settings.archive_dir)
    assert report.sound, report.as_dict()
    # Once the writer is done, the same removal goes through and keeps the shared photo.
    result = CliRunner().invoke(
        cli,
        ["remove", first.article_id or "", "--archive-dir", str(settings.archive_dir)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "another article refers to it" in result.output
    assert verify(settings.archive_dir).sound


def test_rebuild_index_refuses_while_an_archive_command_writes(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    run(settings, text_input("Kept\nno links\n"))
    gate = Gate()
    simweb.route(SLOW_PAGE, gate)
    (tmp_path / "story.txt").write_text(f"Story\n{SLOW_PAGE}\n")

    writer = start_archive(simweb, tmp_path, "story.txt")
    try:
        assert gate.asked.wait(timeout=60)
        result = CliRunner().invoke(
            cli, ["rebuild-index", "--archive-dir", str(settings.archive_dir)]
        )
    finally:
        gate.open.set()
        writer.communicate(timeout=120)

    assert result.exit_code == 1
    assert "is writing" in result.output and "Traceback" not in result.output
    assert writer.returncode == 0


def test_an_archive_command_waits_for_a_remove_in_progress(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    from embedarc.keeping.lock import exclusive

    tweet = make_tweet(simweb, 2, [Photo(64, 48)])
    (tmp_path / "story.txt").write_text(f"Story\n{tweet.status_url}\n")
    run(settings, text_input("Kept\nno links\n"))
    with exclusive(settings.archive_dir, "remove an article"):  # as `remove` holds it
        writer = subprocess.Popen(
            [EMBEDARC, "archive", "story.txt"],
            cwd=tmp_path,
            env=embedarc_env(simweb),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert writer.stderr is not None
        first_line = writer.stderr.readline().decode()
        assert "waiting for a remove or rebuild-index" in first_line
        assert writer.poll() is None
        assert simweb.requests == []  # it asked the web nothing while the archive was held
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err.decode()
    assert simweb.requests  # it went on once the lock was free
