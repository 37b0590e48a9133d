"""Sources that misbehave: local paths offered as articles, bad lines, items that keep failing,
feeds that stop answering; and an index made before source items had a retry schedule."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from embedarc.keeping.index import INDEX_NAME, Index, m001_initial, m002_operational_state
from tests.helpers import FEED_URL, db, embedarc, rss, serve_feed
from tests.simweb import SimWeb

SECRET = "s3cret-marker-never-archived"
STORY = "https://news.example.org/story"
BUSY = "https://news.example.org/busy"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A local file nobody asked to archive."""
    path = tmp_path / "secret.txt"
    path.write_text(f"Private notes\n{SECRET}\n")
    return path


@pytest.fixture
def story(simweb: SimWeb) -> str:
    simweb.page(STORY, "<html><title>Story</title><article><p>text</p></article></html>")
    return STORY


def items(archive_dir: Path) -> dict[str, dict[str, object]]:
    return {row["key"]: row for row in db(archive_dir)["source_items"].rows}


def archived_anywhere(archive_dir: Path, marker: str) -> bool:
    """Whether any file in the archive, the index included, holds `marker`."""
    needle = marker.encode()
    return any(
        needle in path.read_bytes() for path in archive_dir.rglob("*") if path.is_file()
    ) or any(marker in (row["title"] or "") for row in db(archive_dir)["articles"].rows)


def add_pending_item(archive_dir: Path, source_location: str, key: str, target: str) -> None:
    """An item an older version let in, waiting in the index to be read."""
    table = db(archive_dir)["sources"]
    [source] = list(table.rows_where("location = ?", [source_location]))
    db(archive_dir).table("source_items").insert(
        {
            "source_id": source["id"],
            "key": key,
            "target": target,
            "first_seen": "2024-01-01T00:00:00Z",
            "state": "pending",
        }
    )


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- 2: local files only from folder sources -------------------------------------------------


def test_a_feed_item_linking_a_local_file_is_rejected_not_read(
    simweb: SimWeb,
    archive_dir: Path,
    secret: Path,
    story: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(secret.parent / "..")
    relative = os.path.join(secret.parent.name, "x", "..", secret.name)
    links = [str(secret), secret.as_uri(), relative, story]
    serve_feed(simweb, rss([(f"Item {n}", link) for n, link in enumerate(links)]))
    embedarc(archive_dir, "sources", "add", FEED_URL)

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 1, done.output
    report = json.loads(done.stdout)
    assert [a["title"] for a in report["articles"]] == ["Story"]
    assert len(report["rejected_items"]) == 3
    found = items(archive_dir)
    assert found.pop(story)["state"] == "archived"
    assert len(found) == 3
    for row in found.values():
        assert row["state"] == "rejected"
        assert "not an http(s) URL" in str(row["last_error"])
    assert not archived_anywhere(archive_dir, SECRET)


def test_a_url_list_line_naming_a_local_file_is_rejected_not_read(
    simweb: SimWeb, archive_dir: Path, secret: Path, story: str, tmp_path: Path
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_text(f"{secret}\nfile://{secret}\n../secret.txt\n{story}\n")
    embedarc(archive_dir, "sources", "add", str(listing))

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 1
    assert [a["title"] for a in json.loads(done.stdout)["articles"]] == ["Story"]
    states = {key: row["state"] for key, row in items(archive_dir).items()}
    assert states == {
        str(secret): "rejected",
        f"file://{secret}": "rejected",
        "../secret.txt": "rejected",
        story: "archived",
    }
    assert not archived_anywhere(archive_dir, SECRET)


def test_a_local_path_an_older_run_left_pending_is_rejected_not_read(
    simweb: SimWeb, archive_dir: Path, secret: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_text("# nothing yet\n")
    embedarc(archive_dir, "sources", "add", str(listing))
    add_pending_item(archive_dir, str(listing.resolve()), str(secret), str(secret))

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 1
    assert json.loads(done.stdout)["articles"] == []
    [row] = items(archive_dir).values()
    assert row["state"] == "rejected" and "not an http(s) URL" in str(row["last_error"])
    assert not archived_anywhere(archive_dir, SECRET)


def test_a_dropped_symlink_to_a_file_outside_the_folder_is_rejected(
    simweb: SimWeb, archive_dir: Path, secret: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "leak.txt").symlink_to(secret)
    (inbox / "real.txt").write_text("Dropped\nno links\n")
    embedarc(archive_dir, "sources", "add", str(inbox))

    done = embedarc(archive_dir, "run", "--json")

    assert done.exit_code == 1
    assert [a["title"] for a in json.loads(done.stdout)["articles"]] == ["Dropped"]
    leak = items(archive_dir)["leak.txt"]
    assert leak["state"] == "rejected" and "outside the folder" in str(leak["last_error"])
    assert not archived_anywhere(archive_dir, SECRET)


def test_a_folder_item_turned_into_an_outside_symlink_before_its_run_is_rejected(
    simweb: SimWeb, archive_dir: Path, secret: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    embedarc(archive_dir, "sources", "add", str(inbox))
    # Seen as a plain file by a poll, then swapped for a link before it was read.
    add_pending_item(archive_dir, str(inbox.resolve()), "late.txt", str(inbox / "late.txt"))
    (inbox / "late.txt").symlink_to(secret)

    done = embedarc(archive_dir, "run")

    assert done.exit_code == 1
    assert items(archive_dir)["late.txt"]["state"] == "rejected"
    assert not archived_anywhere(archive_dir, SECRET)


def test_a_folder_item_that_names_a_path_out_of_the_folder_is_rejected(
    simweb: SimWeb, archive_dir: Path, secret: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    embedarc(archive_dir, "sources", "add", str(inbox))
    escape = str(inbox / ".." / secret.name)
    add_pending_item(archive_dir, str(inbox.resolve()), "../secret.txt", escape)

    done = embedarc(archive_dir, "run")

    assert done.exit_code == 1
    row = items(archive_dir)["../secret.txt"]
    assert row["state"] == "rejected" and "directly inside the folder" in str(row["last_error"])
    assert not archived_anywhere(archive_dir, SECRET)


# -- 9: bad lines are rejected one by one ------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"https://news.example.org/a\n\x00\x01\x02binary\n", b"https://news.example.org/\xff\xfe\n"],
    ids=["nul-bytes", "not-utf-8"],
)
def test_sources_add_refuses_a_binary_url_list(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, content: bytes
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_bytes(content)

    done = embedarc(archive_dir, "sources", "add", str(listing))

    assert done.exit_code == 2
    assert len(done.output.strip().splitlines()) == 1, done.output
    assert "not a list of URLs" in done.output and "Traceback" not in done.output
    assert json.loads(embedarc(archive_dir, "sources", "list", "--json").output) == []


BAD_LINES = {
    b"https://news.example.org/a\x00b": "control characters",
    b"https://news.example.org/\xff\xfe": "not UTF-8",
    b"https://news.example.org/two words": "blanks",
    b"https:///no-host": "no host",
    b"http://[::1": "not a valid URL",
    b"https://news.example.org:99999/": "bad port",
    b"ftp://news.example.org/file": "not an http(s) URL",
    b"https://news.example.org/" + b"a" * 9000: "longer than",
}


def test_bad_lines_of_a_url_list_are_rejected_one_by_one_and_the_rest_archived(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, story: str
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_text("# my list\n")
    embedarc(archive_dir, "sources", "add", str(listing))
    # The list turns bad after it was added: another program appends to it.
    listing.write_bytes(b"\n".join([*BAD_LINES, story.encode()]) + b"\n")

    first = embedarc(archive_dir, "run", "--json")
    second = embedarc(archive_dir, "run", "--json")

    assert first.exit_code == 1, first.output
    report = json.loads(first.stdout)
    assert [a["title"] for a in report["articles"]] == ["Story"]
    reasons = sorted(r["reason"] for r in report["rejected_items"])
    assert len(reasons) == len(BAD_LINES)
    for expected in BAD_LINES.values():
        assert any(expected in reason for reason in reasons), (expected, reasons)
    rows = items(archive_dir)
    assert sum(row["state"] == "rejected" for row in rows.values()) == len(BAD_LINES)
    assert all(len(key) < 400 and "\x00" not in key for key in rows)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["rejected_items"] == []


def test_a_url_list_with_bad_lines_prints_reasons_not_a_traceback(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, story: str
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_text("")
    embedarc(archive_dir, "sources", "add", str(listing))
    listing.write_bytes(b"https://news.example.org/a\x00b\n" + story.encode() + b"\n")

    done = embedarc(archive_dir, "run")

    assert done.exit_code == 1
    assert "Traceback" not in done.output and "internal error" not in done.output
    assert "https://news.example.org/a\\x00b: contains blanks or control characters" in done.output
    assert "'Story'" in done.output


# -- 10: items get the links' retry schedule ---------------------------------------------------


def busy_list(simweb: SimWeb, tmp_path: Path, archive_dir: Path, **headers: str) -> None:
    simweb.fail(BUSY, 503, headers=headers or None)
    (tmp_path / "links.txt").write_text(f"{BUSY}\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path / "links.txt"))


def test_an_item_answering_503_waits_for_its_next_attempt(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    busy_list(simweb, tmp_path, archive_dir)
    before = datetime.now(UTC)

    first = embedarc(archive_dir, "run", "--retries", "0", "--retry-base", "1h")
    simweb.clear_requests()
    second = embedarc(archive_dir, "run", "--retries", "0", "--retry-base", "1h")

    assert first.exit_code == 1
    [row] = items(archive_dir).values()
    assert row["state"] == "pending" and row["attempts"] == 1 and "503" in str(row["last_error"])
    next_attempt = parse_time(str(row["next_attempt"]))
    assert before + timedelta(minutes=59) < next_attempt < before + timedelta(minutes=61)
    assert second.exit_code == 0, second.output
    assert simweb.requests_to("news.example.org") == []


def test_an_items_retry_after_sets_its_next_attempt(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    busy_list(simweb, tmp_path, archive_dir, **{"Retry-After": "7200"})
    before = datetime.now(UTC)

    embedarc(archive_dir, "run", "--retries", "0", "--retry-base", "1m")

    [row] = items(archive_dir).values()
    next_attempt = parse_time(str(row["next_attempt"]))
    assert before + timedelta(seconds=7100) < next_attempt < before + timedelta(seconds=7300)


def test_an_item_failing_too_often_becomes_failed_permanently(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    busy_list(simweb, tmp_path, archive_dir)
    args = ("--retries", "0", "--retry-base", "0", "--max-attempts", "2")

    embedarc(archive_dir, "run", *args)
    embedarc(archive_dir, "run", *args)
    simweb.clear_requests()
    third = embedarc(archive_dir, "run", *args)

    [row] = items(archive_dir).values()
    assert row["state"] == "failed_permanently" and row["attempts"] == 2
    assert third.exit_code == 0 and simweb.requests_to("news.example.org") == []
    status = embedarc(archive_dir, "status", "--json")
    assert status.exit_code == 1
    [permanent] = json.loads(status.output)["items_failed_permanently"]
    assert permanent["target"] == BUSY and permanent["attempts"] == 2
    text = embedarc(archive_dir, "status")
    assert text.exit_code == 1 and f"item failed permanently: {BUSY}" in text.output


def test_run_retry_failed_tries_a_failed_permanently_item_afresh(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    simweb.fail(BUSY, 503, times=2)
    simweb.page(BUSY, "<html><title>Back</title><article>up again</article></html>")
    (tmp_path / "links.txt").write_text(f"{BUSY}\n")
    embedarc(archive_dir, "sources", "add", str(tmp_path / "links.txt"))
    args = ("--retries", "0", "--retry-base", "0", "--max-attempts", "2")
    embedarc(archive_dir, "run", *args)
    embedarc(archive_dir, "run", *args)

    done = embedarc(archive_dir, "run", "--json", "--retry-failed", *args)

    assert done.exit_code == 0, done.output
    assert [a["title"] for a in json.loads(done.stdout)["articles"]] == ["Back"]
    [row] = items(archive_dir).values()
    assert row["state"] == "archived" and row["next_attempt"] is None
    assert embedarc(archive_dir, "status").exit_code == 0


def test_status_shows_items_waiting_for_a_retry(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path
) -> None:
    busy_list(simweb, tmp_path, archive_dir)
    embedarc(archive_dir, "run", "--retries", "0", "--retry-base", "1h")

    as_json = embedarc(archive_dir, "status", "--json")
    text = embedarc(archive_dir, "status")

    report = json.loads(as_json.output)
    assert as_json.exit_code == 0  # waiting is not yet a reason to alert
    assert report["items"] == {"pending": 1}
    assert (report["items_retry_due"], report["items_retry_later"]) == (0, 1)
    assert report["items_next_retry"] == items(archive_dir)[BUSY]["next_attempt"]
    assert "item retries: 0 due now, 1 later" in text.output


# -- 14: status flags a source whose last poll failed -------------------------------------------


def test_status_flags_a_feed_whose_last_poll_failed(
    simweb: SimWeb, archive_dir: Path, story: str
) -> None:
    simweb.fail(FEED_URL, 404, times=1)
    serve_feed(simweb, rss([("Story", story)]))
    embedarc(archive_dir, "sources", "add", FEED_URL)
    embedarc(archive_dir, "run")

    failing = embedarc(archive_dir, "status", "--json")
    text = embedarc(archive_dir, "status")
    embedarc(archive_dir, "run")
    recovered = embedarc(archive_dir, "status", "--json")

    assert failing.exit_code == 1
    [source] = json.loads(failing.output)["failing_sources"]
    assert source["location"] == FEED_URL and "404" in source["last_error"]
    assert json.loads(failing.output)["needs_attention"] is True
    assert text.exit_code == 1 and "last poll FAILED" in text.output and "404" in text.output
    assert recovered.exit_code == 0, recovered.output
    assert json.loads(recovered.output)["failing_sources"] == []


# -- the named migration -----------------------------------------------------------------------


def test_an_index_made_before_item_retries_opens_and_keeps_its_rows(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, story: str
) -> None:
    listing = tmp_path / "links.txt"
    listing.write_text(f"{story}\nhttps://news.example.org/done\n")
    archive_dir.mkdir(parents=True, exist_ok=True)
    old = sqlite_utils.Database(sqlite3.connect(archive_dir / INDEX_NAME))
    m001_initial(old)
    m002_operational_state(old)
    old.table("_migrations").insert_all(
        [
            {"name": "m001_initial", "applied_at": "2024-01-01T00:00:00Z"},
            {"name": "m002_operational_state", "applied_at": "2024-01-01T00:00:00Z"},
        ],
        pk="name",
    )
    old.table("sources").insert(
        {"id": 1, "kind": "list", "location": str(listing.resolve()), "added_at": "2024-01-01"}
    )
    for key, state in ((story, "pending"), ("https://news.example.org/done", "archived")):
        old.table("source_items").insert(
            {"source_id": 1, "key": key, "target": key, "first_seen": "2024-01-01", "state": state}
        )
    old.conn.commit()
    old.close()

    Index(archive_dir / INDEX_NAME).close()
    done = embedarc(archive_dir, "run", "--json")

    assert "m003_source_item_retries" in {r["name"] for r in db(archive_dir)["_migrations"].rows}
    assert {"attempts", "next_attempt", "last_attempt"} <= set(
        db(archive_dir)["source_items"].columns_dict
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["new_items"] == 0 and [a["title"] for a in report["articles"]] == ["Story"]
    states = {key: row["state"] for key, row in items(archive_dir).items()}
    assert states == {story: "archived", "https://news.example.org/done": "archived"}
