"""`export --warc/--wacz`: every exchange replayable, checked by warcio, cdxj-indexer and wacz."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.evidence.warc import target_uri
from embedarc.job.pipeline import Report
from embedarc.network.capture_record import RECORD
from tests.helpers import (
    CLIP,
    PREVIOUS_RELEASE,
    SHORT,
    STORY,
    archive_world,
    export,
    records,
    sidecar_of,
    wacz_validate,
    warcio_check,
)
from tests.simweb import SimWeb


def cdxj_lines(wacz: Path) -> list[dict[str, Any]]:
    text = zipfile.ZipFile(wacz).read("indexes/index.cdxj").decode()
    return [json.loads(line.split(" ", 2)[2]) for line in text.splitlines()]


@pytest.fixture
def world(settings: Settings, simweb: SimWeb) -> tuple[Report, dict[str, Any]]:
    return archive_world(settings, simweb)


def test_wacz_passes_wacz_validation_and_indexes_the_article_and_its_media(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, facts = world
    wacz = tmp_path / "strike.wacz"

    result = export(settings.archive_dir, "--wacz", str(report.article_id), "-o", str(wacz))

    assert result.exit_code == 0, result.output
    validated = wacz_validate(wacz)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "Validation succeeded" in validated.stdout
    index = cdxj_lines(wacz)
    article = [e for e in index if e["url"] == STORY and e.get("status") == "200"]
    assert [e["digest"] for e in article] == [
        f"sha256:{hashlib.sha256(facts['gzipped']).hexdigest()}"
    ]
    clip = [e for e in index if e["url"] == CLIP]
    assert [e["digest"] for e in clip] == [f"sha256:{hashlib.sha256(facts['clip']).hexdigest()}"]
    with zipfile.ZipFile(wacz) as z:
        assert z.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        package = json.loads(z.read("datapackage.json"))
    assert package["wacz_version"] == "1.1.1" and package["mainPageURL"] == STORY


def test_warc_passes_warcio_check_and_media_digests_are_the_stores_sha256(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    warc = tmp_path / "strike.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(warc))

    assert result.exit_code == 0, result.output
    checked = warcio_check(warc)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout and "digest fail" not in checked.stdout
    responses = {r[1]: r for r in records(warc) if r[0] == "response"}
    media = sidecar_of(settings.archive_dir, report)["media"]
    assert len(media) == 2  # the clip and the post's photo
    for entry in media:
        record = responses[entry["source_url"]]
        assert record[2] == f"sha256:{entry['sha256']}"
        stored = (settings.archive_dir / entry["path"]).read_bytes()
        assert record[4].endswith(b"\r\n\r\n" + stored)  # headers, then the stored bytes


def test_the_article_is_kept_as_received_gzip_encoded_with_its_exact_headers(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    _, facts = world
    warc = tmp_path / "strike.warc.gz"
    export(settings.archive_dir, "--warc", "--all", "-o", str(warc))

    [page] = [r for r in records(warc) if r[0] == "response" and r[1] == STORY]

    head, _, body = page[4].partition(b"\r\n\r\n")
    assert body == facts["gzipped"]  # the bytes as they came, not decoded
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Encoding: gzip" in head
    [redirect] = [r for r in records(warc) if r[0] == "response" and r[1] == SHORT]
    assert redirect[3] == "302" and b"\r\nLocation: " + CLIP.encode() in redirect[4]
    # The request that asked for the page goes with it, as sent.
    [request] = [r for r in records(warc) if r[0] == "request" and r[1] == STORY]
    assert request[4].startswith(b"GET /2024/03/strike HTTP/1.1\r\n")


def test_the_same_archive_exports_the_same_bytes(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    outputs = []
    for n in (1, 2):
        warc, wacz = tmp_path / f"{n}.warc.gz", tmp_path / f"{n}.wacz"
        export(settings.archive_dir, "--warc", "--all", "-o", str(warc))
        export(settings.archive_dir, "--wacz", "--all", "-o", str(wacz))
        outputs.append((warc.read_bytes(), wacz.read_bytes()))

    assert outputs[0] == outputs[1]


def test_an_archive_of_the_previous_release_exports_its_files_marked_as_not_raw(
    tmp_path: Path,
) -> None:
    old = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, old, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    warc, wacz = tmp_path / "old.warc.gz", tmp_path / "old.wacz"

    result = export(old, "--warc", "--all", "-o", str(warc))
    assert export(old, "--wacz", "--all", "-o", str(wacz)).exit_code == 0

    assert result.exit_code == 0, result.output
    assert "no exchanges were recorded" in result.output
    found = records(warc)
    assert {r[0] for r in found} == {"warcinfo", "resource", "metadata"}
    for record in found[1:]:
        assert record[5]["WARC-Embedarc-Note"].startswith("not a raw HTTP exchange")
    stored = {p.name.split(".")[0] for p in (old / "media").rglob("*") if p.is_file()}
    digests = {r[2].removeprefix("sha256:") for r in found if r[0] == "resource"}
    assert stored <= digests
    assert warcio_check(warc).returncode == 0
    assert wacz_validate(wacz).returncode == 0


def test_a_capture_record_altered_to_inject_a_header_line_is_refused(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    record = settings.archive_dir / str(report.folder) / RECORD
    lines = record.read_text().splitlines()
    first = json.loads(lines[0])
    first["response_headers"].append(["X-Note", "fine\r\nContent-Length: 0"])
    record.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "line break" in result.output
    assert not out.exists() and list(tmp_path.glob("*.tmp")) == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://a.example/x y", "https://a.example/x%20y"),
        ("https://a.example/é?q=ü", "https://a.example/%C3%A9?q=%C3%BC"),
        ("https://a.example/a\r\nWARC-Type: x", "https://a.example/a%0D%0AWARC-Type:%20x"),
        ("https://a.example/%20ok?a=1&b=[2]", "https://a.example/%20ok?a=1&b=[2]"),
    ],
)
def test_a_target_uri_never_breaks_a_header_line(url: str, shown: str) -> None:
    assert target_uri(url) == shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wacz", "--all"], "--wacz needs -o FILE"),
        (["--all", "-o", "x.wacz"], "say what to write"),
        (["--warc", "-o", "x.warc.gz"], "name the articles to export, or give --all"),
        (["--warc", "nosuch", "-o", "x.warc.gz"], "no article in"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    settings: Settings, world: tuple[Report, dict[str, Any]], args: list[str], message: str
) -> None:
    result = export(settings.archive_dir, *args)

    assert result.exit_code == 2 and message in result.output
    assert result.output.count("\n") == 1


REPLAY = """
import sys
from pathlib import Path
from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
collection = {"index_paths": str(folder / "index.cdxj"), "archive_paths": str(folder) + "/"}
app = FrontEndApp(custom_config={"collections": {"c": collection}, "framed_replay": False})
client = Client(app)
for n, url in enumerate(sys.argv[3:]):
    answer = client.get(f"/c/id_/{url}")
    (out / f"{n}.status").write_text(answer.status)
    (out / f"{n}.body").write_bytes(answer.data)
"""


def test_pywb_replays_the_article_and_its_media_from_the_wacz(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    _, facts = world
    wacz = tmp_path / "strike.wacz"
    export(settings.archive_dir, "--wacz", "--all", "-o", str(wacz))
    collection = tmp_path / "collection"
    collection.mkdir()
    with zipfile.ZipFile(wacz) as z:  # the WACZ's own WARC and index, as a pywb collection
        (collection / "data.warc.gz").write_bytes(z.read("archive/data.warc.gz"))
        (collection / "index.cdxj").write_bytes(z.read("indexes/index.cdxj"))
    answers = tmp_path / "answers"
    answers.mkdir()

    # In its own process: pywb brings gevent, which must not touch this one; and without the
    # simulated web's proxy, which pywb's own loopback calls would otherwise be sent to.
    replay = subprocess.run(
        [sys.executable, "-c", REPLAY, str(collection), str(answers), STORY, CLIP],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={k: v for k, v in os.environ.items() if "proxy" not in k.lower()},  # no web at all
    )

    assert replay.returncode == 0, replay.stderr
    assert (answers / "0.status").read_text() == "200 OK"
    assert (answers / "0.body").read_bytes() == facts["page"]  # replayed, decoded from gzip
    assert (answers / "1.status").read_text() == "200 OK"
    assert (answers / "1.body").read_bytes() == facts["clip"]


def test_a_stored_file_changed_since_it_was_recorded_is_not_vouched_for(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    [clip] = [
        m for m in sidecar_of(settings.archive_dir, report)["media"] if m["source_url"] == CLIP
    ]
    stored = settings.archive_dir / clip["path"]
    data = bytearray(stored.read_bytes())
    data[100] ^= 0x01
    stored.write_bytes(bytes(data))  # the folder's hard link changes with it
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert f"no longer hash to {clip['sha256']}" in result.output
    assert not out.exists()


def verify_export(*paths: Path) -> Result:
    args = [arg for path in paths for arg in ("--export", str(path))]
    return CliRunner().invoke(cli, ["verify", "--json", *args], catch_exceptions=False)


def test_verify_checks_an_exported_warc_wacz_and_bag_and_finds_one_changed_byte(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    warc, wacz, bags = tmp_path / "a.warc.gz", tmp_path / "a.wacz", tmp_path / "bags"
    export(settings.archive_dir, "--warc", "--all", "-o", str(warc))
    export(settings.archive_dir, "--wacz", "--all", "-o", str(wacz))
    export(settings.archive_dir, "--bag", str(bags), "--all")
    [bag] = bags.iterdir()

    sound = verify_export(warc, wacz, bag)

    assert sound.exit_code == 0, sound.output
    assert json.loads(sound.output)["sound"] is True

    # The same records, one byte of the clip changed (written uncompressed).
    clip = (settings.archive_dir / next(
        m["path"] for m in sidecar_of(settings.archive_dir, report)["media"]
        if m["source_url"] == CLIP
    )).read_bytes()  # fmt: skip
    raw = gzip.decompress(warc.read_bytes())
    at = raw.index(clip) + len(clip) // 2
    changed_warc = tmp_path / "changed.warc"
    changed_warc.write_bytes(raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :])
    # The WACZ with one byte of its page list changed.
    changed_wacz = tmp_path / "changed.wacz"
    with zipfile.ZipFile(wacz) as src, zipfile.ZipFile(changed_wacz, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("pages.jsonl"):
                data = data.replace(b"http", b"HTTP", 1)
            out.writestr(item, data)
    media = next((bag / "data" / "media").iterdir())
    kept = bytearray(media.read_bytes())
    kept[len(kept) // 2] ^= 0x01
    media.write_bytes(bytes(kept))

    broken = verify_export(changed_warc, changed_wacz, bag)

    assert broken.exit_code == 1, broken.output
    problems = json.loads(broken.output)["problems"]
    assert all(problems[str(path)] for path in (changed_warc, changed_wacz, bag)), problems


def _rezipped(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """`source`'s members into `target`, each named in `change` replaced."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            out.writestr(item, change.get(item.filename, src.read(item)))
    return target


def test_verify_export_refuses_a_wacz_whose_package_vouches_for_less_or_lies(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    """A datapackage.json that lists nothing, that no longer matches its digest, or whose
    resources are not objects; and a WARC whose records carry no digest."""
    wacz = tmp_path / "a.wacz"
    export(settings.archive_dir, "--wacz", "--all", "-o", str(wacz))
    with zipfile.ZipFile(wacz) as z:
        package = json.loads(z.read("datapackage.json"))
    empty = json.dumps({**package, "resources": []}).encode()
    digest = json.dumps(
        {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(empty).hexdigest()}"}
    ).encode()
    bare = gzip.compress(b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        b"WARC-Date: 2024-03-01T12:00:00Z\r\nWARC-Target-URI: https://a.example/\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n")  # fmt: skip
    cases = {
        "lists nothing": {"datapackage.json": empty, "datapackage-digest.json": digest},
        "digest differs": {"datapackage.json": empty},
        "resources not objects": {
            "datapackage.json": json.dumps({**package, "resources": [1]}).encode()
        },
    }

    for what, change in cases.items():
        checked = verify_export(_rezipped(wacz, tmp_path / f"{what}.wacz", change))
        assert checked.exit_code == 1, (what, checked.output)
        assert "Traceback" not in checked.output
    (tmp_path / "bare.warc.gz").write_bytes(bare)
    no_digest = verify_export(tmp_path / "bare.warc.gz")
    assert no_digest.exit_code == 1 and "no WARC-Block-Digest" in no_digest.output
