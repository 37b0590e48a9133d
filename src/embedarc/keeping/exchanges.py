"""An article's capture record: the exchanges it relied on, written into its folder.

`capture/exchanges.jsonl` lists them one a line (see capture.py for what each holds); a
body is named by its SHA-256 and found in one place: the store (`store`: one of the
article's media files), `capture/bodies/<sha256>` (`capture`: pages and answers, even when
the folder's original or a piece of evidence holds the same bytes, since those are replaced
when the article or the post changes and the record must still prove what came), nowhere
since there was none (`empty`), or nowhere (`none`: a media body that is not the stored
file, such as a range or an HLS segment, or a body too large to keep). Records that name a
folder file (`folder:<name>`) are still read.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..network.capture_record import BODIES, RECORD, dump_record, read_record
from .changes import Changes
from .store import Store, file_sha256

if TYPE_CHECKING:
    from ..network.capture import Exchange, Recorder

log = logging.getLogger(__name__)


def write_capture(
    store: Store,
    recorder: Recorder,
    folder: Path,
    exchanges: Iterable[Exchange],
    *,
    media: set[str],
    files: Mapping[str, bytes],
    changes: Changes,
) -> int:
    """Add `exchanges` to the folder's capture record and keep the bodies it needs.

    `media` are the sha256s of the article's stored files, `files` the folder's files by
    name (a raw body equal to one is kept from those bytes). Returns the exchanges added.
    """
    by_hash = {hashlib.sha256(data).hexdigest(): name for name, data in sorted(files.items())}
    record_path = folder / RECORD
    try:
        text = record_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""  # the first exchanges of this article
    except UnicodeDecodeError as e:
        return _left_alone(record_path, str(e))
    try:
        records = read_record(text)
    except ValueError as e:
        return _left_alone(record_path, str(e))
    known = {r["id"] for r in records}
    added = 0
    for exchange in exchanges:
        sha = exchange.body_sha256
        assert sha is not None
        if exchange.body_size == 0:
            stored = "empty"  # none came, or none was read (a redirect's)
        elif exchange.complete and sha in media:
            stored = "store"
        elif exchange.complete and sha in by_hash:
            stored = "capture"
            body = folder / BODIES / sha
            if not body.is_file():
                store.write_file(body, files[by_hash[sha]], changes)
        elif exchange.kept and (spooled := recorder.spooled(sha)) is not None:
            stored = "capture"
            body = folder / BODIES / sha
            if not body.is_file():
                store.write_file(body, spooled.read_bytes(), changes)
        else:
            stored = "none"
        data = exchange.as_dict(stored=stored)
        if data["id"] not in known:
            known.add(data["id"])
            records.append(data)
            added += 1
    if added:
        store.write_file(record_path, dump_record(records), changes)
    return added


def _left_alone(path: Path, why: str) -> int:
    """An unreadable record is evidence too (of damage or tampering): it is not overwritten,
    `verify` reports it, and this run's exchanges for the article are not added to it."""
    log.warning("%s is unreadable (%s): this run's exchanges are not added to it", path, why)
    return 0


def capture_problems(folder: Path, media: set[str]) -> list[tuple[str, str, str]]:
    """What is wrong with a folder's capture record: (missing|altered|unindexed, path relative
    to the folder, reason), one per problem; `media` are the sha256s its sidecar lists."""
    record_path = folder / RECORD
    if not record_path.is_file():
        return []
    try:
        records = read_record(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        return [("altered", RECORD, f"unreadable: {e}")]
    problems: list[tuple[str, str, str]] = []
    cited: set[str] = set()
    for number, record in enumerate(records, 1):
        where = f"{RECORD}:{number}"
        body = record.get("body")
        if not isinstance(body, dict):
            body = {}
        sha, stored = body.get("sha256"), str(body.get("stored") or "")
        if not isinstance(sha, str) or len(sha) != 64:
            problems.append(("altered", where, "an exchange without a body sha256"))
            continue
        if stored == "store":
            if sha not in media:
                problems.append(("altered", where, f"body {sha} is no media file of the sidecar"))
            continue
        if stored not in ("capture",) and not stored.startswith("folder:"):
            continue  # empty, or not kept: nothing to check but the record itself
        name = f"{BODIES}/{sha}" if stored == "capture" else stored.removeprefix("folder:")
        if stored == "capture":
            cited.add(sha)
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            problems.append(("altered", where, f"body {name!r} is outside the folder"))
        elif not path.is_file() and not path.is_symlink():
            problems.append(("missing", name, f"the body of exchange {record.get('id')}"))
        else:
            try:
                actual = file_sha256(path)[0]  # a regular file only: never through a link
            except OSError as e:
                problems.append(("altered", name, f"cannot be read as a body: {e.strerror}"))
                continue
            if actual != sha:
                problems.append(("altered", name, f"does not hash to {sha} ({where})"))
    bodies = folder / BODIES
    if bodies.is_dir():
        for path in sorted(bodies.iterdir()):
            if path.name not in cited and not path.name.startswith("."):
                problems.append(("unindexed", f"{BODIES}/{path.name}", "no exchange cites it"))
    return problems
