"""Dead links and the Wayback Machine: captures archived in their place, Save Page Now."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.reading.links import normalise
from tests.helpers import link_entry, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, wayback
from tests.simweb.media import make_jpeg

GRAPHQL = "https://x.com/i/api/graphql/2ICDjqPd81tulZcYrtpTuQ/TweetResultByRestId"


def test_dead_page_is_archived_from_its_wayback_capture(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    page = b"<html><title>Original report</title><p>as it was</p></html>"
    sim.capture("https://news.example.org/deleted-report", page, "text/html")
    # the page itself is gone: the simulated web answers 404 for it

    [report] = run(settings, text_input("Dead\nhttps://news.example.org/deleted-report\n"))

    entry = link_entry(
        sidecar_of(settings.archive_dir, report), "https://news.example.org/deleted-report"
    )
    assert entry["outcome"] == "archived_from_wayback"
    assert "2022-01-04T10:12:44Z" in entry["reason"]
    [media] = sidecar_of(settings.archive_dir, report)["media"]
    assert media["sha256"] == hashlib.sha256(page).hexdigest()
    assert media["method"] == "wayback" and "id_/" in media["source_url"]


def test_dead_media_file_is_archived_from_its_capture(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    photo = make_jpeg(64, 48, 5, cache_dir=simweb.media_dir)
    sim.capture("https://media.example.org/gone.jpg", photo, "image/jpeg")
    simweb.fail("https://media.example.org/gone.jpg", 410)

    [report] = run(settings, text_input("Gone\nhttps://media.example.org/gone.jpg\n"))

    assert report.outcomes == {"archived_from_wayback": 1}
    assert not report.failed


def test_deleted_tweet_without_captures_stays_gone(simweb: SimWeb, settings: Settings) -> None:
    wayback.install(simweb)
    tweet = make_tweet(
        simweb, 50, [Photo()], syndication="missing", fxtwitter="missing", graphql="tombstone"
    )

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    assert (
        link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)["outcome"] == "gone"
    )


def test_tweet_deleted_after_an_earlier_lookup_is_rescued_from_captures_of_its_media(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    tweet = make_tweet(simweb, 51, [Photo(200, 150)])
    photo_url = normalise(tweet.files[0].url)
    simweb.fail(photo_url, 503)  # first run: the tweet is found but its photo cannot be fetched
    [first] = run(
        settings.with_updates(retries=0), text_input(f"Later deleted\n{tweet.status_url}\n")
    )
    # then the tweet is deleted everywhere, and the photo only survives in a capture
    simweb.fail("https://cdn.syndication.twimg.com/tweet-result", 404)
    simweb.fail(f"https://api.fxtwitter.com/{tweet.screen_name}/status/{tweet.id}", 404)
    tombstone = {"__typename": "TweetTombstone", "tombstone": {"text": {"text": "Deleted"}}}
    simweb.json(GRAPHQL, {"data": {"tweetResult": {"result": tombstone}}})
    sim.capture(photo_url, tweet.files[0].data, "image/jpeg")

    [second] = run(settings, text_input(f"Later deleted\n{tweet.status_url}\n"))

    assert first.outcomes == {"failed": 1}
    entry = link_entry(sidecar_of(settings.archive_dir, second), tweet.status_url)
    assert entry["outcome"] == "archived_from_wayback"
    [media] = sidecar_of(settings.archive_dir, second)["media"]
    assert media["sha256"] == tweet.files[0].sha256


def test_no_wayback_never_asks_the_wayback_machine(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    sim.capture("https://news.example.org/deleted", b"<p>x</p>", "text/html")

    [report] = run(
        settings.with_updates(wayback=False), text_input("x\nhttps://news.example.org/deleted\n")
    )

    assert report.outcomes == {"gone": 1}
    assert simweb.requests_to("archive.org") == [] and simweb.requests_to("web.archive.org") == []


def test_wayback_rate_limit_leaves_the_dead_link_for_a_later_run(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    sim.rate_limit(times=None, retry_after="600")

    [report] = run(settings, text_input("x\nhttps://news.example.org/deleted\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://news.example.org/deleted")
    assert entry["outcome"] == "failed" and "Wayback Machine" in entry["reason"]
    assert entry["retry_after"] == "600"


def test_wayback_save_submits_new_articles_and_keeps_the_secret(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    sim = wayback.install(simweb)
    sim.save_outcome("success", pending=0)  # done at the first status poll: no waiting
    simweb.page("https://news.example.org/story", "<html><title>Story</title></html>")
    (tmp_path / "a.txt").write_text("Story\nvia News https://news.example.org/story\n")
    env = {"EMBEDARC_IA_ACCESS": "access-key", "EMBEDARC_IA_SECRET": "s3cr3t-value"}

    done = CliRunner().invoke(
        cli,
        [
            "archive",
            str(tmp_path / "a.txt"),
            "--archive-dir",
            str(archive_dir),
            "--wayback-save",
            "-v",
        ],
        env=env,
        catch_exceptions=False,
    )

    assert done.exit_code == 0, done.output
    [submission] = sim.saves
    assert submission.url == "https://news.example.org/story"
    assert submission.authorization == "LOW access-key:s3cr3t-value"
    assert "s3cr3t-value" not in done.output
    written = b"".join(p.read_bytes() for p in archive_dir.rglob("*") if p.is_file())
    assert b"s3cr3t-value" not in written


def test_wayback_save_without_keys_is_a_usage_error(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("Story\nno links\n")

    done = CliRunner().invoke(
        cli,
        ["archive", str(tmp_path / "a.txt"), "--archive-dir", str(archive_dir), "--wayback-save"],
        env={"EMBEDARC_IA_ACCESS": "", "EMBEDARC_IA_SECRET": ""},
    )

    assert done.exit_code == 2
    assert "EMBEDARC_IA_ACCESS" in done.output
    assert not (archive_dir / "index.db").exists()
