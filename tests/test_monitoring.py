"""What monitoring sees: `check`, `doctor` and `run --json` never report "fine" when they could
not look, or when something else answered in place of a service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.keeping.lock import run_lock
from tests.helpers import article_world, embedarc, new_archive, photo_url
from tests.simweb import SimWeb
from tests.simweb import wayback as wayback_sim

SYNDICATION = "https://cdn.syndication.twimg.com/tweet-result"


def archived_one(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> str:
    [tweet] = article_world(simweb, 1)
    (tmp_path / "a.txt").write_text(f"Watched\n{tweet.status_url}\n")
    assert embedarc(archive_dir, "archive", str(tmp_path / "a.txt")).exit_code == 0
    return photo_url(tweet)


def test_check_without_network_exits_1_and_says_why(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archived_one(simweb, archive_dir, tmp_path)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there: no network

    done = embedarc(archive_dir, "check")

    assert done.exit_code == 1
    assert "0 alive, 0 dead, 1 unknown" in done.output
    assert "could not check 1 links" in done.output and "Connection refused" in done.output


def test_check_reports_a_server_error_as_unknown_with_its_reason(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    photo = archived_one(simweb, archive_dir, tmp_path)
    simweb.fail(photo, 503)

    done = embedarc(archive_dir, "check", "--json")

    report = json.loads(done.output)
    assert done.exit_code == 1
    assert report["unknown"] == 1 and report["newly_dead"] == []
    assert any("HTTP 503" in reason for reason in report["unknown_reasons"])


def test_check_of_live_links_still_exits_0(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    archived_one(simweb, archive_dir, tmp_path)
    done = embedarc(archive_dir, "check", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["alive"] == 1


def test_doctor_passes_when_every_service_answers_as_itself(
    simweb: SimWeb, archive_dir: Path
) -> None:
    wayback_sim.install(simweb)
    done = embedarc(archive_dir, "doctor", "--json")
    findings = {f["name"]: f for f in json.loads(done.output)}
    assert done.exit_code == 0, done.output
    assert findings["syndication API"]["ok"] and findings["Wayback Machine"]["ok"]


def test_doctor_fails_a_service_that_answers_404_for_a_tweet_that_exists(
    simweb: SimWeb, archive_dir: Path
) -> None:
    wayback_sim.install(simweb)
    simweb.fail(SYNDICATION, 404)  # e.g. a filtering proxy answering 404 for everything

    done = embedarc(archive_dir, "doctor")

    assert done.exit_code == 1
    line = next(x for x in done.output.splitlines() if "syndication API" in x)
    assert line.startswith("FAIL") and "404" in line


def test_doctor_fails_when_the_wayback_machine_is_not_what_answers(
    simweb: SimWeb, archive_dir: Path
) -> None:
    # No Wayback Machine in this web: archive.org answers 404, as a captive portal might.
    done = embedarc(archive_dir, "doctor")

    assert done.exit_code == 1
    assert "FAIL Wayback Machine" in done.output


def test_doctor_fails_a_blocked_host(simweb: SimWeb, archive_dir: Path) -> None:
    wayback_sim.install(simweb)
    simweb.fail("https://video.twimg.com/", 403)

    done = embedarc(archive_dir, "doctor")

    assert done.exit_code == 1
    assert "FAIL video CDN" in done.output and "forbidden" in done.output


def test_run_json_says_so_when_another_run_holds_the_archive(
    simweb: SimWeb, archive_dir: Path, settings: Settings
) -> None:
    new_archive(archive_dir)
    with run_lock(archive_dir) as busy:
        assert busy is None
        done = embedarc(archive_dir, "run", "--json")

    report = json.loads(done.output)
    assert done.exit_code == 0
    assert report["busy_pid"] is not None and report["articles"] == []
