"""`export --warc`: the bytes a WARC is made of, beyond what its readers check: the recorded
header block as it came, gzip members that name no time and no machine, a file that changes
while it is copied, and a large file copied without being held."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from embedarc.config import Settings
from embedarc.evidence import warc
from embedarc.job.pipeline import Input, Report
from tests.helpers import (
    CLIP,
    STORY,
    archive_world,
    export,
    make_world,
    records,
    run,
    sidecar_of,
    warcio_check,
)
from tests.simweb import SimWeb


def gzip_members(data: bytes) -> list[bytes]:
    """The gzip members a file is made of, each as its bytes."""
    members = []
    while data:
        member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        member.decompress(data)
        assert member.eof, "a member cut short"
        rest = member.unused_data
        members.append(data[: len(data) - len(rest)])
        data = rest
    return members


def test_a_header_value_that_is_not_ascii_is_exported_byte_for_byte(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    make_world(simweb)
    page = b"<html><head><title>Odd</title></head><body>nothing</body></html>"
    simweb.page(STORY, page, headers={"X-Odd": "caf\xe9 \xff"})  # sent as latin-1 bytes
    run(settings, Input(STORY, url=STORY))
    out = tmp_path / "odd.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert result.exit_code == 0, result.output
    [response] = [r for r in records(out) if r[0] == "response" and r[1] == STORY]
    head = response[4].partition(b"\r\n\r\n")[0]
    assert b"\r\nX-Odd: caf\xe9 \xff\r\n" in head + b"\r\n"  # not %-encoded, not re-read
    assert response[5]["WARC-Block-Digest"] == f"sha256:{hashlib.sha256(response[4]).hexdigest()}"
    assert warcio_check(out).returncode == 0


def test_every_record_is_a_gzip_member_that_names_no_time_no_file_and_no_system(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    archive_world(settings, simweb)
    out = tmp_path / "strike.warc.gz"

    export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    members = gzip_members(out.read_bytes())
    assert len(members) == len(records(out)) > 2
    for member in members:
        assert member[:3] == b"\x1f\x8b\x08"  # gzip, deflate
        assert member[3] == 0  # no name, no comment, no extra field
        assert member[4:8] == b"\0\0\0\0"  # no time
        assert member[9] == 255  # no operating system: the same bytes on any machine


def test_every_digest_is_sha256_given_once_and_none_added_to_a_metadata_record(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    archive_world(settings, simweb)
    out = tmp_path / "strike.warc.gz"

    export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    kinds = set()
    with out.open("rb") as f:
        for record in ArchiveIterator(f, no_record_parse=True):
            kinds.add(record.rec_type)
            fields = record.rec_headers.headers
            names = [name for name, _ in fields]
            assert names.count("WARC-Block-Digest") == 1
            assert names.count("WARC-Payload-Digest") <= 1
            assert all(v.startswith("sha256:") for n, v in fields if n.endswith("-Digest"))
            if record.rec_type in ("metadata", "warcinfo"):
                assert "WARC-Payload-Digest" not in names  # a block, not the payload of one
    assert kinds == {"warcinfo", "response", "request", "resource", "metadata"}


def altered_while_exported(
    monkeypatch: pytest.MonkeyPatch, uri: str, change: Callable[[Path], None], path: Path
) -> None:
    """The race no test can time: `path` changes after its record's digests are taken and
    before it is copied."""
    digests = warc._digests

    def then_changed(record: warc.Record) -> tuple[str, str, int]:
        found = digests(record)
        if record.uri == uri and record.kind == "response":
            change(path)
        return found

    monkeypatch.setattr(warc, "_digests", then_changed)


def grown(path: Path) -> None:
    with path.open("ab") as f:
        f.write(b"x")


def shrunk(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 1)


def one_byte_changed(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("change", [grown, shrunk, one_byte_changed])
def test_a_stored_file_that_changes_while_it_is_exported_stops_the_export(
    settings: Settings,
    simweb: SimWeb,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Path], None],
) -> None:
    report: Report = archive_world(settings, simweb)[0]
    [clip] = [
        m for m in sidecar_of(settings.archive_dir, report)["media"] if m["source_url"] == CLIP
    ]
    altered_while_exported(monkeypatch, CLIP, change, settings.archive_dir / clip["path"])
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "changed while it was exported" in result.output
    assert not out.exists() and list(tmp_path.glob(".*.tmp")) == []


def test_a_large_file_is_exported_without_being_held_in_memory(tmp_path: Path) -> None:
    size = 24 * 1024 * 1024
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:
        for n in range(size // (1024 * 1024)):  # incompressible, as footage is
            f.write(hashlib.sha256(str(n).encode()).digest() * (1024 * 1024 // 32))
    with big.open("rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n\r\n"
    record = warc.Record(
        "response",
        CLIP,
        "2024-03-01T12:00:00Z",
        "big",
        "application/http;msgtype=response",
        (head, big),
        payload_digest=sha,
        payload_at=1,
    )
    articles: list[Any] = [warc.ArticleRecords(records=[record])]
    out = tmp_path / "big.warc.gz"

    tracemalloc.start()
    try:
        with out.open("wb") as f:
            warc.write_warc(f, articles, "2024-03-01T12:00:00Z")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < size // 4, f"{peak} bytes held at once for a {size}-byte file"
    assert records(out)[1][2] == f"sha256:{sha}"
