"""A media body is hashed once: its capture record's SHA-256 names the stored file too, when
both are of the same bytes; when they are not, each is still the hash of its own bytes.

The record's hash is of the body as it came over the wire (content-encoding included), the
store's name of the bytes it keeps. They are the same bytes for an unencoded body read whole
in one go; not for an encoded one, a resumed one (the exchange carries the range, the file is
all of it), one cut off, nor a file yt-dlp wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.errors import TooLarge
from embedarc.job.pipeline import Report
from embedarc.keeping import store as store_module
from embedarc.keeping.store import Received, Store
from embedarc.network.capture_record import BODIES, RECORD
from tests.helpers import link_entry, make_world, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb.media import make_mp4

ONE = "https://media.example.org/one.mp4"
TWO = "https://media.example.org/two.mp4"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def records(archive_dir: Path, report: Report, url: str) -> list[dict[str, Any]]:
    path = archive_dir / str(report.folder) / RECORD
    found = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in found if r["url"] == url]


def stored(archive_dir: Path) -> dict[str, bytes]:
    """The store's files by the SHA-256 their names give."""
    files = (p for p in (archive_dir / "media").rglob("*") if p.is_file())
    return {p.name.split(".")[0]: p.read_bytes() for p in files}


def verified(archive_dir: Path) -> int:
    result = CliRunner().invoke(
        cli, ["verify", "--archive-dir", str(archive_dir)], catch_exceptions=False
    )
    return result.exit_code


class Fed:
    """Every byte the store's own SHA-256 objects are fed (they hash as before; this looks)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data = bytearray()
        real = hashlib.sha256
        fed = self.data

        class Seen:
            def __init__(self, data: bytes = b"") -> None:
                self._hash = real(data)
                fed.extend(data)

            def update(self, data: bytes) -> None:
                fed.extend(data)
                self._hash.update(data)

            def hexdigest(self) -> str:
                return self._hash.hexdigest()

        class Hashlib:
            sha256 = Seen

        monkeypatch.setattr(store_module, "hashlib", Hashlib)


# -- the same bytes: one hash ------------------------------------------------------------------


def test_an_unencoded_media_body_is_hashed_once_for_its_record_and_its_stored_name(
    settings: Settings, simweb: SimWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = make_mp4(160, 120, 2.0, 41, cache_dir=simweb.media_dir)
    two = make_mp4(160, 120, 2.0, 42, cache_dir=simweb.media_dir)
    simweb.file(ONE, one, "video/mp4")
    simweb.file(TWO, two, "video/mp4")
    fed = Fed(monkeypatch)

    # Two files of one article: downloaded at the same time, each with its own hash.
    [report] = run(settings, text_input(f"Two clips\n{ONE}\n{TWO}\n"))

    assert stored(settings.archive_dir) == {sha(one): one, sha(two): two}
    for url, data in ((ONE, one), (TWO, two)):
        [record] = records(settings.archive_dir, report, url)
        assert record["body"] == {
            "sha256": sha(data),
            "size": len(data),
            "complete": True,
            "stored": "store",
        }
    # The store took the record's hash: not one byte of either body went through its own.
    hashed_again = [url for url, data in ((ONE, one), (TWO, two)) if data[-4096:] in fed.data]
    assert hashed_again == []
    assert verified(settings.archive_dir) == 0


def test_an_unencoded_body_of_no_stated_type_is_the_stored_file_not_a_second_copy(
    settings: Settings, simweb: SimWeb
) -> None:
    # No Content-Type: the record keeps the body (it could be a page), the store has it too.
    world = make_world(simweb)
    post = world["post"]
    [original] = post.originals
    simweb.route(f"{post.account.pds}/xrpc/com.atproto.sync.getBlob", _answer(original, None))

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    assert sha(original) in stored(settings.archive_dir)
    [record] = [r for r in _all(settings.archive_dir, report) if "getBlob" in r["url"]]
    assert record["body"]["sha256"] == sha(original) and record["body"]["stored"] == "store"
    folder = settings.archive_dir / str(report.folder)
    assert not (folder / BODIES / sha(original)).exists()
    assert verified(settings.archive_dir) == 0


# -- other bytes: each its own hash ------------------------------------------------------------


def test_a_gzip_encoded_media_body_is_recorded_as_sent_and_stored_decoded(
    settings: Settings, simweb: SimWeb
) -> None:
    sent = _same_length_gzip(random.Random(43).randbytes(200_000))
    decoded = gzip.decompress(sent)
    assert len(sent) == len(decoded) and sent != decoded  # a count of bytes cannot tell them
    simweb.page(ONE, sent, content_type="video/mp4", headers={"Content-Encoding": "gzip"})

    [report] = run(settings, text_input(f"Encoded\n{ONE}\n"))

    assert stored(settings.archive_dir) == {sha(decoded): decoded}
    [record] = records(settings.archive_dir, report, ONE)
    assert record["body"] == {
        "sha256": sha(sent),
        "size": len(sent),
        "complete": True,
        "stored": "none",  # a media body that is not the stored file
    }
    assert verified(settings.archive_dir) == 0


def test_an_encoded_body_of_no_stated_type_is_kept_in_the_record_and_stored_decoded(
    settings: Settings, simweb: SimWeb
) -> None:
    world = make_world(simweb)
    post = world["post"]
    [original] = post.originals
    sent = gzip.compress(original, mtime=0)
    simweb.route(f"{post.account.pds}/xrpc/com.atproto.sync.getBlob", _answer(sent, "gzip"))

    [report] = run(settings, text_input(f"A post\n{post.url}\n"))

    assert sha(original) in stored(settings.archive_dir)
    [record] = [r for r in _all(settings.archive_dir, report) if "getBlob" in r["url"]]
    assert record["body"]["sha256"] == sha(sent) and record["body"]["stored"] == "capture"
    folder = settings.archive_dir / str(report.folder)
    assert (folder / BODIES / sha(sent)).read_bytes() == sent
    assert verified(settings.archive_dir) == 0


def test_a_resumed_download_records_each_part_as_sent_and_names_the_file_by_all_of_it(
    settings: Settings, simweb: SimWeb
) -> None:
    data = make_mp4(160, 120, 2.0, 44, cache_dir=simweb.media_dir)
    simweb.file(ONE, data, "video/mp4")
    simweb.fault(ONE, "truncate", times=1)
    half = len(data) // 2

    [report] = run(settings, text_input(f"Cut off\n{ONE}\n"))

    assert stored(settings.archive_dir) == {sha(data): data}
    bodies = sorted(
        (r["status"], r["body"]["sha256"], r["body"]["size"], r["body"]["complete"])
        for r in records(settings.archive_dir, report, ONE)
    )
    assert (
        bodies
        == [
            (200, sha(data[:half]), half, False),  # what came before the server hung up
            (200, sha(b""), 0, False),  # resolution's look before the resumed download: unread
            (206, sha(data[half:]), len(data) - half, True),  # the rest: not the file
        ]
    )
    assert verified(settings.archive_dir) == 0


def test_a_body_cut_off_midway_is_recorded_as_far_as_it_came_and_nothing_is_stored(
    settings: Settings, simweb: SimWeb
) -> None:
    data = make_mp4(160, 120, 2.0, 45, cache_dir=simweb.media_dir)
    simweb.file(ONE, data, "video/mp4")
    simweb.fault(ONE, "trickle", chunk=4096, interval=0.05)

    fast = settings.with_updates(timeout=10, max_download_time=0.3, retries=0)
    [report] = run(fast, text_input(f"Trickled\n{ONE}\n"))

    assert link_entry(sidecar_of(fast.archive_dir, report), ONE)["outcome"] == "failed"
    assert stored(fast.archive_dir) == {}
    for record in records(fast.archive_dir, report, ONE):
        body = record["body"]
        assert not body["complete"] and 0 < body["size"] < len(data)
        assert body["sha256"] == sha(data[: body["size"]])


def test_a_file_ytdlp_wrote_is_named_by_its_own_hash_and_its_exchange_by_the_bytes_sent(
    settings: Settings, simweb: SimWeb
) -> None:
    file_url = "https://cdn-cf-east.streamable.com/video/mp4/once01.mp4"
    data = make_mp4(160, 120, 2.0, 46, cache_dir=simweb.media_dir)
    simweb.file(file_url, data, "video/mp4")
    simweb.json(
        "https://ajax.streamable.com/videos/once01",
        {"status": 2, "title": "Once", "files": {"mp4": {"url": file_url}}},
    )

    [report] = run(settings, text_input("Streamable\nhttps://streamable.com/once01\n"))

    assert stored(settings.archive_dir) == {sha(data): data}
    got = [r["body"] for r in records(settings.archive_dir, report, file_url)]
    assert {"sha256": sha(data), "size": len(data), "complete": True, "stored": "store"} in got
    assert verified(settings.archive_dir) == 0


# -- the store's side: it takes a hash only for exactly the bytes it wrote ---------------------


class Source:
    """Chunks hashed as they are yielded, as an answer's record hashes its body: `before` is
    hashed (read by someone else) before any is yielded, `after` after the last one."""

    def __init__(self, chunks: list[bytes], *, before: bytes = b"", after: bytes = b"") -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256(before)
        self._size = len(before)
        self._after = after
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._hash.update(chunk)
            self._size += len(chunk)
            yield chunk
        self._hash.update(self._after)
        self._size += len(self._after)
        self._done = True

    @property
    def size(self) -> int:
        return self._size

    def sha256(self) -> str | None:
        return self._hash.hexdigest() if self._done else None


def named_right(received: Received) -> bool:
    data = received.tmp_path.read_bytes()
    return received.sha256 == sha(data) and received.size == len(data)


def test_the_store_takes_the_hash_of_exactly_the_bytes_it_wrote(tmp_path: Path) -> None:
    store = Store(tmp_path / "archive")
    store.ensure()
    source = Source([b"a" * 1000, b"b" * 1000])

    received = store.receive(source, max_size=10_000)

    assert received.sha256 == source.sha256() and named_right(received)


@pytest.mark.parametrize(
    "source",
    [
        Source([b"body"], before=b"read by someone else first "),
        Source([b"body"], after=b" and more it never yielded"),
    ],
    ids=["hashed-before", "hashed-after"],
)
def test_the_store_hashes_the_file_itself_when_the_source_hashed_other_bytes(
    tmp_path: Path, source: Source
) -> None:
    store = Store(tmp_path / "archive")
    store.ensure()

    received = store.receive(source, max_size=10_000)

    assert named_right(received) and received.sha256 != source.sha256()


def test_a_resumed_file_is_named_by_all_of_it_not_by_the_range_just_received(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "archive")
    store.ensure()
    partial = store.partial_path("https://media.example.org/one.mp4")
    partial.write_bytes(b"kept from the attempt before; ")
    source = Source([b"the rest"])

    received = store.receive(source, max_size=10_000, partial=partial, resume=True)

    assert received.tmp_path.read_bytes() == b"kept from the attempt before; the rest"
    assert named_right(received) and received.sha256 != source.sha256()


def test_a_source_cut_short_gives_the_store_nothing_to_name(tmp_path: Path) -> None:
    store = Store(tmp_path / "archive")
    store.ensure()
    source = Source([b"x" * 600, b"y" * 600])

    with pytest.raises(TooLarge):
        store.receive(source, max_size=1000)

    assert source.sha256() is None
    assert list((tmp_path / "archive" / "tmp").iterdir()) == []


# -- helpers -----------------------------------------------------------------------------------


def _all(archive_dir: Path, report: Report) -> list[dict[str, Any]]:
    path = archive_dir / str(report.folder) / RECORD
    return [json.loads(line) for line in path.read_text().splitlines()]


def _answer(body: bytes, encoding: str | None) -> Any:
    """An answer with no Content-Type, `encoding` as its Content-Encoding."""
    from tests.simweb.messages import Response

    headers = {"Content-Encoding": encoding} if encoding else {}
    return lambda _request: Response(200, headers, body)


def _same_length_gzip(data: bytes) -> bytes:
    """A gzip stream exactly as long as what it decodes to: `data` (incompressible, so its
    stream is longer) padded with zeros (which take next to no room) until the two meet."""
    for padding in range(4096):
        sent = gzip.compress(data + bytes(padding), mtime=0)
        if len(sent) == len(data) + padding:
            return sent
    raise AssertionError("no padding gives equal lengths")
