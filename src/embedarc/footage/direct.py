"""Direct media files: streamed into the store, hashed while they arrive, resumed when cut off.

A download that breaks off stays in `tmp/` under a name derived from its URL; the next attempt
asks for the rest (`Range`, with `If-Range` when the server gave an ETag), appends it on a 206,
and starts over on a 200. Only a file whose every byte was hashed reaches the store.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from ..clock import now
from ..errors import FetchFailed, NetworkError, TooLarge
from ..keeping.media import DEFAULT_MAX_PIXELS, extension_for, may_be_media, probe
from ..keeping.store import Store, write_nofollow
from ..model import MediaFile
from ..network.capture import raw_body
from ..network.net import Net, media_type, retry_hint

# Headers that say nothing about the file and may carry state about the client.
PRIVATE_HEADERS = {"set-cookie", "cookie", "authorization", "proxy-authorization"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def recorded_headers(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in PRIVATE_HEADERS}


def _discard(partial: Path | None) -> None:
    if partial is not None:
        partial.unlink(missing_ok=True)
        Store.etag_path(partial).unlink(missing_ok=True)


def _expected_size(response: httpx.Response, have: int) -> int | None:
    """The whole file's size as the answer states it; FetchFailed if a 206 does not fit."""
    if response.status_code != 206:
        declared = response.headers.get("content-length", "")
        return int(declared) if declared.isdigit() else None
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
    if match is None or int(match.group(1)) != have:
        raise FetchFailed(f"{response.url}: the server resumed at another place than asked")
    return None if match.group(3) == "*" else int(match.group(3))


def save_response(
    store: Store,
    response: httpx.Response,
    *,
    max_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fetched_at: str | None = None,
    **meta: object,
) -> MediaFile:
    """Store the body of an open 2xx response exactly as served and describe it."""
    return _save(
        store,
        response,
        max_size=max_size,
        max_pixels=max_pixels,
        fetched_at=fetched_at,
        partial=None,
        meta=meta,
    )


def _save(
    store: Store,
    response: httpx.Response,
    *,
    max_size: int,
    max_pixels: int,
    fetched_at: str | None,
    partial: Path | None,
    meta: dict[str, object],
) -> MediaFile:
    """`save_response`, and with `partial` (from `Store.partial`) a 206 answer is appended to
    what it holds and a broken-off transfer is kept there for the next attempt."""
    url = str(response.url)
    resume = response.status_code == 206 and partial is not None
    have = partial.stat().st_size if resume and partial is not None else 0
    try:
        expected = _expected_size(response, have)
    except FetchFailed:
        _discard(partial)
        raise
    if expected is not None and expected > max_size:
        _discard(partial)
        raise TooLarge(f"{url}: {expected} bytes exceeds the maximum of {max_size} bytes")
    mime = media_type(response.headers.get("content-type")) or "application/octet-stream"
    # Decoded bytes: a Content-Encoding is transport, not part of the file; nor can such a
    # transfer resume, as ranges count encoded bytes.
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    etag = response.headers.get("etag", "")
    if partial is not None and not resume:
        if encoded:
            _discard(partial)
        else:
            Store.etag_path(partial).unlink(missing_ok=True)
            if etag and not etag.startswith("W/"):  # If-Range takes strong validators only
                write_nofollow(Store.etag_path(partial), etag.encode())
    # Not encoded, the file is the body as it came, which its capture record hashes as it is
    # read: read raw through the record, the store takes that hash instead of computing it again.
    raw = None if encoded else raw_body(response)
    received = store.receive(
        raw if raw is not None else response.iter_bytes(),
        max_size=max_size,
        partial=None if encoded else partial,
        resume=resume,
        keep_on=(httpx.HTTPError, NetworkError),
    )
    if expected is not None and not encoded and received.size != expected:
        _discard(received.tmp_path)
        raise FetchFailed(f"{url}: got {received.size} of {expected} bytes")
    try:
        measured = probe(received.tmp_path, mime, max_pixels=max_pixels)
    except TooLarge:
        _discard(received.tmp_path)
        raise
    path = store.commit(received, extension_for(measured.mime, url))
    if partial is not None:
        Store.etag_path(partial).unlink(missing_ok=True)
    return MediaFile(
        sha256=received.sha256,
        size=received.size,
        mime=measured.mime,
        path=store.relative(path),
        source_url=url,
        fetched_at=fetched_at or now(),
        width=measured.width,
        height=measured.height,
        duration=measured.duration,
        headers=recorded_headers(response),
        **meta,  # type: ignore[arg-type]
    )


def _check_answer(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FetchFailed(
            f"{url}: HTTP {response.status_code}",
            status=response.status_code,
            retry_after=retry_hint(response.headers),
        )
    mime = media_type(response.headers.get("content-type"))
    if mime and not may_be_media(mime):
        raise FetchFailed(f"{url}: expected media, got {mime}", status=response.status_code)


def download(
    net: Net,
    store: Store,
    url: str,
    *,
    max_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    **meta: object,
) -> MediaFile:
    """GET `url` and store it, resuming an earlier broken-off attempt where the server allows.

    Raises FetchFailed for an error status or a non-media answer, TooLarge, NetworkError.
    """
    started = now()
    with store.partial(url) as partial:
        for _attempt in range(2):
            have = partial.stat().st_size if partial is not None else 0
            headers: dict[str, str] = {}
            if partial is not None and have:
                headers["Range"] = f"bytes={have}-"
                etag_file = Store.etag_path(partial)
                if etag_file.is_file():
                    headers["If-Range"] = etag_file.read_text().strip()
            with net.open(url, follow_redirects=True, headers=headers) as response:
                if response.status_code == 416 and have and partial is not None:
                    # The part no longer fits the file (it changed): start over.
                    write_nofollow(partial, b"")
                    continue
                _check_answer(url, response)
                return _save(
                    store,
                    response,
                    max_size=max_size,
                    max_pixels=max_pixels,
                    fetched_at=started,
                    partial=partial,
                    meta=meta,
                )
    raise FetchFailed(f"{url}: the server refuses every range (HTTP 416)", status=416)


def save_open(
    store: Store,
    response: httpx.Response,
    *,
    max_size: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> MediaFile:
    """Store a media answer resolution already opened (the caller resumes partial files)."""
    url = str(response.url)
    with store.partial(url) as partial:
        return _save(
            store,
            response,
            max_size=max_size,
            max_pixels=max_pixels,
            fetched_at=None,
            partial=partial,
            meta={},
        )
