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
            if record.digest_checker.passed is False:
                target = record.rec_headers.get_header("WARC-Target-URI") or "?"
                problems += [f"{name}: {target}: {p}" for p in record.digest_checker.problems]
    except (ArchiveLoadFailed, OSError, ValueError) as e:
        problems.append(f"{name}: not a readable WARC: {e}")
    return problems


def _wacz(path: Path) -> list[str]:
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as wacz:
            package = json.loads(wacz.read("datapackage.json"))
            resources = package.get("resources") if isinstance(package, dict) else None
            for resource in resources if isinstance(resources, list) else []:
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
