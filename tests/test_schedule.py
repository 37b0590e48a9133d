"""The scheduled job: sources, `run`, retries, the run lock, `status`, `check`, `doctor`."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import EMBEDARC, embedarc_env, run_embedarc
from tests.helpers import (
    FEED_URL,
    article_world,
    db,
    embedarc,
    media_hits,
    new_archive,
    photo_url,
    rss,
    serve_feed,
)
from tests.simweb import Photo, Request, Response, SimWeb
from tests.simweb.telegram import install as tg_install

WHEN = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


# -- sources ---------------------------------------------------------------------------------


def test_sources_add_list_remove(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    links = tmp_path / "links.txt"
    links.write_text("https://news.example.org/1\n")

    for location in (FEED_URL, str(inbox), str(links)):
        assert embedarc(archive_dir, "sources", "add", location).exit_code == 0
    listed = json.loads(embedarc(archive_dir, "sources", "list", "--json").output)
    assert [(s["kind"], s["location"]) for s in listed] == [
        ("feed", FEED_URL),
        ("folder", str(inbox.resolve())),
        ("list", str(links.resolve())),
    ]
    assert embedarc(archive_dir, "sources", "remove", str(links)).exit_code == 0
    assert len(json.loads(embedarc(archive_dir, "sources", "list", "--json").output)) == 2


def test_adding_a_source_twice_is_a_usage_error(simweb: SimWeb, archive_dir: Path) -> None:
    embedarc(archive_dir, "sources", "add", FEED_URL)
    again = embedarc(archive_dir, "sources", "add", FEED_URL)
    assert again.exit_code == 2 and "already a source" in again.output


def test_run_archives_a_feeds_articles_and_their_footage(simweb: SimWeb, archive_dir: Path) -> None:
    tweets = article_world(simweb, 3)
    serve_feed(simweb, rss([(f"Story {n}", f"https://ift.tt/story{n}") for n in range(3)]))
    embedarc(archive_dir, "sources", "add", FEED_URL)

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["new_items"] == 3
    assert sorted(a["canonical_url"] for a in report["articles"]) == [
        f"https://news.example.org/{n}" for n in range(3)
    ]
    stored = {row["sha256"] for row in db(archive_dir)["media"].rows}
    assert stored == {t.files[0].sha256 for t in tweets}


def test_second_run_fetches_nothing_new(simweb: SimWeb, archive_dir: Path) -> None:
    article_world(simweb, 3)
    serve_feed(simweb, rss([(f"Story {n}", f"https://ift.tt/story{n}") for n in range(3)]))
    embedarc(archive_dir, "sources", "add", FEED_URL)
    embedarc(archive_dir, "run")
    simweb.clear_requests()

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 0
    assert json.loads(done.output)["new_items"] == 0
    [feed_request] = simweb.requests_to("feeds.example.com")
    assert feed_request.status == 304 and feed_request.headers["if-none-match"] == '"v1"'
    assert media_hits(simweb) == 0
    assert simweb.requests_to("ift.tt") == []


def test_folder_source_archives_each_dropped_file_once(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.txt").write_text(f"Dropped\n{tweet.status_url}\n")
    embedarc(archive_dir, "sources", "add", str(inbox))

    first = json.loads(embedarc(archive_dir, "run", "--json").output)
    (inbox / "two.txt").write_text("Second drop\nno links\n")
    second = json.loads(embedarc(archive_dir, "run", "--json").output)

    assert [a["title"] for a in first["articles"]] == ["Dropped"]
    assert [a["title"] for a in second["articles"]] == ["Second drop"]


def test_list_source_archives_article_urls(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    article_world(simweb, 2)
    links = tmp_path / "links.txt"
    links.write_text("# to archive\nhttps://news.example.org/0\n\nhttps://news.example.org/1\n")
    embedarc(archive_dir, "sources", "add", str(links))

    report = json.loads(embedarc(archive_dir, "run", "--json").output)

    assert sorted(a["title"] for a in report["articles"]) == ["Story 0", "Story 1"]


def test_run_quiet_prints_nothing_on_success(simweb: SimWeb, archive_dir: Path) -> None:
    done = embedarc(new_archive(archive_dir), "run", "--quiet")
    assert done.exit_code == 0 and done.output == ""


# -- retries ---------------------------------------------------------------------------------


def test_transient_503_on_media_succeeds_on_a_later_run(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 503, times=4)  # the first try and 3 retries within the run
    (tmp_path / "a.txt").write_text(f"Busy CDN\n{tweet.status_url}\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path))  # a folder source

    first = embedarc(archive_dir, "run", "--json", "--retry-base", "0")
    [row] = list(db(archive_dir)["retries"].rows)
    second = embedarc(archive_dir, "run", "--json", "--retry-base", "0")

    assert first.exit_code == 1
    assert row["state"] == "pending" and row["attempts"] == 1 and row["failure"] == "server_error"
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["articles_retried"] == 1
    assert list(db(archive_dir)["retries"].rows) == []
    assert db(archive_dir)["media"].count == 1


def test_retry_waits_for_its_time(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 503)
    (tmp_path / "a.txt").write_text(f"Busy\n{tweet.status_url}\n")
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"), "--retry-base", "1h")
    simweb.clear_requests()

    done = json.loads(embedarc(archive_dir, "run", "--json").output)

    assert done["articles_retried"] == 0
    assert media_hits(simweb) == 0


def test_429_retry_after_sets_the_next_attempt(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 429, headers={"Retry-After": "7200"})
    (tmp_path / "a.txt").write_text(f"Limited\n{tweet.status_url}\n")
    before = datetime.now(UTC)

    done = embedarc(archive_dir, "archive", str(tmp_path / "a.txt"), "--retries", "0")

    [row] = list(db(archive_dir)["retries"].rows)
    assert done.exit_code == 1
    assert row["failure"] == "rate_limited"
    next_attempt = datetime.fromisoformat(row["next_attempt"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=7100) < next_attempt < before + timedelta(seconds=7300)


def test_429_within_a_run_is_retried_after_its_retry_after(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 429, headers={"Retry-After": "0"}, times=1)
    (tmp_path / "a.txt").write_text(f"Limited once\n{tweet.status_url}\n")

    done = embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))

    assert done.exit_code == 0, done.output
    assert [r.status for r in simweb.requests_to("pbs.twimg.com")] == [429, 200]


def test_links_failing_too_often_become_failed_permanently(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    simweb.fail(photo_url(tweet), 503)
    (tmp_path / "a.txt").write_text(f"Always busy\n{tweet.status_url}\n")
    args = ("--retry-base", "0", "--max-attempts", "2", "--retries", "0")
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"), *args)

    second = embedarc(archive_dir, "run", *args)
    status = embedarc(archive_dir, "status", "--json")
    third = json.loads(embedarc(archive_dir, "run", "--json", *args).output)

    assert second.exit_code == 0  # failed_permanently is final
    assert status.exit_code == 1
    [permanent] = json.loads(status.output)["failed_permanently"]
    assert permanent["url"] == tweet.status_url and permanent["attempts"] == 2
    assert third["articles_retried"] == 0  # not retried without --retry-failed
    retried = json.loads(embedarc(archive_dir, "run", "--json", "--retry-failed", *args).output)
    assert retried["articles_retried"] == 1


# -- the lock --------------------------------------------------------------------------------


def test_a_second_concurrent_run_exits_at_once(simweb: SimWeb, tmp_path: Path) -> None:
    release = threading.Event()
    entered = threading.Event()

    def slow_feed(request: Request) -> Response:
        entered.set()
        release.wait(60)
        return Response(200, {"Content-Type": "application/rss+xml"}, rss([]).encode())

    simweb.route(FEED_URL, slow_feed)
    run_embedarc("sources", "add", FEED_URL, web=simweb, cwd=tmp_path)
    first = subprocess.Popen(
        [EMBEDARC, "run"],
        cwd=tmp_path,
        env=embedarc_env(simweb),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert entered.wait(60), "the first run never asked for the feed"
        second = run_embedarc("run", web=simweb, cwd=tmp_path)
    finally:
        release.set()
        _, err = first.communicate(timeout=120)
    assert second.returncode == 0
    assert "another run is in progress" in second.stderr
    assert first.returncode == 0, err


def test_a_lock_left_by_a_killed_run_is_taken_over(simweb: SimWeb, tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    new_archive(tmp_path / "archive")
    (tmp_path / "archive" / "run.lock").write_text(str(gone.pid))

    done = run_embedarc("run", "-v", web=simweb, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "another run" not in done.stderr


def test_run_loop_runs_the_given_number_of_times(simweb: SimWeb, archive_dir: Path) -> None:
    done = embedarc(
        new_archive(archive_dir), "run", "--loop", "--every", "1ms", "--runs", "2", "--json"
    )
    assert done.exit_code == 0
    assert len(done.output.strip().splitlines()) == 2


# -- status, check, doctor -------------------------------------------------------------------


def test_status_counts_what_is_archived(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> None:
    [tweet] = article_world(simweb, 1)
    (tmp_path / "a.txt").write_text(
        f"Counted\n{tweet.status_url}\nhttps://news.example.org/nothing-here\n"
    )
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))

    done = embedarc(archive_dir, "status", "--json")

    report = json.loads(done.output)
    assert done.exit_code == 0
    assert report["articles"] == 1 and report["media_files"] == 1
    assert report["links"] == {"archived": 1, "gone": 1}


def test_check_records_links_that_died_and_status_alerts(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    (tmp_path / "a.txt").write_text(f"Will rot\n{tweet.status_url}\n")
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))
    alive = embedarc(archive_dir, "check", "--json")
    simweb.fail(photo_url(tweet), 404)

    dead = embedarc(archive_dir, "check", "--json")
    status = embedarc(archive_dir, "status", "--json")

    assert alive.exit_code == 0 and json.loads(alive.output)["alive"] == 1
    assert dead.exit_code == 1 and json.loads(dead.output)["newly_dead"] == [tweet.status_url]
    report = json.loads(status.output)
    assert status.exit_code == 1 and report["dead"] == 1
    [row] = list(db(archive_dir)["link_checks"].rows)
    assert row["last_alive"] and row["first_dead"] and row["alive"] == 0
    assert json.loads(row["detail"])["post"] == "alive"


def test_check_asks_each_tweet_once(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> None:
    [tweet] = article_world(simweb, 1)
    (tmp_path / "a.txt").write_text(f"Twice\n{tweet.status_url}\nhttps://{tweet.pic_text}\n")
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))
    simweb.clear_requests()

    embedarc(archive_dir, "check")

    assert len(simweb.requests_to("cdn.syndication.twimg.com")) == 1


def test_doctor_reports_a_ready_machine(simweb: SimWeb, archive_dir: Path) -> None:
    from tests.simweb import wayback

    wayback.install(simweb)
    done = embedarc(archive_dir, "doctor", "--json")
    findings = {f["name"]: f for f in json.loads(done.output)}
    assert done.exit_code == 0, done.output
    assert findings["ffmpeg"]["ok"] and findings["fxtwitter"]["ok"]
    assert simweb.proxy_url in findings["proxy"]["detail"]


def test_doctor_reports_an_unreachable_proxy(
    simweb: SimWeb, archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    done = embedarc(archive_dir, "doctor")
    assert done.exit_code == 1
    assert "FAIL t.co" in done.output


def test_x_rate_limit_reset_sets_the_next_attempt(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    [tweet] = article_world(simweb, 1)
    reset = int((datetime.now(UTC) + timedelta(hours=3)).timestamp())
    simweb.fail(photo_url(tweet), 429, headers={"x-rate-limit-reset": str(reset)})
    (tmp_path / "a.txt").write_text(f"Limited\n{tweet.status_url}\n")

    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"), "--retries", "0")

    [row] = list(db(archive_dir)["retries"].rows)
    expected = datetime.fromtimestamp(reset, UTC).isoformat().replace("+00:00", "Z")
    assert row["next_attempt"] == expected


def test_retrying_an_article_from_a_url_keeps_its_archived_links(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    from tests.simweb.media import make_mp4

    clip = make_mp4(160, 90, 0.5, 401, cache_dir=simweb.media_dir)
    simweb.file("https://news.example.org/media/a.mp4", clip, "video/mp4")
    simweb.fail("https://news.example.org/b.mp4", 503)
    page = "<html><title>Relative</title><article><video src='/media/a.mp4'></video>"
    simweb.page("https://news.example.org/story", page + "<video src='b.mp4'></video></article>")
    (tmp_path / "links.txt").write_text("https://news.example.org/story\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path / "links.txt"))
    args = ("--retry-base", "0", "--retries", "0")

    first = json.loads(embedarc(archive_dir, "run", "--json", *args).output)
    second = json.loads(embedarc(archive_dir, "run", "--json", *args).output)

    assert first["articles"][0]["outcomes"] == {"archived": 1, "failed": 1}
    assert second["articles_retried"] == 1
    assert second["articles"][0]["outcomes"] == {"archived": 1, "failed": 1}
    urls = {row["url"] for row in db(archive_dir)["links"].rows}
    assert urls == {"https://news.example.org/media/a.mp4", "https://news.example.org/b.mp4"}


def test_an_item_whose_article_is_gone_is_not_fetched_every_run(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "links.txt").write_text("https://news.example.org/never-existed\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path / "links.txt"))

    first = embedarc(archive_dir, "run", "--json")
    simweb.clear_requests()
    second = json.loads(embedarc(archive_dir, "run", "--json").output)

    assert first.exit_code == 1  # worth a look once
    assert second["articles"] == [] and simweb.requests_to("news.example.org") == []
    [item] = list(db(archive_dir)["source_items"].rows)
    assert item["state"] == "rejected" and "404" in item["last_error"]


def test_check_leaves_links_archived_from_the_wayback_machine_alone(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    from tests.simweb import wayback

    wayback.install(simweb).capture("https://news.example.org/gone", b"<p>was</p>", "text/html")
    (tmp_path / "a.txt").write_text("Dead\nhttps://news.example.org/gone\n")
    embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))

    done = embedarc(archive_dir, "check", "--json")

    assert done.exit_code == 0
    assert json.loads(done.output)["checked"] == 0


def test_a_failed_link_the_article_no_longer_has_is_not_waited_for(
    simweb: SimWeb, archive_dir: Path
) -> None:
    simweb.fail("https://media.example.org/busy.mp4", 503)
    simweb.page("https://news.example.org/v1", "<html><title>V</title></html>")
    first = (
        "<html><head><link rel=canonical href='https://news.example.org/v1'></head><title>V</title>"
    )
    (archive_dir.parent / "v1.html").write_text(
        first + "<a href='https://media.example.org/busy.mp4'>x</a>"
    )
    (archive_dir.parent / "v2.html").write_text(first + "<p>updated: the clip is gone</p>")

    embedarc(archive_dir, "archive", str(archive_dir.parent / "v1.html"), "--retries", "0")
    done = embedarc(archive_dir, "archive", str(archive_dir.parent / "v2.html"))

    assert done.exit_code == 0, done.output
    assert list(db(archive_dir)["retries"].rows) == []
    assert [row["url"] for row in db(archive_dir)["links"].rows] == []


def test_an_unreadable_dropped_file_is_reported_once_then_left_alone(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    embedarc(archive_dir, "sources", "add", str(inbox))

    first = embedarc(archive_dir, "run")
    second = embedarc(archive_dir, "run")

    assert first.exit_code == 1 and "empty" in first.output
    assert second.exit_code == 0
    [item] = list(db(archive_dir)["source_items"].rows)
    assert item["state"] == "rejected"


def test_check_asks_a_platform_whether_its_post_is_still_there(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    sim = tg_install(simweb)
    post = sim.post("rotting", 7, "soon gone", datetime(2024, 3, 1, tzinfo=UTC), [Photo(64, 48)])
    (tmp_path / "a.txt").write_text(f"Will rot\n{post.url}\n")
    assert embedarc(archive_dir, "archive", str(tmp_path / "a.txt")).exit_code == 0
    alive = embedarc(archive_dir, "check", "--json")
    sim.deleted("rotting", 7)
    simweb.clear_requests()

    dead = embedarc(archive_dir, "check", "--json")

    assert alive.exit_code == 0 and json.loads(alive.output)["alive"] == 1
    assert dead.exit_code == 1 and json.loads(dead.output)["newly_dead"] == [post.url]
    [row] = list(db(archive_dir)["link_checks"].rows)
    assert json.loads(row["detail"])["post"] == "dead"
    assert [r.url for r in simweb.requests if r.host == "t.me"] == [f"{post.url}?embed=1&mode=tme"]
