"""RFC 3161 trusted timestamps of an article folder: proof that its files existed, as they
are, at a time a third party (a time-stamping authority, TSA) signed.

What is stamped is the folder's *manifest*: `timestamps/manifest-<n>.txt`, one line per file
of the folder (`<sha256>  <path>`, sorted by path, in `sha256sum` format so that
`sha256sum -c` checks it from the folder), every file but those under `timestamps/` and the
hidden temporaries of a write in progress; symbolic links (and pipes, devices) are not files
of the folder and are left out. A file under `media/` is listed by the SHA-256
that is its name (the store checked it when the file arrived; `verify` checks it again).
The TSA signs the manifest's SHA-256; its whole reply is kept beside the manifest as
`timestamps/manifest-<n>.<tsa>.tsr`, which `openssl ts -verify` reads:

    openssl ts -verify -in manifest-1.freetsa.org.tsr -data manifest-1.txt -CAfile tsa-ca.pem

When the folder changes (a later run adds footage), the next manifest gets the next number
and is stamped in turn; earlier manifests and tokens stay, a history of what was when.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EmbedarcError
from ..keeping.store import HASHED_NAME, file_sha256, slugify

log = logging.getLogger(__name__)

# A block's base64 holds no "-": a BEGIN without its END stops at the next marker instead of
# running on into the next certificate (and each is scanned once, not to the file's end).
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n[^-]+-----END CERTIFICATE-----")

if TYPE_CHECKING:
    from cryptography import x509
    from rfc3161_client import TimeStampResponse

    from ..network.net import Net

FOLDER = "timestamps"
MANIFEST_RE = re.compile(r"^manifest-([0-9]{1,9})\.txt$")
TOKEN_RE = re.compile(r"^manifest-([0-9]{1,9})\.([a-z0-9-]{1,64})\.tsr$")
# A TSA's reply is a few KiB (a signature and its certificate chain); more is not a reply.
REPLY_LIMIT = 256 * 1024


class TimestampError(EmbedarcError):
    """A TSA did not give a usable token, or a kept token does not prove what it should."""


@dataclass(frozen=True)
class Token:
    """What a checked token says."""

    gen_time: str  # ISO 8601, UTC
    serial: str
    tsa: str | None  # the TSA's name in the token, if it gives one


def manifest(folder: Path) -> bytes:
    """The folder's manifest as it stands now (see the module's docstring)."""
    lines = []
    for dirpath, dirs, files in os.walk(folder):
        here = Path(dirpath)
        if here == folder:
            dirs[:] = [d for d in dirs if d != FOLDER]
        dirs.sort()
        for name in files:
            if name.startswith(".") and name.endswith((".tmp", ".old", ".part")):
                continue  # a write in progress, or one a kill cut short
            path = here / name
            if not stat.S_ISREG(path.lstat().st_mode):
                # A link, a pipe or a device is no file of the folder: hashing it would read
                # what it points at (outside, endless like /dev/zero) or fail if it dangles.
                continue
            relative = path.relative_to(folder).as_posix()
            match = HASHED_NAME.match(name)
            if relative.startswith("media/") and match is not None:
                sha = match.group(1)
            else:
                sha = file_sha256(path)[0]
            lines.append((relative, sha))
    return "".join(_manifest_line(sha, path) for path, sha in sorted(lines)).encode()


def _manifest_line(sha: str, path: str) -> str:
    """One line as `sha256sum` writes it: in a name holding a backslash or a newline, each is
    written as a backslash and `\\` or `n`, and the line starts with a backslash, so that
    `sha256sum -c` reads the name back."""
    if "\\" in path or "\n" in path:
        return "\\" + sha + "  " + path.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{sha}  {path}\n"


def read_manifest(data: bytes) -> dict[str, str]:
    """path -> sha256 of a manifest's lines (lines that do not parse are left out)."""
    listed = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        escaped = line.startswith("\\")
        sha, sep, path = line.removeprefix("\\").partition("  ")
        if sep and len(sha) == 64:
            listed[_unescape(path) if escaped else path] = sha
    return listed


def _unescape(path: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), path)


def manifests(folder: Path) -> list[tuple[int, Path]]:
    """The folder's manifests, oldest first."""
    where = folder / FOLDER
    if not where.is_dir():
        return []
    found = []
    for path in where.iterdir():
        match = MANIFEST_RE.match(path.name)
        if match is not None and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def tokens_of(folder: Path, n: int) -> list[Path]:
    where = folder / FOLDER
    if not where.is_dir():
        return []
    return sorted(
        path
        for path in where.iterdir()
        if (match := TOKEN_RE.match(path.name)) is not None and int(match.group(1)) == n
    )


def tsa_label(url: str) -> str:
    """A TSA's part of a token's file name: its host (and port), as a short slug."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "tsa"
    label = slugify(f"{host}-{parts.port}" if parts.port else host)
    return (label or "tsa")[:64]


def token_name(n: int, url: str, urls: Iterable[str] = ()) -> str:
    """The name of `url`'s token for manifest `n`. Two of the TSAs named (`urls`) on one host
    would share their host's label, and the second would take the first's token for its own
    and never be asked: each of those gets a part of its URL's hash too."""
    label = tsa_label(url)
    if any(other != url and tsa_label(other) == label for other in urls):
        label = f"{label[:55]}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    return f"manifest-{n}.{label}.tsr"


def request(net: Net, url: str, data: bytes) -> bytes:
    """Ask the TSA at `url` to stamp `data` (its SHA-256); the reply, checked to be a granted
    token for this digest and this request's nonce. TimestampError (or NetworkError) if not."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    asked = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    answer = net.fetch(
        url,
        method="POST",
        headers={"Content-Type": "application/timestamp-query"},
        content=asked.as_bytes(),
        max_bytes=REPLY_LIMIT,
    )
    if answer.status != 200:
        raise TimestampError(f"the TSA answered HTTP {answer.status}")
    reply = _decode(answer.content)
    info = reply.tst_info
    if info.nonce != asked.nonce:
        raise TimestampError("the TSA's reply is for another request (its nonce differs)")
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("the TSA's reply stamps another digest than the manifest's")
    _certificates(reply)  # a token whose certificates cannot be read could never be checked
    return answer.content


def _certificates(reply: TimeStampResponse) -> list[x509.Certificate]:
    """The certificates a reply carries; TimestampError when one is not a certificate."""
    from cryptography import x509

    try:
        return [x509.load_der_x509_certificate(c) for c in reply.signed_data.certificates]
    except (ValueError, x509.InvalidVersion) as e:
        raise TimestampError(f"a certificate in the token cannot be read: {e}") from None


def _decode(content: bytes) -> TimeStampResponse:
    from rfc3161_client import PKIStatus, decode_timestamp_response

    try:
        reply = decode_timestamp_response(content)
    except ValueError as e:
        raise TimestampError(f"not a timestamp reply: {e}") from None
    if reply.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        said = "; ".join(reply.status_string)[:200]
        raise TimestampError(f"the TSA refused (status {reply.status}{': ' if said else ''}{said})")
    return reply


def load_roots(ca_file: Path | None) -> list[x509.Certificate]:
    """The CA certificates TSA tokens are checked against: `ca_file`'s, else certifi's."""
    import certifi
    from cryptography import x509

    path = ca_file or Path(certifi.where())
    try:
        blocks = _PEM_CERT.findall(path.read_bytes())
    except OSError as e:
        raise TimestampError(f"cannot read the TSA certificates {path}: {e.strerror}") from None
    roots = []
    for block in blocks:
        # A certificate RFC 5280 disallows (certifi's bundle holds one with a serial number
        # that is not positive) is left out: cryptography only warns of it today, and will
        # refuse the whole bundle in a later release.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                roots.append(x509.load_pem_x509_certificate(block))
            except (ValueError, Warning) as e:
                log.debug("TSA roots: a certificate of %s left out: %s", path, e)
    if not roots:
        raise TimestampError(f"cannot read the TSA certificates {path}: no usable certificate")
    return roots


def describe(token: bytes) -> Token:
    """What a reply says, unchecked (for the index row written when it arrives)."""
    info = _decode(token).tst_info
    return Token(info.gen_time.strftime("%Y-%m-%dT%H:%M:%SZ"), str(info.serial_number), None)


def check(token: bytes, data: bytes, roots: list[x509.Certificate]) -> Token:
    """Check a kept reply: granted, for `data`'s SHA-256, signed by a certificate with the
    time-stamping usage that chains to `roots`, valid when it signed. TimestampError if not."""
    from rfc3161_client import VerificationError, VerifierBuilder

    reply = _decode(token)
    certificates = _certificates(reply)
    verifier = VerifierBuilder(roots=roots, intermediates=certificates).build()
    try:
        verifier.verify_message(reply, data)
    except VerificationError as e:
        raise TimestampError(f"the token does not verify: {e}") from None
    except ValueError as e:
        raise TimestampError(f"the token cannot be read: {e}") from None
    info = reply.tst_info
    name = None
    try:
        name = str(info.name.value) if info.name is not None else None
    except ValueError:
        name = None
    return Token(info.gen_time.strftime("%Y-%m-%dT%H:%M:%SZ"), str(info.serial_number), name)
