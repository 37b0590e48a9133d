"""Capture records: every exchange an article relied on, as received, kept in its folder."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.job.pipeline import Input, Report
from embedarc.keeping.store import Store
from embedarc.network.capture_record import BODIES, RECORD
from embedarc.upkeep.verify import verify
from tests.helpers import CLIP, SHORT, STORY, archive_world, make_world, run, sidecar_of, text_input
from tests.simweb import SimWeb


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exchanges(archive_dir: Path, report: Report) -> list[dict[str, Any]]:
    path = archive_dir / str(report.folder) / RECORD
    return [json.loads(line) for line in path.read_text().splitlines()]


def verify_lines(archive_dir: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(
        cli, ["verify", "--archive-dir", str(archive_dir)], catch_exceptions=False
    )
    return result.exit_code, result.output.splitlines()


def test_every_exchange_is_recorded_with_its_status_line_raw_headers_and_body_hash(
    settings: Settings, simweb: SimWeb
) -> None:
    report, world = archive_world(settings, simweb)

    found = {e["url"]: e for e in exchanges(settings.archive_dir, report)}

    assert {STORY, SHORT, CLIP} <= set(found)
    assert any("getPostThread" in url for url in found)  # the post's API answer
    assert any("getBlob" in url for url in found)  # the post's photo
    page = found[STORY]
    assert (page["http_version"], page["status"], page["reason"]) == ("HTTP/1.1", 200, "OK")
    assert ["Content-Encoding", "gzip"] in page["response_headers"]  # names as sent
    assert page["method"] == "GET" and page["target"] == "/2024/03/strike"
    # The body as it came (gzip), kept because it is not the article's decoded bytes.
    assert page["body"]["sha256"] == sha(world["gzipped"]) and page["body"]["stored"] == "capture"
    folder = settings.archive_dir / str(report.folder)
    assert (folder / BODIES / sha(world["gzipped"])).read_bytes() == world["gzipped"]
    # A media body is the stored file: not kept twice.
    assert found[CLIP]["body"] == {
        "sha256": sha(world["clip"]),
        "size": len(world["clip"]),
        "complete": True,
        "stored": "store",
    }
    assert not (folder / BODIES / sha(world["clip"])).exists()
    # API answers kept as evidence are kept in the record too: evidence is replaced when the
    # post is looked up again, the record is not.
    [thread] = [e for url, e in found.items() if "getPostThread" in url]
    assert thread["body"]["stored"] == "capture"
    assert (folder / BODIES / thread["body"]["sha256"]).is_file()
    assert found[SHORT]["status"] == 302 and ["Location", CLIP] in found[SHORT]["response_headers"]


def test_a_post_two_articles_rely_on_is_in_both_records_though_asked_once(
    settings: Settings, simweb: SimWeb
) -> None:
    world = make_world(simweb)
    post = world["post"]
    one, two = run(
        settings,
        text_input(f"One\n{post.url}\n", label="one.txt"),
        text_input(f"Two\nsee {post.url} again\n", label="two.txt"),
    )

    asked = [r for r in simweb.requests_to("public.api.bsky.app") if "getPostThread" in r.path]
    assert len(asked) == 1
    for report in (one, two):
        urls = [e["url"] for e in exchanges(settings.archive_dir, report)]
        assert sum("getPostThread" in url for url in urls) == 1
        assert sum("getBlob" in url for url in urls) == 1


def test_a_header_value_that_is_not_utf8_is_kept_byte_for_byte(
    settings: Settings, simweb: SimWeb
) -> None:
    make_world(simweb)
    page = b"<html><head><title>Odd</title></head><body>nothing</body></html>"
    simweb.page(STORY, page, headers={"X-Odd": "caf\xe9 \xff"})  # sent as latin-1 bytes

    [report] = run(settings, Input(STORY, url=STORY))

    [odd] = [e for e in exchanges(settings.archive_dir, report) if e["url"] == STORY]
    [value] = [v for k, v in odd["response_headers"] if k == "X-Odd"]
    assert value.encode("latin-1") == b"caf\xe9 \xff"
    assert odd["body"]["stored"] == "capture"  # the original's bytes, kept for the record


def test_a_gzip_bomb_is_recorded_as_received_and_never_inflated_by_the_capture(
    settings: Settings, simweb: SimWeb
) -> None:
    make_world(simweb)
    bomb = "https://bomb.example.com/page"
    simweb.page(bomb, "<html>x</html>")
    simweb.fault(bomb, "gzip_bomb")

    [report] = run(settings, text_input(f"Bomb\n{bomb}\n"))

    recorded = [e for e in exchanges(settings.archive_dir, report) if e["url"] == bomb]
    assert recorded
    for exchange in recorded:
        headers = dict(exchange["response_headers"])
        assert headers["Content-Encoding"] == "gzip"
        assert exchange["body"]["size"] < 1024 * 1024  # what came, not what it inflates to
    folder = settings.archive_dir / str(report.folder)
    assert all(p.stat().st_size < 1024 * 1024 for p in (folder / BODIES).glob("*"))


def test_a_failed_article_write_leaves_no_capture_record(
    settings: Settings, simweb: SimWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_world(simweb)
    real = Store.write_file

    def full_at_sidecar(self: Store, path: Path, data: bytes, *args: Any, **kw: Any) -> None:
        if path.name == "article.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(self, path, data, *args, **kw)

    monkeypatch.setattr(Store, "write_file", full_at_sidecar)
    [report] = run(settings, Input(STORY, url=STORY))

    assert report.error is not None and "No space left" in report.error
    assert list((settings.archive_dir / "articles").rglob("*")) == []
    assert list((settings.archive_dir / "tmp").glob("capture-*")) == []  # the spool is gone


def test_a_second_run_adds_its_exchanges_and_keeps_the_first_runs(
    settings: Settings, simweb: SimWeb
) -> None:
    report, _ = archive_world(settings, simweb)
    first = {e["id"] for e in exchanges(settings.archive_dir, report)}

    [again] = run(settings, Input(STORY, url=STORY))

    assert again.folder == report.folder
    second = exchanges(settings.archive_dir, again)
    assert first < {e["id"] for e in second}
    assert [e["time"] for e in second] == sorted(e["time"] for e in second)


def test_verify_reports_each_capture_problem_on_its_own_line(
    settings: Settings, simweb: SimWeb
) -> None:
    report, world = archive_world(settings, simweb)
    assert verify_lines(settings.archive_dir)[0] == 0
    folder = settings.archive_dir / str(report.folder)
    body = folder / BODIES / sha(world["gzipped"])
    body.write_bytes(body.read_bytes()[:-1] + b"!")  # one byte changed
    (folder / BODIES / ("0" * 64)).write_bytes(b"stray")
    record = folder / RECORD
    lines = record.read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    entry = next(
        e
        for e in entries
        if e["body"]["stored"] == "capture" and e["body"]["sha256"] != sha(world["gzipped"])
    )
    (folder / BODIES / entry["body"]["sha256"]).unlink()

    code, output = verify_lines(settings.archive_dir)

    assert code == 1
    rel = str(report.folder)
    assert any(
        line.startswith(f"altered: {rel}/{BODIES}/{sha(world['gzipped'])}: does not hash")
        for line in output
    )
    assert f"unindexed: {rel}/{BODIES}/{'0' * 64}: no exchange cites it" in output
    missing = f"{BODIES}/{entry['body']['sha256']}"
    assert any(line.startswith(f"missing: {rel}/{missing}") for line in output)


def test_verify_reports_an_unreadable_capture_record(settings: Settings, simweb: SimWeb) -> None:
    report, _ = archive_world(settings, simweb)
    record = settings.archive_dir / str(report.folder) / RECORD
    record.write_text(record.read_text() + "{not json\n")

    code, output = verify_lines(settings.archive_dir)

    assert code == 1
    assert any(line.startswith(f"altered: {report.folder}/{RECORD}: unreadable") for line in output)


def test_remove_takes_the_capture_record_with_the_folder(
    settings: Settings, simweb: SimWeb
) -> None:
    report, _ = archive_world(settings, simweb)
    result = CliRunner().invoke(
        cli,
        ["remove", "--archive-dir", str(settings.archive_dir), str(report.article_id)],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    assert list(settings.archive_dir.rglob("exchanges.jsonl")) == []
    assert verify_lines(settings.archive_dir)[0] == 0


def test_a_gzip_page_is_decoded_for_the_article_and_kept_encoded_for_the_record(
    settings: Settings, simweb: SimWeb
) -> None:
    report, world = archive_world(settings, simweb)

    data = sidecar_of(settings.archive_dir, report)

    assert data["article"]["content_sha256"] == sha(world["page"])
    assert gzip.decompress(world["gzipped"]) == world["page"]


def test_ytdlps_requests_are_recorded_and_an_hls_stream_exports_as_checkable_records(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    from tests.helpers import export, make_tweet, records, warcio_check
    from tests.simweb import Video

    tweet = make_tweet(simweb, 26, [Video(320, 180)])
    [master] = [f.url for f in tweet.all_files if f.role == "hls" and "master.m3u8" in f.url]
    [report] = run(settings, text_input(f"Stream\n{master}\n"))

    found = exchanges(settings.archive_dir, report)
    asked = [r.url for r in simweb.requests_to("video.twimg.com")]
    assert sorted(e["url"] for e in found if "video.twimg.com" in e["url"]) == sorted(asked)
    # Playlists yt-dlp read whole are kept (resolution only looked at the first's head).
    playlists = [e for e in found if ".m3u8" in e["url"] and e["body"]["complete"]]
    assert playlists and all(e["body"]["stored"] == "capture" for e in playlists)
    # Segments are remuxed into the stored file: their bodies are not it, so only hashed.
    segments = [e for e in found if ".m3u8" not in e["url"] and "video.twimg.com" in e["url"]]
    assert segments and all(e["body"]["stored"] == "none" for e in segments)
    warc = tmp_path / "hls.warc.gz"
    result = export(settings.archive_dir, "--warc", "--all", "-o", str(warc))
    assert result.exit_code == 0 and "body not kept" in result.output
    assert warcio_check(warc).returncode == 0
    kinds = {(r[0], r[1]) for r in records(warc)}
    assert all(("metadata", s["url"]) in kinds for s in segments)


def test_a_cookie_a_server_sets_is_recorded_by_name_only_and_said_to_be(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    from tests.helpers import export, records

    make_world(simweb)
    page = b"<html><head><title>Cookie</title></head><body>nothing</body></html>"
    simweb.page(STORY, page, headers={"Set-Cookie": "session=s3cret-v4lue; Path=/; Secure"})

    [report] = run(settings, Input(STORY, url=STORY))

    [answer] = [e for e in exchanges(settings.archive_dir, report) if e["url"] == STORY]
    assert ["Set-Cookie", "session=[redacted]; Path=/; Secure"] in answer["response_headers"]
    assert answer["redacted"] == ["Set-Cookie"]
    warc = tmp_path / "c.warc.gz"
    export(settings.archive_dir, "--warc", "--all", "-o", str(warc))
    leaked = [
        p for p in settings.archive_dir.rglob("*") if p.is_file() and b"s3cret" in p.read_bytes()
    ]
    assert leaked == [] and b"s3cret" not in gzip.decompress(warc.read_bytes())
    [response] = [r for r in records(warc) if r[0] == "response" and r[1] == STORY]
    assert response[5]["WARC-Embedarc-Redacted"] == "Set-Cookie"


def test_an_unreadable_capture_record_is_left_as_it_is_for_verify_to_report(
    settings: Settings, simweb: SimWeb
) -> None:
    report, _ = archive_world(settings, simweb)
    record = settings.archive_dir / str(report.folder) / RECORD
    damaged = record.read_bytes()[:-40] + b"\xff\xfe not what was written\n"
    record.write_bytes(damaged)

    [again] = run(settings, Input(STORY, url=STORY))

    assert again.error is None and record.read_bytes() == damaged
    code, output = verify_lines(settings.archive_dir)
    assert code == 1 and any(
        line.startswith(f"altered: {report.folder}/{RECORD}") for line in output
    )


def test_an_article_that_changed_keeps_both_pages_it_was_served_in_its_record(
    settings: Settings, simweb: SimWeb
) -> None:
    make_world(simweb)
    first = b"<html><head><title>Changing</title></head><body>first</body></html>"
    second = b"<html><head><title>Changing</title></head><body>second</body></html>"
    simweb.page(STORY, first)
    run(settings, Input(STORY, url=STORY))
    simweb.page(STORY, second)

    [report] = run(settings, Input(STORY, url=STORY))

    folder = settings.archive_dir / str(report.folder)
    assert (folder / "article.html").read_bytes() == second  # the original is replaced...
    bodies = {e["body"]["sha256"] for e in exchanges(settings.archive_dir, report)}
    assert {sha(first), sha(second)} <= bodies  # ...and the record still proves both
    assert (folder / BODIES / sha(first)).read_bytes() == first
    assert verify_lines(settings.archive_dir)[0] == 0


def test_a_kept_body_replaced_by_a_link_is_reported_not_followed(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    """`capture/bodies/<sha256>` made a link to a file outside the archive holding the same
    bytes: `verify` must not vouch for it through the link (nor crash on an unreadable one)."""
    report, world = archive_world(settings, simweb)
    body = settings.archive_dir / str(report.folder) / BODIES / sha(world["gzipped"])
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(body.read_bytes())
    body.unlink()
    body.symlink_to(outside)

    checked = verify(settings.archive_dir)

    relative = body.relative_to(settings.archive_dir).as_posix()
    assert relative in {p.path for p in checked.altered}, checked.as_dict()
    assert not checked.sound
