"""A WACZ (Web Archive Collection Zipped, 1.1.1) around one WARC: what replay tools open.

The zip holds `archive/data.warc.gz` (stored, not deflated, so a reader can seek into it),
`indexes/index.cdxj` (made by cdxj-indexer from the WARC), `pages/pages.jsonl` (the
articles), `datapackage.json` (each file's SHA-256 and size) and `datapackage-digest.json`.
Entries carry a fixed time and order, so the same WARC gives the same zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__

WACZ_VERSION = "1.1.1"
WARC_NAME = "archive/data.warc.gz"


@dataclass(frozen=True)
class Page:
    url: str
    ts: str  # ISO 8601
    title: str | None


def cdxj(warc: Path) -> bytes:
    """The sorted CDXJ index of a WARC, naming it as it is named inside the WACZ."""
    from cdxj_indexer import CDXJIndexer

    out = io.StringIO()
    CDXJIndexer(output=out, inputs=[str(warc)], sort=True, filename="data.warc.gz").process_all()
    return out.getvalue().encode("utf-8")


def pages_jsonl(pages: Iterable[Page]) -> bytes:
    lines: list[dict[str, Any]] = [{"format": "json-pages-1.0", "id": "pages", "title": "Pages"}]
    for page in pages:
        entry: dict[str, Any] = {
            "id": hashlib.sha256(f"{page.url} {page.ts}".encode()).hexdigest()[:32],
            "url": page.url,
            "ts": page.ts,
        }
        if page.title:
            entry["title"] = page.title
        lines.append(entry)
    return b"".join(json.dumps(e, sort_keys=True).encode() + b"\n" for e in lines)


def _info(name: str, date: str, *, deflate: bool) -> zipfile.ZipInfo:
    year, month, day = int(date[0:4]), int(date[5:7]), int(date[8:10])
    hour, minute, second = int(date[11:13]), int(date[14:16]), int(date[17:19])
    # A zip date holds the years 1980 to 2107: an archiving time outside them is clamped.
    info = zipfile.ZipInfo(name, (min(max(year, 1980), 2107), month, day, hour, minute, second))
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # Unix, whatever the platform writing it
    return info


def write_wacz(target: Path, *, warc: Path, pages: list[Page], title: str, created: str) -> None:
    """Write the WACZ of `warc` to `target` (a temporary file the caller renames)."""
    index = cdxj(warc)
    listing = pages_jsonl(pages)
    resources: list[dict[str, Any]] = []

    def described(path: str, size: int, sha: str) -> None:
        resources.append(
            {"name": Path(path).name.lower(), "path": path, "hash": f"sha256:{sha}", "bytes": size}
        )

    with zipfile.ZipFile(target, "w") as z:
        digest = hashlib.sha256()
        size = 0
        with z.open(_info(WARC_NAME, created, deflate=False), "w") as out, warc.open("rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        described(WARC_NAME, size, digest.hexdigest())
        for path, data in (("indexes/index.cdxj", index), ("pages/pages.jsonl", listing)):
            z.writestr(_info(path, created, deflate=True), data)
            described(path, len(data), hashlib.sha256(data).hexdigest())
        package = {
            "profile": "data-package",
            "resources": resources,
            "title": title,
            "created": created[:19] + "Z",
            "wacz_version": WACZ_VERSION,
            "software": f"embedarc {__version__}",
        }
        if pages:
            package["mainPageURL"] = pages[0].url
            package["mainPageDate"] = pages[0].ts
        data = json.dumps(package, indent=2, sort_keys=True).encode()
        z.writestr(_info("datapackage.json", created, deflate=True), data)
        digest_doc = {
            "path": "datapackage.json",
            "hash": f"sha256:{hashlib.sha256(data).hexdigest()}",
        }
        z.writestr(
            _info("datapackage-digest.json", created, deflate=True),
            json.dumps(digest_doc, indent=2, sort_keys=True).encode(),
        )
