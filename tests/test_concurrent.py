"""Two `embedarc archive` processes on one archive at once never corrupt it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from embedarc.upkeep.verify import verify
from tests.helpers import finish, start, stored_hashes, write_articles
from tests.simweb import SimWeb


def duplicates(archive_dir: Path) -> dict[str, int]:
    """Rows that say the same thing twice: an article under two ids, a file under two rows."""
    checks = {
        "articles": "select count(*) - count(distinct content_sha256) from articles",
        "folders": "select count(*) - count(distinct folder) from articles",
        "media": "select count(*) - count(distinct path) from media",
        "links": "select count(*) - count(distinct article_id || ' ' || url) from links",
    }
    with sqlite3.connect(archive_dir / "index.db") as db:
        return {name: int(db.execute(sql).fetchone()[0]) for name, sql in checks.items()}


def test_two_archive_runs_with_overlapping_articles_at_once_keep_the_archive_sound(
    simweb: SimWeb, tmp_path: Path
) -> None:
    names, wanted = write_articles(simweb, tmp_path, 8)
    finish(simweb, tmp_path, "archive", "-q", names[0])  # an archive that exists already
    first, second = names[:6], names[2:]  # four articles in both runs

    runs = [start(simweb, tmp_path, "archive", "-q", *part) for part in (first, second)]
    errors = [run.communicate(timeout=120)[1].decode() for run in runs]

    for run, err in zip(runs, errors, strict=True):
        assert run.returncode == 0, err
    report = verify(tmp_path / "archive")
    assert report.sound, report.as_dict()
    assert report.articles_checked == len(names)
    assert wanted <= stored_hashes(tmp_path / "archive")
    assert duplicates(tmp_path / "archive") == {"articles": 0, "folders": 0, "media": 0, "links": 0}


# Two threads use yt-dlp for the first time at once, as the pipeline's writer (the sidecar's
# yt-dlp version) and a worker (is there a dedicated extractor for this URL?) do.
FIRST_USE_FROM_TWO_THREADS = textwrap.dedent(
    """
    import threading
    from embedarc.footage import ytdlp

    start = threading.Barrier(2)
    failures = []

    def use(call):
        start.wait()
        try:
            call()
        except Exception as e:
            failures.append(repr(e))

    threads = [
        threading.Thread(
            target=use, args=(lambda: ytdlp.has_dedicated_extractor("https://example.org/v"),)
        ),
        threading.Thread(target=use, args=(ytdlp.version,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    """
)


def test_first_ytdlp_use_from_two_threads_at_once_succeeds() -> None:
    for _ in range(3):  # a fresh interpreter each time: the first use is what races
        done = subprocess.run(
            [sys.executable, "-c", FIRST_USE_FROM_TWO_THREADS],
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert done.returncode == 0, done.stderr
