"""An article as WARC records (ISO 28500, WARC/1.1), assembled from its folder and the store.

Each recorded exchange becomes a `request` and a `response` record whose HTTP header block is
the one recorded, byte for byte, and whose payload is the raw body as received (content
encoding included) read from where the capture record says it is: a media file's payload is
the stored file, so its WARC-Payload-Digest is the store's SHA-256. What no exchange carries
(an article read from a file, an archive made before exchanges were recorded, a body that was
not kept) is added as a `resource` record of the archived bytes or a `metadata` record, marked
with `WARC-Embedarc-Note` as not a raw HTTP exchange. The sidecar goes in as a `metadata`
record.

The same archive gives the same bytes: record dates come from capture times, record ids are
derived from content (UUID 5), records are in a fixed order, gzip members carry no time.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import ipaddress
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from .. import __version__
from ..errors import ExportError
from ..keeping.sidecar import SIDECAR
from ..keeping.sidecar_record import Record as SidecarRecord
from ..keeping.sidecar_record import Sidecar
from ..model import LinkKind
from ..network.capture_record import BODIES, RECORD, read_record
from ..upkeep.verify import inside as _inside

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://embedarc.invalid/warc-record")
CHUNK = 1024 * 1024
NOT_RAW = "not a raw HTTP exchange: "
# A record's date as every reader accepts it; anything else came from an altered record.
_WARC_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# What a WARC header value may hold: visible ASCII and blanks, never a line break.
_FIELD_VALUE = re.compile(r"[\x20-\x7e]*")


@dataclass(frozen=True)
class Record:
    """One WARC record before it is written: its header fields and the parts of its block."""

    kind: str
    uri: str
    date: str
    name: str  # what the record id is derived from
    content_type: str
    parts: tuple[bytes | Path, ...]
    payload_digest: str | None = None  # sha256 hex of the payload, when known
    extra: tuple[tuple[str, str], ...] = ()
    concurrent: str | None = None  # the name of the record it belongs with
    payload_at: int | None = None  # which part the payload starts at, to check its digest

    @property
    def record_id(self) -> str:
        return f"<urn:uuid:{uuid.uuid5(NAMESPACE, self.name)}>"


@dataclass
class ArticleRecords:
    """The records of one article, and what could not be given as raw exchanges."""

    records: list[Record] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    payloads: dict[str, str] = field(default_factory=dict)  # sha256 -> url of raw responses
    responded: set[str] = field(default_factory=set)  # URLs a whole raw response replays


def warc_date(time: str) -> str:
    """`2026-01-02T03:04:05.678Z` → `2026-01-02T03:04:05Z` (what every reader accepts)."""
    return time[:19] + "Z" if len(time) >= 19 else time


def target_uri(url: str) -> str:
    """A URL fit for a header line: no space, control or non-ASCII character left raw."""
    return quote(url, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def _line(text: str, what: str) -> bytes:
    """Header text as the bytes it was recorded from; a line break in it is a forgery."""
    if "\r" in text or "\n" in text:
        raise ExportError(f"{what} holds a line break: the capture record was altered")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ExportError(f"{what} holds a character no header byte gives") from None


def _header_block(first: str, headers: Any, what: str) -> bytes:
    lines = [_line(first, what)]
    for pair in headers:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise ExportError(f"{what}: a header field is not a name and a value")
        name, value = pair
        if ":" in name or not name.strip():
            raise ExportError(f"{what}: header name {name!r} is not one")
        lines.append(_line(name, what) + b": " + _line(value, what))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def inside(base: Path, relative: object) -> Path | None:
    """base/relative when it stays inside base (verify.inside) and no part of it below base is
    a symbolic link: an export reads the archive's own files, never what a link placed in an
    article folder or the store points at (a key, a password file)."""
    path = _inside(base, relative)
    if path is None:
        return None
    for part in (path, *path.parents):
        if part == base:
            break
        if part.is_symlink():
            raise ExportError(f"refusing to export through a symbolic link: {part}")
    return path


def _body(root: Path, folder: Path, data: Sidecar, exchange: dict[str, Any]) -> Path | None:
    """The file holding an exchange's raw body, or None when it was not kept."""
    body = exchange.get("body") or {}
    sha, stored = body.get("sha256"), str(body.get("stored") or "none")
    if stored == "store":
        for entry in data.media:
            if entry.sha256 == sha:
                return inside(root, entry.path)
        return None
    if stored.startswith("folder:"):
        return inside(folder, stored.removeprefix("folder:"))
    if stored == "capture" and isinstance(sha, str):
        return inside(folder, f"{BODIES}/{sha}")
    return None


def _exchange_records(
    root: Path, folder: Path, data: Sidecar, exchange: dict[str, Any], out: ArticleRecords
) -> None:
    what = f"{folder.name}/{RECORD}: exchange {exchange.get('id')}"
    url = str(exchange.get("url") or "")
    date = warc_date(str(exchange.get("time") or ""))
    version = str(exchange.get("http_version") or "HTTP/1.1")
    request_line = f"{exchange.get('method')} {exchange.get('target')} {version}"
    request_body = base64.b64decode(exchange.get("request_body") or "")
    request = _header_block(request_line, exchange.get("request_headers") or [], what)
    status_line = f"{version} {exchange.get('status')} {exchange.get('reason') or ''}".rstrip()
    response = _header_block(status_line, exchange.get("response_headers") or [], what)
    body = exchange.get("body") or {}
    name = f"exchange:{exchange.get('id')}"
    peer = str(exchange.get("peer") or "").rpartition(":")[0].strip("[]")
    extra: list[tuple[str, str]] = []
    with contextlib.suppress(ValueError):  # a peer that is no address is left out
        extra.append(("WARC-IP-Address", str(ipaddress.ip_address(peer))))
    redacted = [str(name) for name in exchange.get("redacted") or []]
    if redacted:  # said where it shows: these header values are not what was sent or received
        extra.append(("WARC-Embedarc-Redacted", _line(", ".join(redacted), what).decode("latin-1")))
    sha = body.get("sha256")
    stored = str(body.get("stored") or "none")
    source = None if stored == "empty" else _body(root, folder, data, exchange)
    if stored not in ("empty",) and (source is None or not source.is_file()):
        # The exchange happened, but its body was not kept: its headers and hash, as JSON.
        note = {k: exchange.get(k) for k in sorted(exchange) if k != "request_body"}
        out.gaps.append(f"{url}: body not kept ({body.get('size')} bytes, sha256 {sha})")
        out.records.append(
            Record(
                "metadata",
                target_uri(url),
                date,
                name,
                "application/json",
                (json.dumps(note, sort_keys=True, indent=1).encode(),),
                extra=(("WARC-Embedarc-Note", NOT_RAW + "the body was not kept"),),
            )
        )
        return
    if not body.get("complete"):
        extra.append(("WARC-Truncated", "unspecified"))  # its reader stopped early
    elif isinstance(sha, str):
        out.payloads.setdefault(sha, url)
        out.responded.add(target_uri(url))
    out.records.append(
        Record(
            "response",
            target_uri(url),
            date,
            f"{name}:response",
            "application/http;msgtype=response",
            (response,) if source is None else (response, source),
            payload_digest=sha if isinstance(sha, str) else None,
            extra=tuple(extra),
            payload_at=1,
        )
    )
    out.records.append(
        Record(
            "request",
            target_uri(url),
            date,
            f"{name}:request",
            "application/http;msgtype=request",
            (request + request_body,),
            payload_digest=hashlib.sha256(request_body).hexdigest(),
            extra=tuple(e for e in extra if e[0] == "WARC-Embedarc-Redacted"),
            concurrent=f"{name}:response",
        )
    )


def _file_resource(
    out: ArticleRecords,
    path: Path | None,
    uri: str,
    date: str,
    mime: str,
    why: str,
    *,
    other: str,
    recorded: object = None,
) -> None:
    """A resource record of an archived file no raw exchange carries; named `other` when a
    raw response replays at `uri` already (an article decoded from its gzip answer).
    `recorded` is the SHA-256 the sidecar gives the file, when it gives one."""
    if path is None or not path.is_file():
        out.gaps.append(f"{uri}: {why} is missing")
        return
    from ..keeping.store import file_sha256

    sha, _ = file_sha256(path)
    if recorded is not None and sha != recorded:
        # Changed since it was archived (or the sidecar names another file): not vouched for.
        raise ExportError(
            f"{target_uri(uri)}: the archived bytes no longer hash to {recorded}"
            " (run `embedarc verify`)"
        )
    if sha in out.payloads:
        return  # a raw exchange carries these bytes already
    uri = target_uri(uri)
    out.records.append(
        Record(
            "resource",
            other if uri in out.responded else uri,
            date,
            f"resource:{sha}:{uri}",
            mime or "application/octet-stream",
            (path,),
            payload_digest=sha,
            extra=(("WARC-Embedarc-Note", NOT_RAW + why),),
            payload_at=0,
        )
    )


def _recorded(record: SidecarRecord, name: str) -> object:
    """The hash a sidecar gives, as it gives it: one of another type is no hash of the file."""
    return getattr(record, name) if record.has(name) else record.extra.get(name)


def article_records(root: Path, folder: Path, data: Sidecar) -> ArticleRecords:
    """Every record of one article folder, in a fixed order."""
    out = ArticleRecords()
    article = data.article
    article_id = article.id or folder.name
    date = warc_date(article.archived_at or "1970-01-01T00:00:00Z")
    record = folder / RECORD
    exchanges: list[dict[str, Any]] = []
    if record.is_file():
        try:
            exchanges = read_record(record.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ExportError(f"{folder.name}/{RECORD}: {e}") from None
    else:
        out.gaps.append("no exchanges were recorded (archived before they were)")
    for exchange in sorted(exchanges, key=lambda e: (str(e.get("time")), str(e.get("id")))):
        _exchange_records(root, folder, data, exchange, out)
    original = article.original
    uri = article.canonical_url or f"urn:embedarc:article:{article_id}:{original}"
    _file_resource(
        out,
        inside(folder, original) if original else None,
        uri,
        date,
        article.media_type,
        "the article's original bytes as read",
        other=f"urn:embedarc:article:{article_id}:{original}",
        recorded=_recorded(article, "content_sha256"),
    )
    if article.origin_page:
        origin = next((link for link in data.links if link.kind is LinkKind.ORIGIN), None)
        final = origin.resolution.final_url if origin and origin.resolution else None
        _file_resource(
            out,
            inside(folder, article.origin_page),
            final or article.origin_url or f"urn:embedarc:article:{article_id}:origin",
            date,
            "text/html",
            "the origin page as stored",
            other=f"urn:embedarc:article:{article_id}:origin",
        )
    for entry in sorted(data.media, key=lambda m: m.sha256):
        _file_resource(
            out,
            inside(root, entry.path),
            entry.source_url or f"urn:sha256:{entry.sha256}",
            warc_date(entry.fetched_at or date),
            entry.mime,
            "the stored file",
            other=f"urn:sha256:{entry.sha256}",
            recorded=_recorded(entry, "sha256"),
        )
    sidecar = inside(folder, SIDECAR)
    assert sidecar is not None
    sidecar_bytes = sidecar.read_bytes()
    out.records.append(
        Record(
            "metadata",
            f"urn:embedarc:article:{article_id}",
            date,
            f"sidecar:{hashlib.sha256(sidecar_bytes).hexdigest()}",
            "application/json",
            (sidecar_bytes,),
            extra=(("WARC-Embedarc-Note", NOT_RAW + f"the article's {SIDECAR}"),),
        )
    )
    return out


def warcinfo(date: str) -> Record:
    """The file's first record; it names no file, so the bytes do not depend on the name."""
    fields = (
        f"software: embedarc {__version__}\r\n"
        "format: WARC File Format 1.1\r\n"
        "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    ).encode()
    return Record(
        "warcinfo",
        "",
        date,
        f"warcinfo:{hashlib.sha256(fields).hexdigest()}",
        "application/warc-fields",
        (fields,),
    )


def _parts(parts: tuple[bytes | Path, ...]) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
            continue
        with part.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk


def _digests(record: Record) -> tuple[str, str, int]:
    """(SHA-256 of the block, of the payload, the block's length), read from the parts."""
    block, payload = hashlib.sha256(), hashlib.sha256()
    length = 0
    for number, part in enumerate(record.parts):
        in_payload = record.payload_at is not None and number >= record.payload_at
        for chunk in _parts((part,)):
            block.update(chunk)
            length += len(chunk)
            if in_payload:
                payload.update(chunk)
    return block.hexdigest(), payload.hexdigest(), length


def write_record(out: BinaryIO, record: Record, ids: dict[str, str]) -> None:
    """Write one record as its own gzip member; its block is read twice (its digests, the
    payload's checked against the recorded one, then the copy, checked against the digest)."""
    block_digest, payload_digest, length = _digests(record)
    if record.payload_at is not None and payload_digest != record.payload_digest:
        # The bytes changed since they were recorded: a WARC must not vouch for them.
        raise ExportError(
            f"{record.uri}: the archived bytes no longer hash to {record.payload_digest}"
            " (run `embedarc verify`)"
        )
    fields = [
        ("WARC-Type", record.kind),
        ("WARC-Record-ID", record.record_id),
        ("WARC-Date", record.date),
    ]
    if record.uri:
        fields.append(("WARC-Target-URI", record.uri))
    if record.concurrent is not None:
        fields.append(("WARC-Concurrent-To", ids[record.concurrent]))
    fields.append(("Content-Type", record.content_type))
    fields.append(("WARC-Block-Digest", f"sha256:{block_digest}"))
    if record.payload_digest is not None:
        fields.append(("WARC-Payload-Digest", f"sha256:{record.payload_digest}"))
    fields.extend(record.extra)
    fields.append(("Content-Length", str(length)))
    _check_fields(record, fields)
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as member:
        member.write(head.encode("utf-8"))
        copied = hashlib.sha256()
        written = 0
        for chunk in _parts(record.parts):
            member.write(chunk)
            copied.update(chunk)
            written += len(chunk)
        # A file rewritten between the two reads, even at the same length, is not what the
        # record's digests vouch for.
        if written != length or copied.hexdigest() != block_digest:
            raise ExportError(f"{record.uri}: a file changed while it was exported")
        member.write(b"\r\n\r\n")


def _is_warc_date(text: str) -> bool:
    if _WARC_DATE.fullmatch(text) is None:
        return False
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")  # a month 13 is no date either
    except ValueError:
        return False
    return True


def _check_fields(record: Record, fields: list[tuple[str, str]]) -> None:
    """Values from a sidecar or a capture record (an id, a time, a type) go into header lines:
    one that could break a line, or a date no reader takes, was not written by embedarc."""
    if not _is_warc_date(record.date):
        raise ExportError(f"{record.name}: {record.date!r} is not a date: the record was altered")
    for name, value in fields:
        if not _FIELD_VALUE.fullmatch(value):
            raise ExportError(
                f"{record.name}: its {name} {value!r} would break a WARC header line:"
                " the sidecar or the capture record was altered"
            )


def write_warc(out: BinaryIO, articles: list[ArticleRecords], date: str) -> int:
    """Write a whole WARC: warcinfo, then each article's records (one copy of a record two
    articles share). Returns the records written."""
    ids: dict[str, str] = {}
    seen: set[str] = set()
    count = 0
    for record in [warcinfo(date), *(r for a in articles for r in a.records)]:
        if record.name in seen:
            continue
        seen.add(record.name)
        ids[record.name] = record.record_id
        write_record(out, record, ids)
        count += 1
    return count
