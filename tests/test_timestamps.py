"""RFC 3161 timestamps: each article's manifest stamped by a TSA, the token kept in the folder,
checked by `verify` and by OpenSSL; a TSA that fails or lies loses no article."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import warnings
from pathlib import Path

import pytest
from cryptography import x509

from embedarc.config import Settings
from embedarc.evidence.timestamps import TimestampError, load_roots, manifest, read_manifest
from embedarc.job.pipeline import Input
from embedarc.upkeep.verify import verify
from tests.conftest import LoopbackServer
from tests.helpers import PHOTO_URL, TSA_URL, archive_photo, db, embedarc, jpeg, run, text_input
from tests.simweb import Request, Response, SimWeb
from tests.tsa import OPENSSL, LocalTSA

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is needed")


@pytest.fixture
def tsa(tmp_path: Path, simweb: SimWeb) -> LocalTSA:
    authority = LocalTSA(tmp_path / "tsa")
    simweb.route(TSA_URL, authority.answer)
    return authority


@pytest.fixture
def stamping(settings: Settings, tsa: LocalTSA) -> Settings:
    return settings.with_updates(timestamp_urls=(TSA_URL,), timestamp_ca=tsa.ca_file)


def stamps(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "timestamps").iterdir())


def openssl_verify(
    folder: Path, manifest: str, token: str, ca: Path
) -> subprocess.CompletedProcess[str]:
    """What the README tells an editor to run, from the article folder."""
    assert OPENSSL is not None
    command = [OPENSSL, "ts", "-verify", "-data", f"timestamps/{manifest}"]
    command += ["-in", f"timestamps/{token}", "-CAfile", str(ca)]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)


def test_an_archived_article_is_stamped_and_openssl_verifies_the_kept_token(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    report = archive_photo(stamping, simweb)
    folder = stamping.archive_dir / str(report.folder)

    assert stamps(folder) == ["manifest-1.tsa-example-org.tsr", "manifest-1.txt"]
    done = openssl_verify(folder, "manifest-1.txt", "manifest-1.tsa-example-org.tsr", tsa.ca_file)
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stdout
    # The manifest is sha256sum's format: every file of the folder but the timestamps.
    listed: dict[str, str] = {}
    for line in (folder / "timestamps" / "manifest-1.txt").read_text().splitlines():
        sha, name = line.split("  ", 1)
        listed[name] = sha
    files = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "timestamps" not in p.parts
    }
    assert set(listed) == files and "article.json" in files
    for name, sha in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    [row] = db(stamping.archive_dir)["timestamps"].rows
    assert row["state"] == "stamped" and row["tsa"] == TSA_URL
    assert row["token"] == "timestamps/manifest-1.tsa-example-org.tsr" and row["gen_time"]
    checked = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)
    assert checked.sound, checked.as_dict()
    assert not [p for p in checked.unproven if "timestamps" in p.path]


def test_openssl_refuses_the_token_for_a_changed_manifest(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    folder = stamping.archive_dir / str(archive_photo(stamping, simweb).folder)
    with (folder / "timestamps" / "manifest-1.txt").open("a") as f:
        f.write("0" * 64 + "  extra.txt\n")

    done = openssl_verify(folder, "manifest-1.txt", "manifest-1.tsa-example-org.tsr", tsa.ca_file)

    assert done.returncode != 0


def test_verify_finds_a_file_changed_after_its_timestamp(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    folder = stamping.archive_dir / str(archive_photo(stamping, simweb).folder)
    sidecar = folder / "article.json"
    sidecar.write_text(sidecar.read_text().replace('"Story"', '"Another story"'))

    report = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)

    [problem] = [p for p in report.altered if p.path.endswith("article.json")]
    assert "differs from manifest-1.txt" in problem.reason
    assert not report.sound


def test_verify_refuses_a_token_signed_by_an_untrusted_tsa(
    simweb: SimWeb, stamping: Settings, tmp_path: Path
) -> None:
    archive_photo(stamping, simweb)
    stranger = LocalTSA(tmp_path / "stranger", name="Another TSA")

    report = verify(stamping.archive_dir, timestamp_ca=stranger.ca_file)

    [problem] = report.altered
    assert problem.path.endswith("timestamps/manifest-1.tsa-example-org.tsr")
    assert "does not verify" in problem.reason
    assert (
        openssl_verify(
            stamping.archive_dir / problem.path.rsplit("/timestamps/", 1)[0],
            "manifest-1.txt",
            "manifest-1.tsa-example-org.tsr",
            stranger.ca_file,
        ).returncode
        != 0
    )


def test_verify_refuses_a_corrupted_token(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    folder = stamping.archive_dir / str(archive_photo(stamping, simweb).folder)
    token = folder / "timestamps" / "manifest-1.tsa-example-org.tsr"
    data = bytearray(token.read_bytes())
    data[-40] ^= 0xFF  # inside the signature
    token.write_bytes(bytes(data))

    report = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)

    assert [p.path for p in report.altered] == [token.relative_to(stamping.archive_dir).as_posix()]


def test_a_changed_article_gets_a_new_manifest_stamped_and_keeps_the_old_one(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    page = "https://news.example.org/story"
    simweb.file(PHOTO_URL, jpeg(), "image/jpeg")
    simweb.file("https://media.example.org/second.jpg", jpeg((20, 200, 20)), "image/jpeg")
    simweb.page(page, f"<title>Story</title><article><a href='{PHOTO_URL}'>photo</a></article>")
    run(stamping, Input(page, url=page))
    simweb.page(
        page,
        f"<title>Story</title><article><a href='{PHOTO_URL}'>photo</a>"
        "<a href='https://media.example.org/second.jpg'>another</a></article>",
    )

    [report] = run(stamping, Input(page, url=page))

    folder = stamping.archive_dir / str(report.folder)
    assert stamps(folder) == [
        "manifest-1.tsa-example-org.tsr",
        "manifest-1.txt",
        "manifest-2.tsa-example-org.tsr",
        "manifest-2.txt",
    ]
    assert tsa.replies == 2
    for n in (1, 2):
        done = openssl_verify(
            folder, f"manifest-{n}.txt", f"manifest-{n}.tsa-example-org.tsr", tsa.ca_file
        )
        assert done.returncode == 0, done.stderr
    assert verify(stamping.archive_dir, timestamp_ca=tsa.ca_file).sound


def test_an_unchanged_folder_is_not_stamped_again(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    report = archive_photo(stamping, simweb)

    done = embedarc(stamping.archive_dir, "timestamp", "--timestamp", TSA_URL)

    assert done.exit_code == 0, done.output
    assert tsa.replies == 1
    assert "0 stamped now" in done.output
    assert len(stamps(stamping.archive_dir / str(report.folder))) == 2


def test_a_failing_tsa_loses_no_article_and_the_timestamp_command_stamps_it_later(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    simweb.fault(TSA_URL, "status", status=503, times=1)

    report = archive_photo(stamping, simweb)

    [(tsa_url, why)] = report.timestamp_failures
    assert tsa_url == TSA_URL and "HTTP 503" in why
    assert report.as_dict()["timestamp_failures"] == [{"tsa": TSA_URL, "reason": why}]
    folder = stamping.archive_dir / str(report.folder)
    assert stamps(folder) == ["manifest-1.txt"]
    [row] = db(stamping.archive_dir)["timestamps"].rows
    assert row["state"] == "failed" and "503" in row["error"]
    before = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)
    assert before.sound
    assert [p.path for p in before.unproven if "timestamps" in p.path] == [
        f"{report.folder}/timestamps/manifest-1.txt"
    ]
    # status shows the timestamp still to be had
    shown = embedarc(stamping.archive_dir, "status")
    assert "timestamps: 1 failed (asked again by the next run" in shown.output
    assert json.loads(embedarc(stamping.archive_dir, "status", "--json").output)["timestamps"] == {
        "failed": 1
    }

    done = embedarc(stamping.archive_dir, "timestamp", "--timestamp", TSA_URL, "--json")

    assert done.exit_code == 0, done.output
    assert stamps(folder) == ["manifest-1.tsa-example-org.tsr", "manifest-1.txt"]
    [row] = db(stamping.archive_dir)["timestamps"].rows
    assert row["state"] == "stamped" and row["error"] is None
    shown = embedarc(stamping.archive_dir, "status")
    assert "timestamps: 1 stamped\n" in shown.output


def test_the_next_run_asks_again_for_a_timestamp_that_failed(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    simweb.fault(TSA_URL, "reset", times=1)
    first = archive_photo(stamping, simweb)
    simweb.page("https://news.example.org/other", "<p>nothing</p>")

    run(stamping, text_input("Other\nhttps://news.example.org/other\n", "other.txt"))

    assert "manifest-1.tsa-example-org.tsr" in stamps(stamping.archive_dir / str(first.folder))


def test_the_timestamp_command_needs_a_tsa(simweb: SimWeb, settings: Settings) -> None:
    archive_photo(settings, simweb)

    done = embedarc(settings.archive_dir, "timestamp")

    assert done.exit_code == 2
    assert "no time-stamping authority" in done.output


# -- a hostile TSA ----------------------------------------------------------------------------


def failure_of(settings: Settings) -> str:
    [row] = db(settings.archive_dir)["timestamps"].rows
    assert row["state"] == "failed" and row["token"] is None
    return str(row["error"])


def test_a_huge_answer_is_cut_off_and_recorded(simweb: SimWeb, stamping: Settings) -> None:
    simweb.route(
        TSA_URL,
        lambda _r: Response(200, {"Content-Type": "application/timestamp-reply"}, b"0" * 300_000),
    )

    report = archive_photo(stamping, simweb)

    assert "larger than" in failure_of(stamping)
    assert stamps(stamping.archive_dir / str(report.folder)) == ["manifest-1.txt"]


def test_garbage_is_not_a_token(simweb: SimWeb, stamping: Settings) -> None:
    simweb.route(TSA_URL, lambda _r: Response(200, {}, b"\x30\x03\x02\x01\x00"))

    archive_photo(stamping, simweb)

    assert "not a timestamp reply" in failure_of(stamping)


def test_a_reply_with_another_nonce_is_refused(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    kept: list[bytes] = []

    def replay(request: Request) -> Response:
        if not kept:
            kept.append(tsa.sign(request.body))
        return Response(200, {"Content-Type": "application/timestamp-reply"}, kept[0])

    simweb.route(TSA_URL, replay)
    archive_photo(stamping, simweb, "First")

    archive_photo(stamping, simweb, "Second")

    states = sorted(
        (r["state"], r["error"] or "") for r in db(stamping.archive_dir)["timestamps"].rows
    )
    assert [state for state, _ in states] == ["failed", "stamped"]
    assert "nonce" in states[0][1]


def test_a_token_for_another_digest_is_refused(
    simweb: SimWeb, stamping: Settings, tsa: LocalTSA
) -> None:
    def other_digest(request: Request) -> Response:
        query = bytearray(request.body)
        at = query.index(b"\x04\x20") + 2  # the imprint: an OCTET STRING of 32 bytes
        query[at : at + 32] = hashlib.sha256(b"something else").digest()
        return Response(200, {}, tsa.sign(bytes(query)))

    simweb.route(TSA_URL, other_digest)

    archive_photo(stamping, simweb)

    assert "another digest" in failure_of(stamping)


def test_a_redirect_to_a_private_address_is_not_followed(
    simweb: SimWeb, stamping: Settings, loopback_server: LoopbackServer
) -> None:
    simweb.redirect(TSA_URL, f"http://127.0.0.1:{loopback_server.port}/tsr", status=307)

    archive_photo(stamping, simweb)

    assert "HTTP 307" in failure_of(stamping)
    assert loopback_server.hits == []


def test_a_tsa_on_a_private_address_is_refused_unasked(
    simweb: SimWeb, settings: Settings, tsa: LocalTSA, loopback_server: LoopbackServer
) -> None:
    private = f"http://127.0.0.1:{loopback_server.port}/tsr"
    stamping = settings.with_updates(timestamp_urls=(private,), timestamp_ca=tsa.ca_file)

    report = archive_photo(stamping, simweb)

    assert "refused" in failure_of(stamping)
    assert loopback_server.hits == []
    assert report.folder is not None


def test_removing_an_article_takes_its_timestamp_rows(simweb: SimWeb, stamping: Settings) -> None:
    report = archive_photo(stamping, simweb)

    done = embedarc(stamping.archive_dir, "remove", str(report.article_id))

    assert done.exit_code == 0, done.output
    assert list(db(stamping.archive_dir)["timestamps"].rows) == []
    assert list(db(stamping.archive_dir)["media_evidence"].rows) == []
    assert list(db(stamping.archive_dir)["perceptual_hashes"].rows) == []
    assert verify(stamping.archive_dir).sound


def test_a_stamped_article_rewritten_with_stamping_off_keeps_a_pending_manifest(
    simweb: SimWeb, stamping: Settings, settings: Settings, tsa: LocalTSA
) -> None:
    page = "https://news.example.org/story"
    simweb.file(PHOTO_URL, jpeg(), "image/jpeg")
    simweb.page(page, f"<title>Story</title><article><a href='{PHOTO_URL}'>photo</a></article>")
    run(stamping, Input(page, url=page))
    simweb.page(page, "<title>Story</title><article><p>the photo was taken down</p></article>")

    [report] = run(settings, Input(page, url=page))  # no TSA named this time

    folder = stamping.archive_dir / str(report.folder)
    assert stamps(folder) == ["manifest-1.tsa-example-org.tsr", "manifest-1.txt", "manifest-2.txt"]
    assert tsa.replies == 1
    checked = verify(stamping.archive_dir, timestamp_ca=tsa.ca_file)
    assert checked.sound, checked.as_dict()  # the rewrite is not mistaken for tampering
    assert [p.path for p in checked.unproven] == [f"{report.folder}/timestamps/manifest-2.txt"]


def _negative_serial_certificate() -> bytes:
    """A self-signed certificate whose serial number is negative, which RFC 5280 disallows
    (certifi's bundle holds such a root): made well-formed, then its serial's sign flipped."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Negative serial")])
    serial = 0x4142434445464748
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    field = b"\x02\x08" + serial.to_bytes(8, "big")
    assert der.count(field) == 1
    der = der.replace(field, b"\x02\x08\xc1" + field[3:])
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
    ).encode()


def test_a_root_rfc_5280_disallows_is_left_out_of_the_tsa_roots(
    tsa: LocalTSA, tmp_path: Path
) -> None:
    """A bundle holding a certificate with a negative serial number still gives its other
    roots, with no warning (cryptography announces it will refuse such bundles whole)."""
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(_negative_serial_certificate() + tsa.ca_file.read_bytes())

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        roots = load_roots(bundle)

    assert [r.subject for r in roots] == [
        x509.load_pem_x509_certificate(tsa.ca_file.read_bytes()).subject
    ]


def test_a_bundle_with_no_usable_root_is_a_one_line_error(tmp_path: Path) -> None:
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(_negative_serial_certificate())
    with pytest.raises(TimestampError, match="no usable certificate"):
        load_roots(bundle)
    bundle.write_bytes(b"not a certificate")
    with pytest.raises(TimestampError, match="no usable certificate"):
        load_roots(bundle)


def test_a_manifest_escapes_odd_names_as_sha256sum_does(tmp_path: Path) -> None:
    """A name holding a backslash or a newline is written the way `sha256sum` writes it, so
    `sha256sum -c` checks the folder from its manifest and `verify` reads the same names."""
    folder = tmp_path / "article"
    (folder / "evidence").mkdir(parents=True)
    names = ["article.json", "evidence/back\\slash.json", "evidence/new\nline.json", "plain.txt"]
    for i, name in enumerate(names):
        (folder / name).write_bytes(f"file {i}".encode())

    data = manifest(folder)

    assert read_manifest(data) == {
        name: hashlib.sha256(f"file {i}".encode()).hexdigest() for i, name in enumerate(names)
    }
    lines = data.decode().split("\n")
    assert lines[1].startswith("\\") and lines[1].endswith("  evidence/back\\\\slash.json")
    assert lines[2].startswith("\\") and lines[2].endswith("  evidence/new\\nline.json")
    (tmp_path / "manifest.txt").write_bytes(data)
    done = subprocess.run(
        ["sha256sum", "--strict", "-c", str(tmp_path / "manifest.txt")],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(names)
