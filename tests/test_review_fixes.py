"""Defects a reading of the whole change found, each with the scenario that showed it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.job.retries import HINT_CAP, hint_time
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

    from embedarc.keeping.store import Store

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
    from embedarc.upkeep.verify import verify

    assert verify(settings.archive_dir).sound


def test_a_ytdlp_answer_read_to_the_end_gives_its_connection_slot_back(
    simweb: SimWeb, settings: Settings
) -> None:
    """Extractors read answers whole and seldom close them: with one slot per host, a second
    request to the host must not wait for the first answer to be collected as garbage."""
    import threading

    from embedarc.footage.ytdlp_transport import youtube_dl_class
    from embedarc.network.net import Net

    simweb.json("https://api.example.org/one", {"n": 1})
    simweb.json("https://api.example.org/two", {"n": 2})
    one = settings.with_updates(per_host=1, concurrency=1)
    got: list[bytes] = []
    with Net(one) as net, youtube_dl_class()({"quiet": True}, net=net, refusals=[]) as ydl:
        first = ydl.urlopen("https://api.example.org/one")
        got.append(first.read())  # read whole, never closed: as extractors do
        second = threading.Thread(
            target=lambda: got.append(ydl.urlopen("https://api.example.org/two").read()),
            daemon=True,
        )
        second.start()
        second.join(60)  # bounds a regression: the slot would otherwise never come back
        assert not second.is_alive(), "the second request waited for the first one's slot"
    assert [json.loads(g) for g in got] == [{"n": 1}, {"n": 2}]


def test_a_retry_whose_original_is_gone_fails_permanently_instead_of_waiting_for_ever(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 503)
    (tmp_path / "a.txt").write_text(f"Failing\n{tweet.status_url}\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path / "none.txt"))  # an archive with a source
    assert (
        embedarc(archive_dir, "archive", "--retries", "0", str(tmp_path / "a.txt")).exit_code == 1
    )
    [folder] = (archive_dir / "articles").iterdir()
    (folder / "article.txt").unlink()  # the original the retry would read again
    retries = db(archive_dir).table("retries")
    retries.update(next(iter(retries.rows))["link_id"], {"next_attempt": "2000-01-01T00:00:00Z"})

    done = embedarc(archive_dir, "run")

    [row] = list(db(archive_dir).table("retries").rows)
    assert row["state"] == "failed_permanently" and "original is missing" in row["last_reason"]
    assert done.exit_code == 1 and "original is missing" in done.output
    assert embedarc(archive_dir, "status").exit_code == 1  # it needs a look


def test_an_origin_page_named_by_a_path_in_the_sidecar_is_not_read(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    """A sidecar is a file anyone could have edited: its origin_page names a file of the
    folder, never a path leading out of it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the archive")
    target = "https://news.example.org/story"
    simweb.page(target, "<html><title>Story</title><article><p>text</p></article></html>")
    short = simweb.ift_tt("3StOrY", target)
    text = f"Story\nBody.\nvia News {short} Staff\n"
    [first] = run(settings, text_input(text, "story.txt"))
    sidecar = settings.archive_dir / (first.folder or "") / "article.json"
    data = json.loads(sidecar.read_text())
    data["article"]["origin_page"] = "../../../secret.txt"
    sidecar.write_text(json.dumps(data))
    (sidecar.parent / "origin.html").unlink()  # so whatever is read is written anew

    run(settings, text_input(text, "story.txt"))  # the same article again: its record reused

    kept = [p for p in settings.archive_dir.rglob("*") if p.is_file()]
    assert not any(p.read_bytes() == secret.read_bytes() for p in kept)


def test_the_retry_book_returns_new_entries_and_leaves_the_given_ones_alone(
    settings: Settings,
) -> None:
    from embedarc.job.retries import RetryBook
    from embedarc.keeping.index import Index
    from embedarc.keeping.sidecar_record import SidecarLink
    from embedarc.keeping.store import Store

    Store(settings.archive_dir).ensure()
    given = {
        "id": "l1",
        "url": "https://a.example.org/x",
        "outcome": "failed",
        "reason": "HTTP 503",  # the text says a server error; where it happened said network
        "failure": "network",
    }
    entry = SidecarLink.from_json(given)
    with Index(settings.archive_dir / "index.db") as index:
        [settled] = RetryBook(index, settings).settle([entry], article_id="a1", fresh={"l1"})

    assert entry.to_json() == given  # the caller's record is not edited behind its back
    assert settled.attempts == 1 and settled.failure == "network"  # not read from text
    assert settled.next_attempt is not None


def test_a_partial_file_another_holds_is_not_tidied_away_by_one_that_waits(
    tmp_path: Path,
) -> None:
    """Two downloads of one URL: the one that did not get the partial file must not remove it
    (empty still, just created) from under the one that did."""
    from embedarc.keeping.store import Store

    store = Store(tmp_path / "archive")
    store.ensure()
    url = "https://media.example.org/clip.mp4"
    with store.partial(url) as held:
        assert held is not None and held.is_file()
        with store.partial(url) as other:
            assert other is None  # the first one has it
        assert held.is_file(), "the waiting one removed the holder's file"
        held.write_bytes(b"first bytes")
    assert store.partial_path(url).read_bytes() == b"first bytes"
