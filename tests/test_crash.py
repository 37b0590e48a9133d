"""A process killed at any moment leaves the archive consistent, and the next run finishes.

The installed `embedarc` command is started for real and SIGKILLed at points drawn with a
seeded generator: after the simulated web has answered N requests (mid-download, between
articles, while folders and index rows are written). The index writes themselves are hit
exactly by a child process that kills itself when SQLite starts a chosen statement.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from embedarc.upkeep.verify import verify
from tests.conftest import embedarc_env
from tests.helpers import assert_consistent, finish, start, write_articles
from tests.simweb import SimWeb

ARTICLES = 8
# Kill points per suite run; EMBEDARC_KILL_POINTS=200 makes a longer soak of the same test.
KILL_POINTS = int(os.environ.get("EMBEDARC_KILL_POINTS", "12"))
SEED = 20240301


def stored_hashes(archive_dir: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (archive_dir / "media").rglob("*") if p.is_file()}


def test_killed_at_random_moments_archive_stays_consistent_and_next_run_finishes(
    simweb: SimWeb, tmp_path: Path
) -> None:
    names, wanted = write_articles(simweb, tmp_path, ARTICLES)
    archive_dir = tmp_path / "archive"
    args = ("archive", "-q", *names)
    finish(simweb, tmp_path, *args)  # how many requests a whole run makes
    requests_per_run = len(simweb.requests)
    shutil.rmtree(archive_dir)
    rng = random.Random(SEED)
    kills = completed = 0

    while kills < KILL_POINTS:
        after = rng.randint(1, requests_per_run)
        simweb.clear_requests()
        proc = start(simweb, tmp_path, *args)
        while proc.poll() is None and len(simweb.requests) < after:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        report = verify(archive_dir)
        assert_consistent(report)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:  # it finished before the kill point: the archive must be whole
            assert proc.returncode == 0, err.decode()
            assert report.sound, report.as_dict()
            completed += 1
            shutil.rmtree(archive_dir)  # start over, so later kill points have work to hit

    finish(simweb, tmp_path, *args)
    final = verify(archive_dir)
    assert final.sound, final.as_dict()
    assert final.articles_checked == ARTICLES
    assert wanted <= stored_hashes(archive_dir)
    print(f"{kills} kills, {completed} runs finished before their kill point")


# -- killed exactly while the index is written -------------------------------------------------

# Runs the CLI in this process, SIGKILLing it when SQLite starts the Nth statement that
# matches a pattern (counted over every connection).
KILL_AT_STATEMENT = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    from embedarc.cli import cli

    target, pattern = int(sys.argv[1]), sys.argv[2].lower()
    seen = 0
    real_connect = sqlite3.connect

    def trace(sql):
        global seen
        if pattern in sql.lower():
            seen += 1
            if seen == target:
                os.kill(os.getpid(), signal.SIGKILL)

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    sqlite3.connect = connect
    cli(sys.argv[3:])
    """
)


def killed_at_statement(
    web: SimWeb, cwd: Path, n: int, pattern: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILL_AT_STATEMENT, str(n), pattern, *args],
        cwd=cwd,
        env=embedarc_env(web),
        capture_output=True,
        text=True,
        timeout=120,
    )


def links_in_index(archive_dir: Path) -> int:
    with sqlite3.connect(archive_dir / "index.db") as db:
        return int(db.execute("select count(*) from links").fetchone()[0])


def test_killed_before_each_index_insert_of_an_article_the_next_run_repairs_it(
    simweb: SimWeb, tmp_path: Path
) -> None:
    names, wanted = write_articles(simweb, tmp_path, 2)
    finish(simweb, tmp_path, "archive", "-q", names[0])  # the index exists and is migrated
    archive_dir = tmp_path / "archive"

    # the inserts into articles, media_sources, links and link_media (1st, 3rd, 5th, 7th)
    for statement in (1, 3, 5, 7):
        done = killed_at_statement(
            simweb, tmp_path, statement, "insert into", "archive", "-q", names[1]
        )
        assert done.returncode == -signal.SIGKILL, (statement, done.stderr)
        assert_consistent(verify(archive_dir))

    finish(simweb, tmp_path, "archive", "-q", *names)
    final = verify(archive_dir)
    assert final.sound, final.as_dict()
    assert wanted <= stored_hashes(archive_dir)


def test_killed_while_rewriting_an_article_keeps_its_previous_index_rows(
    simweb: SimWeb, tmp_path: Path
) -> None:
    names, _ = write_articles(simweb, tmp_path, 1)
    finish(simweb, tmp_path, "archive", "-q", *names)
    before = links_in_index(tmp_path / "archive")

    done = killed_at_statement(simweb, tmp_path, 1, "insert into", "archive", "-q", *names)

    assert done.returncode == -signal.SIGKILL, done.stderr
    assert links_in_index(tmp_path / "archive") == before


def test_killed_while_creating_the_index_the_next_run_still_works(
    simweb: SimWeb, tmp_path: Path
) -> None:
    names, _ = write_articles(simweb, tmp_path, 1)

    done = killed_at_statement(simweb, tmp_path, 1, 'create table "links"', "archive", *names)

    assert done.returncode == -signal.SIGKILL, done.stderr
    finish(simweb, tmp_path, "archive", "-q", *names)
