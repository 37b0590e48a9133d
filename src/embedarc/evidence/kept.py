"""Evidence others can check, kept beside the footage: timestamps of each article folder,
perceptual hashes and Content Credentials of each stored file.

Nothing here may lose an article: a TSA that fails, an image that cannot be decoded, a
malformed C2PA manifest each end as a recorded reason, and the article stays as written.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import iso, utcnow
from ..errors import NetworkError, TooLarge
from ..keeping.index import Index
from ..keeping.store import Store, stored_file
from ..network.net import Net
from . import credentials, perceptual, timestamps

log = logging.getLogger(__name__)


# -- timestamps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamped:
    """What asking for one article's timestamps came to."""

    folder: str
    manifest: str | None  # the manifest stamped (relative to the folder); None: none needed
    stamped: tuple[str, ...] = ()  # the TSAs that gave a token now
    failed: tuple[tuple[str, str], ...] = ()  # (TSA, why) of those that did not


def stamp(
    net: Net, index: Index, store: Store, folder_name: str, article_id: str, urls: Iterable[str]
) -> Stamped:
    """Stamp the folder's manifest with each TSA that has not stamped it yet.

    A manifest differing from the last one (the folder changed) is written as the next one
    first; a TSA that fails is recorded in the index (`timestamps`, state `failed`) and asked
    again by the next run or `embedarc timestamp`.
    """
    folder = store.root / folder_name
    where = folder / timestamps.FOLDER
    current = timestamps.manifest(folder)
    kept = timestamps.manifests(folder)
    if kept and kept[-1][1].read_bytes() == current:
        n = kept[-1][0]
    else:
        n = kept[-1][0] + 1 if kept else 1
        store.write_file(where / f"manifest-{n}.txt", current)
    manifest_name = f"{timestamps.FOLDER}/manifest-{n}.txt"
    digest = _sha256(current)
    stamped: list[str] = []
    failed: list[tuple[str, str]] = []
    urls = list(urls)
    for url in urls:
        token_path = where / timestamps.token_name(n, url, urls)
        if token_path.is_file():
            continue
        row: dict[str, Any] = {
            "article_id": article_id,
            "manifest": manifest_name,
            "tsa": url,
            "manifest_sha256": digest,
            "attempted_at": iso(utcnow()),
        }
        # Recorded before asking: a run killed while it waits leaves this row for the next.
        with index.write():
            index.db.table("timestamps").upsert(
                row | {"state": "pending", "token": None, "error": None},
                pk=("article_id", "manifest", "tsa"),
            )
        try:
            reply = timestamps.request(net, url, current)
            token = timestamps.describe(reply)
            store.write_file(token_path, reply)
        except (timestamps.TimestampError, NetworkError, TooLarge) as e:
            why = str(e)
            failed.append((url, why))
            row |= {"token": None, "state": "failed", "error": why}
            log.warning("timestamp of %s by %s failed: %s", folder_name, url, why)
        else:
            stamped.append(url)
            row |= {
                "token": f"{timestamps.FOLDER}/{token_path.name}",
                "state": "stamped",
                "error": None,
                "gen_time": token.gen_time,
                "serial": token.serial,
            }
        with index.write():
            index.db.table("timestamps").upsert(row, pk=("article_id", "manifest", "tsa"))
    return Stamped(folder_name, manifest_name, tuple(stamped), tuple(failed))


def failed_articles(index: Index) -> list[tuple[str, str]]:
    """(article id, folder) of articles whose last request for a timestamp failed, or was
    cut short."""
    sql = (
        "select distinct a.id, a.folder from timestamps t join articles a on a.id = t.article_id"
        " where t.state in ('failed', 'pending')"
    )
    return [(str(i), str(f)) for i, f in index.db.execute(sql)]


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- perceptual hashes and Content Credentials ----------------------------------------------


def unexamined(index: Index) -> list[dict[str, Any]]:
    """Stored images and videos with no perceptual hash or credentials recorded yet."""
    sql = (
        "select m.sha256, m.path, m.mime, m.duration from media m"
        " left join media_evidence e on e.sha256 = m.sha256"
        " where e.sha256 is null and (m.mime like 'image/%' or m.mime like 'video/%')"
    )
    return list(index.db.query(sql))


@dataclass(frozen=True)
class Examined:
    """What a stored file showed: its perceptual hashes (or why none), its credentials."""

    frames: list[perceptual.FrameHash]
    pdq_error: str | None
    found: credentials.Credentials


def examine_file(path: Path, mime: str, duration: float | None, *, max_pixels: int) -> Examined:
    """The PDQ hashes and C2PA credentials of one stored file; reads it, writes nothing, so it
    may run on any thread while the run goes on."""
    frames: list[perceptual.FrameHash] = []
    pdq_error = None
    try:
        frames = perceptual.hashes_for(path, mime, duration=duration, max_pixels=max_pixels)
    except perceptual.PerceptualError as e:
        pdq_error = str(e)
        log.warning("no perceptual hash for %s: %s", path.name, pdq_error)
    return Examined(frames, pdq_error, credentials.read(path, mime))


def examine(
    index: Index,
    root: Path,
    *,
    max_pixels: int,
    ready: Mapping[str, Future[Examined]] | None = None,
) -> int:
    """Record the PDQ hashes and C2PA credentials of every stored image and video that has
    none yet, each SHA-256 once; returns how many files were examined.

    `ready` are files already being examined while the run went on (by their sha256); the
    others are examined side by side (a video's frames come from an ffmpeg of its own, so each
    core is kept busy). The index is written from this thread alone."""
    rows = unexamined(index)
    ready = ready or {}

    def look(row: dict[str, Any]) -> Examined:
        started = ready.get(str(row["sha256"]))
        if started is not None and not started.cancel():
            return started.result()  # under way or done while the run went on
        # An index row is rebuilt from sidecars anyone could have edited: only a file under
        # the store's own name for its sha256 is read.
        path = stored_file(root, row["sha256"], row["path"])
        if path is None:
            # The index names a file outside the store (from an altered sidecar): it is not
            # handed to Pillow, ffmpeg or the C2PA reader.
            why = f"not a file of the store: {row['path']}"
            return Examined([], why, credentials.Credentials(present=False))
        return examine_file(path, str(row["mime"] or ""), row["duration"], max_pixels=max_pixels)

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        for row, seen in zip(rows, pool.map(look, rows), strict=True):
            _record_examined(index, row["sha256"], seen)
    return len(rows)


def _record_examined(index: Index, sha256: str, seen: Examined) -> None:
    frames = seen.frames
    record = {
        "sha256": sha256,
        "checked_at": iso(utcnow()),
        "pdq_frames": len(frames),
        "pdq_error": seen.pdq_error,
        **{f"c2pa_{k}": v for k, v in seen.found.as_row().items()},
    }
    with index.write():
        table = index.db.table("perceptual_hashes")
        table.delete_where("sha256 = ?", [sha256])
        table.insert_all(
            [
                {
                    "sha256": sha256,
                    "frame": f.frame,
                    "time": f.time,
                    "pdq": f.pdq,
                    "mirror": f.mirror,
                    "quality": f.quality,
                }
                for f in frames
            ],
            pk=("sha256", "frame"),
        )
        index.db.table("media_evidence").upsert(record, pk="sha256")
