"""`verify --export`: an exported bag, WACZ or WARC still holds what it says it holds, checked
with each format's own library (bagit's validation, warcio's digest checks, the WACZ's
datapackage hashes); one line per problem."""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


def check_export(path: Path) -> list[str]:
    """The problems of an exported bag (a folder), WACZ or WARC; [] when it holds."""
    if path.is_dir():
        return _bag(path)
    if path.name.endswith(".wacz"):
        return _wacz(path)
    if path.name.endswith((".warc", ".warc.gz")):
        try:
            with path.open("rb") as stream:
                return _warc(stream, str(path))
        except OSError as e:
            return [f"{path}: cannot be read: {e.strerror or e}"]
    return [f"{path}: not a bag, a WACZ or a WARC"]


def _bag(path: Path) -> list[str]:
    import bagit

    if not (path / "bagit.txt").is_file():
        return [f"{path}: not a bag (no bagit.txt)"]
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.ERROR)  # each problem is returned, not logged as well
    try:
        bagit.Bag(str(path)).validate(processes=1)
    except bagit.BagValidationError as e:
        return [f"{path}: {detail}" for detail in e.details] or [f"{path}: {e.message}"]
    except bagit.BagError as e:
        return [f"{path}: {e}"]
    finally:
        logger.setLevel(level)
    return []


def _warc(stream: IO[bytes], name: str) -> list[str]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    problems: list[str] = []
    try:
        for record in ArchiveIterator(stream, check_digests=True):
            content = record.content_stream()
            while content.read(CHUNK):
                pass
            target = record.rec_headers.get_header("WARC-Target-URI") or "?"
            if record.digest_checker.passed is None:
                # Every record embedarc writes carries its block digest: one without was
                # altered, and nothing here would vouch for its bytes.
                problems.append(f"{name}: {target}: no WARC-Block-Digest to check it by")
            elif record.digest_checker.passed is False:
                problems += [f"{name}: {target}: {p}" for p in record.digest_checker.problems]
    except (ArchiveLoadFailed, OSError, ValueError) as e:
        problems.append(f"{name}: not a readable WARC: {e}")
    return problems


# What every WACZ embedarc writes lists in its datapackage.json: a package listing less would
# vouch for nothing it leaves out.
WACZ_PARTS = ("archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl")


def _wacz(path: Path) -> list[str]:
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as wacz:
            data = wacz.read("datapackage.json")
            stated = json.loads(wacz.read("datapackage-digest.json"))
            want = stated.get("hash") if isinstance(stated, dict) else None
            if want != f"sha256:{hashlib.sha256(data).hexdigest()}":
                problems.append(f"{path}: datapackage.json: does not hash to its {want or 'hash'}")
            package = json.loads(data)
            resources = package.get("resources") if isinstance(package, dict) else None
            if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
                return [*problems, f"{path}: not a readable WACZ: a malformed resources list"]
            listed = {str(r.get("path")) for r in resources}
            problems += [
                f"{path}: {part}: not listed in datapackage.json"
                for part in WACZ_PARTS
                if part not in listed
            ]
            for resource in resources:
                name, want = str(resource.get("path")), str(resource.get("hash") or "")
                digest = hashlib.sha256()
                with wacz.open(name) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                if want != f"sha256:{digest.hexdigest()}":
                    problems.append(f"{path}: {name}: does not hash to its {want or 'hash'}")
                if name.endswith((".warc", ".warc.gz")):
                    with wacz.open(name) as member:
                        problems += _warc(member, f"{path}!{name}")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        problems.append(f"{path}: not a readable WACZ: {e}")
    return problems
