"""`verify`'s part for the evidence: each kept timestamp token against its manifest and the
TSA's certificate chain, the folder against its last stamped manifest, and a perceptual hash
for every stored image and video.

A problem is (kind, path, reason): `altered` when a token or a file is not what it should be,
`missing` for a file the manifest lists that is gone, `unproven` for what is not proven yet
(a manifest no TSA has stamped yet, a file with no perceptual hash): the archive is still
sound, but the next `embedarc timestamp` or run should fill it in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ArchiveError
from . import timestamps

if TYPE_CHECKING:
    from cryptography import x509

Found = tuple[str, str, str]  # (missing | altered | unproven, path in the folder, reason)


def check_folder(folder: Path, roots: list[x509.Certificate] | None) -> Iterator[Found]:
    """The timestamps of one article folder; paths relative to the folder."""
    kept = timestamps.manifests(folder)
    for n, path in kept:
        data = path.read_bytes()
        tokens = timestamps.tokens_of(folder, n)
        name = f"{timestamps.FOLDER}/{path.name}"
        if not tokens and n == kept[-1][0]:
            yield "unproven", name, "no TSA has stamped it yet (see `embedarc timestamp`)"
        for token in tokens:
            token_name = f"{timestamps.FOLDER}/{token.name}"
            if roots is None:
                continue
            try:
                if token.stat().st_size > timestamps.REPLY_LIMIT:
                    raise timestamps.TimestampError("larger than any reply a TSA gives")
                timestamps.check(token.read_bytes(), data, roots)
            except timestamps.TimestampError as e:
                yield "altered", token_name, f"does not prove {path.name}: {e}"
            except OSError as e:
                yield "missing", token_name, f"cannot be read: {e.strerror}"
    for _n, path in kept[-1:]:
        yield from _against_manifest(folder, path)
    for token in _orphan_tokens(folder, {n for n, _ in kept}):
        yield "altered", f"{timestamps.FOLDER}/{token.name}", "a token without its manifest"


def _against_manifest(folder: Path, path: Path) -> Iterator[Found]:
    """The folder now against its last manifest: what the last timestamp attests."""
    listed = timestamps.read_manifest(path.read_bytes())
    now = timestamps.read_manifest(timestamps.manifest(folder))
    for name, sha in sorted(listed.items()):
        if name not in now:
            yield "missing", name, f"listed in {path.name}, which a TSA stamped, not in the folder"
        elif now[name] != sha:
            yield "altered", name, f"differs from {path.name} (its SHA-256 was {sha})"
    for name in sorted(set(now) - set(listed)):
        yield "unproven", name, f"added after {path.name}, not in any stamped manifest"


def _orphan_tokens(folder: Path, numbers: set[int]) -> Iterator[Path]:
    where = folder / timestamps.FOLDER
    if not where.is_dir():
        return
    for path in sorted(where.iterdir()):
        match = timestamps.TOKEN_RE.match(path.name)
        if match is not None and int(match.group(1)) not in numbers:
            yield path


def unhashed_media(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(path, reason) of each stored image or video without a perceptual hash."""
    sql = (
        "select m.path, e.sha256, e.pdq_error from media m"
        " left join media_evidence e on e.sha256 = m.sha256"
        " where (m.mime like 'image/%' or m.mime like 'video/%')"
        " and (e.sha256 is null or e.pdq_frames = 0) order by m.path"
    )
    try:
        rows = list(conn.execute(sql))
    except sqlite3.OperationalError:  # an index from before perceptual hashes (read-only)
        plain = (
            "select path, null, null from media where mime like 'image/%' or mime like 'video/%'"
        )
        try:
            rows = list(conn.execute(plain))
        except sqlite3.OperationalError:
            rows = []  # no media table yet: nothing is stored
    except sqlite3.DatabaseError as e:
        raise ArchiveError(f"cannot read the index: {e}") from e
    for path, examined, error in rows:
        if examined is None:
            yield str(path), "no perceptual hash yet (the next run computes it)"
        else:
            yield str(path), f"no perceptual hash: {error or 'no frame could be read'}"
