"""A time-stamping authority for tests: a test CA, a TSA certificate with the critical
timeStamping usage, and replies signed by OpenSSL's own `openssl ts -reply`."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.simweb.messages import Request, Response

OPENSSL = shutil.which("openssl")

CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {serial}
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "embedarc tests"),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_tsa_cert(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, common_name: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


@dataclass
class LocalTSA:
    """Signs replies with `openssl ts -reply`; `ca_file` is what a checker must trust."""

    folder: Path
    name: str = "Test TSA"
    replies: int = 0

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ca, ca_key = make_ca(f"{self.name} Root")
        cert, key = make_tsa_cert(ca, ca_key, self.name)
        self.ca_file = self.folder / "ca.pem"
        self.ca_file.write_bytes(_pem(ca))
        self.cert_file = self.folder / "tsa.pem"
        self.cert_file.write_bytes(_pem(cert))
        self.key_file = self.folder / "tsa.key"
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.config = self.folder / "ts.cnf"
        self.config.write_text(CONFIG.format(serial=self.folder / "serial"))
        (self.folder / "serial").write_text("01\n")
        self._lock = threading.Lock()

    def sign(self, query: bytes) -> bytes:
        """The DER reply OpenSSL gives to a DER query."""
        assert OPENSSL is not None, "the tests need the openssl command"
        with self._lock:  # one serial file
            self.replies += 1
            query_file = self.folder / f"q{self.replies}.tsq"
            reply_file = self.folder / f"r{self.replies}.tsr"
            query_file.write_bytes(query)
            subprocess.run(
                [
                    OPENSSL, "ts", "-reply", "-config", str(self.config),
                    "-queryfile", str(query_file), "-signer", str(self.cert_file),
                    "-inkey", str(self.key_file), "-chain", str(self.cert_file),
                    "-out", str(reply_file),
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
            return reply_file.read_bytes()

    def answer(self, request: Request) -> Response:
        """A route for the simulated web: a POSTed query gets a signed reply."""
        if request.method != "POST":
            return Response(405, {"Content-Type": "text/plain"}, b"POST a query\n")
        return Response(
            200, {"Content-Type": "application/timestamp-reply"}, self.sign(request.body)
        )
