"""Attacks on the evidence: what an altered sidecar, capture record or article folder, or a
lying TSA, could make export, timestamp and verify do."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from embedarc.config import Settings
from embedarc.job.pipeline import Input, Report
from embedarc.network.capture_record import RECORD
from embedarc.upkeep.verify import verify
from tests.helpers import (
    PREVIOUS_RELEASE,
    STORY,
    TSA_URL,
    archive_photo,
    archive_world,
    db,
    export,
    run,
)
from tests.simweb import Request, Response, SimWeb
from tests.tsa import OPENSSL, LocalTSA


@pytest.fixture
def world(settings: Settings, simweb: SimWeb) -> tuple[Report, dict[str, Any]]:
    return archive_world(settings, simweb)


def folder_of(settings: Settings, report: Report) -> Path:
    return settings.archive_dir / str(report.folder)


def edit_sidecar(settings: Settings, report: Report, change: Callable[[Any], None]) -> None:
    path = folder_of(settings, report) / "article.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_first_exchange(settings: Settings, report: Report, change: dict[str, Any]) -> None:
    record = folder_of(settings, report) / RECORD
    lines = record.read_text().splitlines()
    first = json.loads(lines[0])
    first.update(change)
    record.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")


def assert_refused_in_one_line(result: Any, out: Path, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and words in result.output, result.output
    assert not out.exists() and list(out.parent.glob(".*.tmp")) == []


@pytest.mark.parametrize(
    "alter",
    [
        lambda d: d["article"].update(id="abc\r\nWARC-Type: response"),
        lambda d: d["article"].update(archived_at="2024-03-01T12:00\r\nWARC-Type: response"),
    ],
    ids=["article-id", "archived-at"],
)
def test_a_sidecar_altered_to_inject_a_warc_header_line_is_refused(
    settings: Settings,
    world: tuple[Report, dict[str, Any]],
    tmp_path: Path,
    alter: Callable[[Any], None],
) -> None:
    report, _ = world
    edit_sidecar(settings, report, alter)
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, "altered")


def test_a_capture_record_time_altered_to_inject_a_warc_header_line_is_refused(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    edit_first_exchange(settings, report, {"time": "2024-01-01T00:00\r\nWARC-Type: response"})
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, "altered")


def test_an_archiving_time_that_is_no_date_is_a_one_line_error_not_a_traceback(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    edit_sidecar(settings, report, lambda d: d["article"].update(archived_at="yesterday"))
    out = tmp_path / "x.wacz"

    result = export(settings.archive_dir, "--wacz", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, "is not a date")


def secret_file(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "id_ed25519"
    secret.parent.mkdir()
    secret.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY----- not for a court\n")
    return secret


def everything_written(where: Path) -> bytes:
    """Every byte under `where`, gzip members and zip entries opened."""
    import gzip
    import zipfile

    found = b""
    for path in sorted(p for p in where.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        elif path.suffix == ".wacz":
            with zipfile.ZipFile(path) as z:
                data = gzip.decompress(z.read("archive/data.warc.gz"))
        found += data
    return found


@pytest.mark.parametrize("form", ["--warc", "--wacz", "--bag"])
def test_a_link_in_an_article_folder_is_not_exported_through(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path, form: str
) -> None:
    report, _ = world
    secret = secret_file(tmp_path)
    folder = folder_of(settings, report)
    original = folder / json.loads((folder / "article.json").read_text())["article"]["original"]
    original.unlink()
    original.symlink_to(secret)  # planted by someone who may write to the archive
    out = tmp_path / "exports"
    out.mkdir()
    where = ["--bag", str(out / "bags")] if form == "--bag" else [form, "-o", str(out / "x.gz")]

    result = export(settings.archive_dir, *where, "--all")

    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "refusing to export through a symbolic link" in result.output
    assert b"PRIVATE KEY" not in everything_written(out)


def test_a_linked_article_folder_is_not_exported_through(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    folder = folder_of(settings, report)
    elsewhere = tmp_path / "outside" / folder.name
    elsewhere.parent.mkdir()
    folder.rename(elsewhere)
    folder.symlink_to(elsewhere)
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, "refusing to export through a symbolic link")


# -- timestamps -------------------------------------------------------------------------------


def with_unreadable_certificate(token: bytes, tsa: LocalTSA) -> bytes:
    """The same token, its TSA certificate's version made one no X.509 reader accepts; the
    signature over the stamped time and digest is untouched, so only reading the certificates
    can tell."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(tsa.cert_file.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der[8:13] == bytes.fromhex("a003020102")  # [0] { INTEGER 2 }: version 3
    bad = der[:12] + b"\x07" + der[13:]
    assert der in token
    return token.replace(der, bad)


needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is needed")


@pytest.fixture
def tsa(tmp_path: Path, simweb: SimWeb) -> LocalTSA:
    authority = LocalTSA(tmp_path / "tsa")
    simweb.route(TSA_URL, authority.answer)
    return authority


@needs_openssl
def test_a_token_whose_certificate_cannot_be_read_is_refused_when_it_arrives(
    simweb: SimWeb, settings: Settings, tsa: LocalTSA
) -> None:
    def unreadable(request: Request) -> Response:
        return Response(200, {}, with_unreadable_certificate(tsa.sign(request.body), tsa))

    simweb.route(TSA_URL, unreadable)
    stamping = settings.with_updates(timestamp_urls=(TSA_URL,), timestamp_ca=tsa.ca_file)

    report = archive_photo(stamping, simweb)

    [row] = db(stamping.archive_dir)["timestamps"].rows
    assert row["state"] == "failed" and "certificate" in row["error"]
    assert not list((stamping.archive_dir / str(report.folder) / "timestamps").glob("*.tsr"))


@needs_openssl
def test_verify_reports_a_kept_token_whose_certificate_cannot_be_read(
    simweb: SimWeb, settings: Settings, tsa: LocalTSA
) -> None:
    stamping = settings.with_updates(timestamp_urls=(TSA_URL,), timestamp_ca=tsa.ca_file)
    folder = stamping.archive_dir / str(archive_photo(stamping, simweb).folder)
    [token] = (folder / "timestamps").glob("*.tsr")
    token.write_bytes(with_unreadable_certificate(token.read_bytes(), tsa))

    report = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)

    [problem] = report.altered
    assert problem.path.endswith(token.name) and "certificate" in problem.reason


def test_a_link_in_a_stamped_folder_is_not_followed_by_the_manifest_or_verify(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    from embedarc.evidence import timestamps

    report, _ = world
    folder = folder_of(settings, report)
    (folder / "timestamps").mkdir()
    (folder / "timestamps" / "manifest-1.txt").write_bytes(timestamps.manifest(folder))
    secret = secret_file(tmp_path)
    (folder / "evidence" / "planted.json").symlink_to(secret)
    (folder / "dangling").symlink_to(tmp_path / "nothing-here")

    listed = timestamps.read_manifest(timestamps.manifest(folder))
    found = verify(settings.archive_dir)  # ended in a traceback on the dangling link

    assert "dangling" not in listed and "evidence/planted.json" not in listed
    assert not any(p.path.endswith(("dangling", "planted.json")) for p in found.unproven)


# -- capture records --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"body": "x"},
        {"body": ["sha256"]},
        {"request_body": "!!!not base64"},
        {"redacted": 5},
        {"time": None},
        {"time": 5},
    ],
    ids=["body-text", "body-list", "request-body", "redacted", "no-time", "time-number"],
)
def test_an_exchange_of_the_wrong_shape_is_an_altered_record_not_a_traceback(
    settings: Settings,
    simweb: SimWeb,
    world: tuple[Report, dict[str, Any]],
    tmp_path: Path,
    change: dict[str, Any],
) -> None:
    report, _ = world
    edit_first_exchange(settings, report, change)
    record = folder_of(settings, report) / RECORD
    altered = record.read_bytes()
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))
    [again] = run(settings, Input(STORY, url=STORY))  # adds this run's exchanges, if it can

    assert_refused_in_one_line(result, out, "capture/exchanges.jsonl")
    assert again.error is None and again.folder == report.folder
    assert record.read_bytes() == altered  # evidence of tampering: left for verify to report
    assert any(p.path.endswith(RECORD) for p in verify(settings.archive_dir).altered)


# -- what an export vouches for ---------------------------------------------------------------


def test_an_original_changed_since_it_was_archived_is_not_vouched_for(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    report, _ = world
    folder = folder_of(settings, report)
    article = json.loads((folder / "article.json").read_text())["article"]
    original = folder / article["original"]
    original.write_bytes(original.read_bytes().replace(b"Strike", b"Struck"))
    out = tmp_path / "x.warc.gz"

    result = export(settings.archive_dir, "--warc", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, f"no longer hash to {article['content_sha256']}")


def test_a_stored_file_of_the_previous_release_changed_since_is_not_vouched_for(
    tmp_path: Path,
) -> None:
    old = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, old, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    stored = sorted(p for p in (old / "media").rglob("*") if p.is_file())[0]
    sha = stored.name.split(".")[0]
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.chmod(0o644)
    stored.write_bytes(bytes(data))  # no exchange was recorded: only its resource record
    out = tmp_path / "old.warc.gz"

    result = export(old, "--warc", "--all", "-o", str(out))

    assert_refused_in_one_line(result, out, f"no longer hash to {sha}")


@pytest.mark.parametrize(
    "where",
    ["article.json", "media", "index.db", "bags", "linked-bags"],
)
def test_an_export_is_never_written_inside_the_archive_it_is_made_from(
    settings: Settings, world: tuple[Report, dict[str, Any]], where: str, tmp_path: Path
) -> None:
    report, _ = world
    root = settings.archive_dir
    folder = folder_of(settings, report)
    (tmp_path / "bags-link").symlink_to(root)
    targets = {
        "linked-bags": ["--bag", str(tmp_path / "bags-link")],
        "article.json": ["--wacz", "-o", str(folder / "article.json")],
        "media": ["--warc", "-o", str(next((root / "media").rglob("*.mp4")))],
        "index.db": ["--warc", "-o", str(root / "index.db")],
        "bags": ["--bag", str(root / "articles" / "bags")],
    }
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    result = export(root, *targets[where], "--all")

    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "inside the archive" in result.output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_bag_never_claims_a_yt_dlp_version_the_sidecar_does_not_give(
    settings: Settings, world: tuple[Report, dict[str, Any]], tmp_path: Path
) -> None:
    import bagit

    report, _ = world
    edit_sidecar(settings, report, lambda d: d.update(yt_dlp=None))  # as an older sidecar

    result = export(settings.archive_dir, "--bag", str(tmp_path / "bags"), "--all")

    assert result.exit_code == 0, result.output
    info = bagit.Bag(str(tmp_path / "bags" / Path(str(report.folder)).name)).info
    assert info["Yt-Dlp-Version"] == "unknown"


@pytest.mark.parametrize(
    ("archived_at", "status"),
    [("2150-01-01T00:00:00Z", 0), ("2024-13-40T25:61:61Z", 1)],
    ids=["past-zip-dates", "impossible"],
)
def test_an_archiving_time_a_zip_or_a_calendar_cannot_hold_is_no_traceback(
    settings: Settings,
    world: tuple[Report, dict[str, Any]],
    tmp_path: Path,
    archived_at: str,
    status: int,
) -> None:
    report, _ = world
    edit_sidecar(settings, report, lambda d: d["article"].update(archived_at=archived_at))
    out = tmp_path / "x.wacz"

    result = export(settings.archive_dir, "--wacz", "--all", "-o", str(out))

    assert result.exit_code == status and result.output.count("\n") == 1, result.output
    assert out.exists() == (status == 0)


@needs_openssl
def test_two_tsas_on_one_host_each_stamp_the_manifest(
    simweb: SimWeb, settings: Settings, tsa: LocalTSA, tmp_path: Path
) -> None:
    other = LocalTSA(tmp_path / "other", name="Other TSA")
    second = TSA_URL.replace("/tsr", "/other-tsr")
    simweb.route(second, other.answer)
    stamping = settings.with_updates(timestamp_urls=(TSA_URL, second), timestamp_ca=tsa.ca_file)

    report = archive_photo(stamping, simweb)

    folder = stamping.archive_dir / str(report.folder)
    assert len(list((folder / "timestamps").glob("manifest-1.*.tsr"))) == 2
    assert tsa.replies == 1 and other.replies == 1
    rows = {r["tsa"]: r["state"] for r in db(stamping.archive_dir)["timestamps"].rows}
    assert rows == {TSA_URL: "stamped", second: "stamped"}


# -- perceptual hashes and credentials --------------------------------------------------------


def test_a_media_path_leading_out_of_the_store_is_not_examined(
    settings: Settings, simweb: SimWeb, tmp_path: Path
) -> None:
    import io

    from PIL import Image

    from embedarc.evidence.kept import examine
    from embedarc.keeping.index import Index

    archive_world(settings, simweb)
    rows = db(settings.archive_dir)
    [photo] = rows.query("select sha256 from media where mime like 'image/%'")
    sha = photo["sha256"]
    outside = tmp_path / "outside" / "private.jpg"
    outside.parent.mkdir()
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(picture, "JPEG")
    outside.write_bytes(picture.getvalue())
    # As rebuild-index would write it from a sidecar whose media path was altered.
    rows.execute("update media set path = ? where sha256 = ?", ["../outside/private.jpg", sha])
    rows.execute("delete from media_evidence where sha256 = ?", [sha])
    rows.execute("delete from perceptual_hashes where sha256 = ?", [sha])
    rows.conn.commit()

    index = Index(settings.archive_dir / "index.db")
    try:
        assert examine(index, settings.archive_dir, max_pixels=10**6) == 1
    finally:
        index.close()

    [row] = db(settings.archive_dir).query(
        "select pdq_frames, pdq_error from media_evidence where sha256 = ?", [sha]
    )
    assert row["pdq_frames"] == 0 and "not a file of the store" in row["pdq_error"]


def test_a_cookie_set_without_a_name_keeps_no_value_in_the_record(
    settings: Settings, simweb: SimWeb
) -> None:
    from tests.helpers import make_world

    make_world(simweb)
    page = b"<html><head><title>Cookie</title></head><body>nothing</body></html>"
    simweb.page(STORY, page, headers={"Set-Cookie": "s3cret-v4lue; Path=/; Secure"})

    [report] = run(settings, Input(STORY, url=STORY))

    record = folder_of(settings, report) / RECORD
    assert b"s3cret" not in record.read_bytes()
    answers = [json.loads(line) for line in record.read_text().splitlines()]
    answer = next(a for a in answers if a["url"] == STORY)
    assert ["Set-Cookie", "=[redacted]; Path=/; Secure"] in answer["response_headers"]


def test_a_video_whose_header_claims_ages_is_still_hashed(tmp_path: Path) -> None:
    """The duration comes from the file's own header: a re-upload claiming to last decades
    must not slip past `similar` for want of a single sampled frame."""
    import subprocess

    import imageio_ffmpeg

    from embedarc.evidence import perceptual

    clip = tmp_path / "clip.mp4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i"]
    command += ["testsrc2=size=64x48:rate=2:duration=4", "-pix_fmt", "yuv420p", str(clip)]
    subprocess.run(command, check=True, capture_output=True)

    lying = perceptual.video_hashes(clip, duration=4.0e9)
    honest = perceptual.video_hashes(clip, duration=4.0)

    assert lying and lying[0].pdq == honest[0].pdq
