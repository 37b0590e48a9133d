"""Content Credentials (C2PA): what a file's own manifest says, read and never changed.

News photos and videos increasingly carry a C2PA manifest: who signed it (the issuer of the
signing certificate), which program made the claim, and whether the signature and the hashes
of the file still hold. The maintained reader (c2pa-python) reads it from the stored file,
which is opened read-only. It fetches nothing: remote manifests and OCSP are turned off, so a
manifest cannot make it reach a server past the network layer. The signer is not checked
against a trust list: `validation_state` is `Valid` when the signature and the file's hashes
hold, `Invalid` when they do not (the first failures are kept).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FIELD_LIMIT = 200  # characters kept of each text a manifest gives: it comes from strangers
ERRORS_KEPT = 5
# The reader looks inside these; any other file has no manifest it could find.
KINDS = ("image/", "video/", "audio/")


@dataclass(frozen=True)
class Credentials:
    """What a file's C2PA manifest says; `present` False when it has none."""

    present: bool
    issuer: str | None = None
    signer: str | None = None  # the signing certificate's common name
    claim_generator: str | None = None
    signed_at: str | None = None
    validation_state: str | None = None  # Valid, Invalid, Trusted; or "unreadable"
    errors: tuple[str, ...] = ()  # the first failure codes with their explanations

    def as_row(self) -> dict[str, Any]:
        return {
            "present": int(self.present),
            "issuer": self.issuer,
            "signer": self.signer,
            "claim_generator": self.claim_generator,
            "signed_at": self.signed_at,
            "validation_state": self.validation_state,
            "errors": json.dumps(list(self.errors)),
        }


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(value)[:FIELD_LIMIT]


@functools.cache
def _context() -> Any:
    import c2pa

    return c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}})


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        name, version = info[0].get("name"), info[0].get("version")
        return _text(f"{name} {version}" if version else name)
    return _text(manifest.get("claim_generator"))


def _failures(store: dict[str, Any]) -> tuple[str, ...]:
    results = store.get("validation_results")
    failures: object = None
    if isinstance(results, dict) and isinstance(results.get("activeManifest"), dict):
        failures = results["activeManifest"].get("failure")
    if not isinstance(failures, list):
        failures = store.get("validation_status")
    found = []
    for item in failures if isinstance(failures, list) else []:
        if isinstance(item, dict):
            text = f"{item.get('code')}: {item.get('explanation') or ''}".rstrip(": ")
            found.append(text[:FIELD_LIMIT])
    return tuple(found[:ERRORS_KEPT])


def read(path: Path, mime: str) -> Credentials:
    """The C2PA manifest of a stored file, if it has one; never raises for a bad manifest."""
    if not mime.startswith(KINDS):
        return Credentials(present=False)
    import c2pa

    try:
        with path.open("rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, context=_context())
            if reader is None:
                return Credentials(present=False)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as e:
        text = str(e)
        if "not supported" in text.lower() or "unsupported" in text.lower():
            return Credentials(present=False)
        # A manifest is there but cannot be read (malformed, truncated, too large for the
        # reader): that is a finding about the file, recorded with the reader's words.
        return Credentials(present=True, validation_state="unreadable", errors=(text[:200],))
    except (OSError, ValueError, RecursionError) as e:
        return Credentials(present=True, validation_state="unreadable", errors=(str(e)[:200],))
    if not isinstance(store, dict):
        return Credentials(present=True, validation_state="unreadable")
    manifests = store.get("manifests")
    active = manifests.get(store.get("active_manifest")) if isinstance(manifests, dict) else None
    manifest: dict[str, Any] = active if isinstance(active, dict) else {}
    signature = manifest.get("signature_info")
    signature = signature if isinstance(signature, dict) else {}
    return Credentials(
        present=True,
        issuer=_text(signature.get("issuer")),
        signer=_text(signature.get("common_name")),
        claim_generator=_generator(manifest),
        signed_at=_text(signature.get("time")),
        validation_state=_text(store.get("validation_state")) or "unknown",
        errors=_failures(store),
    )
