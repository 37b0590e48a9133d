"""An article's capture record, as kept in its folder: `capture/exchanges.jsonl`, one exchange
a line, and `capture/bodies/<sha256>`. Reading and writing it needs no HTTP stack, so what only
reads records (verify, list, show, search, remove) starts without one; capture.py makes them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

FOLDER = "capture"  # inside an article folder
RECORD = f"{FOLDER}/exchanges.jsonl"
BODIES = f"{FOLDER}/bodies"
FORMAT = 1


def read_record(text: str) -> list[dict[str, Any]]:
    """The exchanges of a capture record; ValueError naming the first line that is not one."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise ValueError(f"line {number} is not JSON") from None
        if not _is_exchange(data):
            raise ValueError(f"line {number} is not an exchange")
        records.append(data)
    return records


def _is_exchange(data: object) -> bool:
    """Whether a record line has the shape the writer gives it: what reads it (the next run
    adding to it, an export, verify) may then rely on its parts' types."""
    if not isinstance(data, dict):
        return False
    lists = ("request_headers", "response_headers", "redacted")
    return (
        isinstance(data.get("id"), str)
        and isinstance(data.get("time"), str)
        and isinstance(data.get("body", {}), dict)
        and _base64_or_none(data.get("request_body"))
        and all(isinstance(data.get(name, []), list) for name in lists)
    )


def _base64_or_none(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return True


def dump_record(records: Iterable[dict[str, Any]]) -> bytes:
    """One exchange a line, in the order they happened: the same exchanges, the same bytes."""
    ordered = sorted({r["id"]: r for r in records}.values(), key=lambda r: (r["time"], r["id"]))
    return b"".join(
        json.dumps(r, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        for r in ordered
    )
