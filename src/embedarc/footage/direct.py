"""Direct media files: streamed into the store, hashed while they arrive."""

from __future__ import annotations

import httpx

from ..errors import FetchFailed, TooLarge
from ..media import extension_for, is_media_type, probe
from ..model import MediaFile
from ..net import Net, media_type
from ..resolve import now
from ..store import Store

# Headers that say nothing about the file and may carry state about the client.
PRIVATE_HEADERS = {"set-cookie", "cookie", "authorization", "proxy-authorization"}


def recorded_headers(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in PRIVATE_HEADERS}


def save_response(
    store: Store,
    response: httpx.Response,
    *,
    max_size: int,
    fetched_at: str | None = None,
    **meta: object,
) -> MediaFile:
    """Store the body of an open 2xx response exactly as served and describe it."""
    url = str(response.url)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_size:
        raise TooLarge(f"{url}: Content-Length {declared} exceeds the maximum of {max_size} bytes")
    mime = media_type(response.headers.get("content-type")) or "application/octet-stream"
    # Decoded bytes: a Content-Encoding is transport, not part of the file.
    received = store.receive(response.iter_bytes(), max_size=max_size)
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    if declared and declared.isdigit() and not encoded and received.size != int(declared):
        received.tmp_path.unlink(missing_ok=True)
        raise FetchFailed(f"{url}: got {received.size} of {declared} bytes")
    measured = probe(received.tmp_path, mime)
    path = store.commit(received, extension_for(measured.mime, url))
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


def download(net: Net, store: Store, url: str, *, max_size: int, **meta: object) -> MediaFile:
    """GET `url` and store it; raises FetchFailed for an error status or a non-media answer."""
    started = now()
    with net.open(url, follow_redirects=True) as response:
        if response.status_code >= 400:
            raise FetchFailed(
                f"{url}: HTTP {response.status_code}",
                status=response.status_code,
                retry_after=response.headers.get("retry-after"),
            )
        mime = media_type(response.headers.get("content-type"))
        if mime and not is_media_type(mime) and mime != "application/octet-stream":
            raise FetchFailed(f"{url}: expected media, got {mime}", status=response.status_code)
        return save_response(store, response, max_size=max_size, fetched_at=started, **meta)
