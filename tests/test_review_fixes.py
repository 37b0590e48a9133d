"""Defects a reading of the whole change found, each with the scenario that showed it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.retries import HINT_CAP, hint_time
from tests.helpers import article_world, db, embedarc, make_tweet, photo_url, run, text_input
from tests.simweb import Photo, SimWeb


@pytest.mark.parametrize(
    "header",
    [
        {"x-rate-limit-reset": "99999999999999999"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 -1400"},
        {"Retry-After": "9" * 400},
    ],
    ids=["huge epoch", "date past year 9999 in UTC", "endless seconds"],
)
def test_a_servers_retry_hint_out_of_range_is_a_failure_for_now_not_a_crash(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, header: dict[str, str]
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 429, headers=header)
    (tmp_path / "a.txt").write_text(f"Limited\n{tweet.status_url}\n")
    (tmp_path / "b.txt").write_text("Other\nno links here\n")

    done = embedarc(
        archive_dir, "archive", "--json", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    )

    reports = [json.loads(line) for line in done.output.splitlines()]
    assert done.exit_code == 1 and len(reports) == 2, done.output
    assert reports[0]["outcomes"] == {"failed": 1} and reports[1]["error"] is None
    [row] = list(db(archive_dir).table("retries").rows)
    next_attempt = datetime.fromisoformat(row["next_attempt"].replace("Z", "+00:00"))
    assert next_attempt <= datetime.now(UTC) + HINT_CAP + timedelta(minutes=1)


def test_a_hint_is_believed_for_a_year_at_most() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert hint_time("120", now) == now + timedelta(seconds=120)
    assert hint_time(str(10**12), now) == now + HINT_CAP
    assert hint_time("Fri, 31 Dec 9999 23:59:59 -1400", now) is None
    assert hint_time("not a time", now) is None


def test_a_file_discarded_after_a_failed_write_is_fetched_again_for_the_next_article(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two articles cite one tweet; the first one's write fails, so its freshly stored photo is
    discarded: the second must not be handed the run's cached record of the deleted file."""
    import errno

    from embedarc.store import Store

    tweet = make_tweet(simweb, 41, [Photo(72, 54)])
    real = Store.write_file
    failed: list[Path] = []

    def write_file(self: Store, path: Path, data: bytes, *args: object, **kw: object) -> None:
        if path.name == "article.json" and not failed:
            failed.append(path)
            raise OSError(errno.EACCES, "Permission denied", str(path))
        real(self, path, data, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "write_file", write_file)
    first, second = run(
        settings,
        text_input(f"First\n{tweet.status_url}\n", "first.txt"),
        text_input(f"Second\n{tweet.status_url}\n", "second.txt"),
    )

    written = [r for r in (first, second) if r.error is None]
    assert len(failed) == 1 and len(written) == 1, (first, second)
    assert written[0].media == 1
    from embedarc.verify import verify

    assert verify(settings.archive_dir).sound
