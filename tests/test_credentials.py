"""Content Credentials (C2PA): a stored file's manifest is read and recorded (issuer, claim
generator, validation state) with c2pa-python's reader, and the file is never changed."""

from __future__ import annotations

import datetime
import hashlib
import io
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from embedarc.config import Settings
from embedarc.evidence import credentials
from embedarc.upkeep.verify import verify
from tests.helpers import db, run, text_input
from tests.simweb import SimWeb


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign,
        crl_sign=sign,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.fixture(scope="module")
def signer() -> Any:
    return make_signer()


def make_signer() -> Any:
    """A C2PA signer with an ES256 chain: a test root and a newsroom's signing certificate."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Root", "Test Root Authority"))
        .issuer_name(_name("Test Root", "Test Root Authority"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Camera", "Test Newsroom"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, root))
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, private, None))


CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def photo(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


def signed(signer: Any, data: bytes, *, extra: dict[str, Any] | None = None) -> bytes:
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": "test-camera", "version": "1.0"}],
        "title": "photo.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]},
            },
            *([extra] if extra else []),
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
    return out.getvalue()


def read(tmp_path: Path, data: bytes) -> credentials.Credentials:
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    return credentials.read(path, "image/jpeg")


def test_a_signed_photo_has_its_issuer_generator_and_state_read(
    tmp_path: Path, signer: Any
) -> None:
    found = read(tmp_path, signed(signer, photo()))

    assert found.present
    assert found.issuer == "Test Newsroom" and found.signer == "Test Camera"
    assert found.claim_generator == "test-camera 1.0"
    assert found.validation_state == "Valid"


def test_a_photo_without_credentials_has_none(tmp_path: Path) -> None:
    assert read(tmp_path, photo()) == credentials.Credentials(present=False)


def test_a_photo_changed_after_signing_is_invalid_with_the_reason(
    tmp_path: Path, signer: Any
) -> None:
    data = bytearray(signed(signer, photo()))
    data[-100] ^= 0xFF  # in the picture, which the manifest's hash covers

    found = read(tmp_path, bytes(data))

    assert found.present and found.validation_state == "Invalid"
    assert any(error.startswith("assertion.dataHash.mismatch") for error in found.errors)


def test_a_malformed_manifest_is_recorded_not_raised(tmp_path: Path, signer: Any) -> None:
    data = bytearray(signed(signer, photo()))
    at = data.index(b"jumb")  # the manifest store's box
    data[at + 40 : at + 240] = b"\xff" * 200

    found = read(tmp_path, bytes(data))

    assert found.present
    assert found.validation_state in ("unreadable", "Invalid")
    assert found.errors


def test_a_huge_manifest_is_read_and_its_texts_kept_short(tmp_path: Path, signer: Any) -> None:
    big = {"label": "org.example.notes", "data": {"notes": "x" * 500_000}}
    manifest = {
        "claim_generator_info": [{"name": "g" * 5000, "version": "1"}],
        "title": "photo.jpg",
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]},
            },
            big,
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(photo()), out)

    found = read(tmp_path, out.getvalue())

    assert found.present and found.validation_state == "Valid"
    assert found.claim_generator is not None
    assert len(found.claim_generator) == credentials.FIELD_LIMIT


def test_archived_credentials_are_recorded_and_the_file_kept_byte_for_byte(
    simweb: SimWeb, settings: Settings, signer: Any
) -> None:
    good = signed(signer, photo())
    bad = bytearray(signed(signer, photo((200, 10, 10))))
    bad[-100] ^= 0xFF
    simweb.file("https://media.example.org/signed.jpg", good, "image/jpeg")
    simweb.file("https://media.example.org/changed.jpg", bytes(bad), "image/jpeg")
    body = "Story\nhttps://media.example.org/signed.jpg\nhttps://media.example.org/changed.jpg\n"

    [report] = run(settings, text_input(body, "story.txt"))

    assert report.media == 2
    rows = {r["sha256"]: r for r in db(settings.archive_dir)["media_evidence"].rows}
    good_sha, bad_sha = hashlib.sha256(good).hexdigest(), hashlib.sha256(bad).hexdigest()
    assert set(rows) == {good_sha, bad_sha}  # stored under the hashes of the bytes served
    assert rows[good_sha]["c2pa_present"] == 1
    assert rows[good_sha]["c2pa_issuer"] == "Test Newsroom"
    assert rows[good_sha]["c2pa_claim_generator"] == "test-camera 1.0"
    assert rows[good_sha]["c2pa_validation_state"] == "Valid"
    assert rows[bad_sha]["c2pa_validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in rows[bad_sha]["c2pa_errors"]
    for sha in (good_sha, bad_sha):
        [stored] = (settings.archive_dir / "media" / sha[:2]).glob(f"{sha}.*")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert verify(settings.archive_dir).sound
