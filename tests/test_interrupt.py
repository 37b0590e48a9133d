"""Ctrl-C stops a run at once, says what was kept, exits 130, and leaves partial downloads for
the next run to resume.

The installed command is started for real and sent SIGINT once it is provably in the middle of
something slow: a download the simulated web trickles out over minutes, or a retry pause. The
subprocess timeouts are guards against a hang (the trickle alone would take minutes), not
measured targets.
"""

from __future__ import annotations

import hashlib
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import EMBEDARC, embedarc_env, run_embedarc
from tests.helpers import new_archive
from tests.simweb import Photo, SimWeb
from tests.simweb.media import make_mp4

BIG_URL = "https://media.example.org/big.mp4"
STORY_URL = "https://news.example.org/story"
GUARD = 60  # seconds: far more than stopping takes, far less than the work it interrupts


class Watched:
    """A running `embedarc` whose output is read as it comes, so a test can wait for a line."""

    def __init__(self, web: SimWeb, cwd: Path, *args: str, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [EMBEDARC, *args],
            cwd=cwd,
            env=embedarc_env(web, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: dict[str, queue.Queue[str]] = {"out": queue.Queue(), "err": queue.Queue()}
        self.seen: dict[str, list[str]] = {"out": [], "err": []}
        self.pumps = [
            threading.Thread(target=self._pump, args=(stream, name), daemon=True)
            for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr))
        ]
        for pump in self.pumps:
            pump.start()

    def _pump(self, stream: IO[str], name: str) -> None:
        for line in stream:
            self.lines[name].put(line)

    def wait_for(self, name: str, text: str) -> None:
        """Until a line of stdout ("out") or stderr ("err") contains `text`."""
        while True:
            line = self.lines[name].get(timeout=GUARD)
            self.seen[name].append(line)
            if text in line:
                return

    def running(self) -> bool:
        return self.proc.poll() is None

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C; the exit status and everything written to stderr."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=GUARD)
        for pump in self.pumps:
            pump.join(timeout=GUARD)
        while not self.lines["err"].empty():
            self.seen["err"].append(self.lines["err"].get())
        return code, "".join(self.seen["err"])

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def watched() -> Iterator[list[Watched]]:
    """Processes a test starts; killed at the end if a failed assertion left one running."""
    started: list[Watched] = []
    yield started
    for one in started:
        one.kill()


def partial_files(archive_dir: Path) -> list[Path]:
    return [p for p in (archive_dir / "tmp").glob("*.part") if p.stat().st_size > 0]


def test_ctrl_c_mid_download_exits_130_and_the_next_run_resumes_the_partial_file(
    simweb: SimWeb, tmp_path: Path, watched: list[Watched]
) -> None:
    data = make_mp4(640, 480, 3.0, 11, cache_dir=simweb.media_dir)  # about 450 KB
    simweb.file(BIG_URL, data, "video/mp4")
    # 32 KB now, then 32 KB every 30 s: the whole file would take about 7 minutes.
    simweb.fault(BIG_URL, "trickle", times=1, chunk=32768, interval=30)
    (tmp_path / "a.txt").write_text(f"Big clip\n{BIG_URL}\n")
    archive_dir = tmp_path / "archive"

    proc = Watched(simweb, tmp_path, "archive", "a.txt")
    watched.append(proc)
    while not partial_files(archive_dir):  # the download has started and bytes are on disk
        assert proc.running()
        time.sleep(0.01)
    code, err = proc.interrupt()

    assert code == 130, err
    assert "interrupted: 0 articles written, 1 partial download kept in tmp/" in err
    assert "Aborted!" not in err and "Traceback" not in err
    [part] = partial_files(archive_dir)
    kept = part.stat().st_size
    assert 0 < kept < len(data)

    simweb.clear_requests()
    done = run_embedarc("archive", "a.txt", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    [ranged] = [r for r in simweb.requests_to("media.example.org") if "range" in r.headers]
    assert ranged.headers["range"] == f"bytes={kept}-"
    stored = list((archive_dir / "media").rglob("*.mp4"))
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in stored] == [
        hashlib.sha256(data).hexdigest()
    ]


def test_ctrl_c_during_a_retry_pause_exits_130_at_once(
    simweb: SimWeb, tmp_path: Path, watched: list[Watched]
) -> None:
    simweb.fail(STORY_URL, 503)
    # Each pause would be the in-run maximum (30 s), three of them: longer than the guard.
    proc = Watched(simweb, tmp_path, "archive", STORY_URL, env={"EMBEDARC_RETRY_PAUSE": "600"})
    watched.append(proc)
    while not simweb.requests_to("news.example.org"):  # the first try failed: a pause is next
        assert proc.running()
        time.sleep(0.01)

    code, err = proc.interrupt()

    assert code == 130, err
    assert "interrupted: 0 articles written, no partial download to keep" in err
    assert "Aborted!" not in err and "Traceback" not in err
    assert len(simweb.requests_to("news.example.org")) == 1  # no retry after the Ctrl-C


def test_ctrl_c_between_looped_runs_exits_130(
    simweb: SimWeb, tmp_path: Path, watched: list[Watched]
) -> None:
    new_archive(tmp_path / "archive")
    proc = Watched(simweb, tmp_path, "run", "--loop", "--every", "1h", "--json")
    watched.append(proc)
    proc.wait_for("out", '"sources_polled"')  # the first run is done; the next is an hour away

    code, err = proc.interrupt()

    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err


def test_ctrl_c_takes_out_the_files_stored_for_articles_never_written(
    simweb: SimWeb, tmp_path: Path, watched: list[Watched]
) -> None:
    """One link's photo is stored whole while another still trickles: Ctrl-C leaves no file
    that no article cites, so the archive stays sound; the next run stores it again."""
    from embedarc.upkeep.verify import verify
    from tests.helpers import make_tweet

    data = make_mp4(640, 480, 3.0, 12, cache_dir=simweb.media_dir)
    simweb.file(BIG_URL, data, "video/mp4")
    simweb.fault(BIG_URL, "trickle", times=1, chunk=32768, interval=30)
    tweet = make_tweet(simweb, 77, [Photo(90, 60)])
    (tmp_path / "a.txt").write_text(f"Two links\n{tweet.status_url}\n{BIG_URL}\n")
    archive_dir = tmp_path / "archive"

    proc = Watched(simweb, tmp_path, "archive", "a.txt")
    watched.append(proc)
    stored = archive_dir / "media"
    while not partial_files(archive_dir) or not any(stored.rglob("*.jpg")):
        assert proc.running()  # both links under way: the photo whole, the clip in part
        time.sleep(0.01)
    code, err = proc.interrupt()

    assert code == 130, err
    assert list(stored.rglob("*.jpg")) == []
    assert verify(archive_dir).sound
