"""HLS streams of the shapes that yt-dlp would hand to ffmpeg: encrypted, live, keys elsewhere.

    stream = hls_stream(web, "https://streams.example.org/a/index.m3u8", seed=3,
                        method="AES-128", key_uri="https://keys.example.org/k")

The segments are real MPEG-TS (media.make_hls); with AES-128 they are encrypted as the spec
says (CBC, PKCS#7, the IV given in the playlist), so a client that decrypts gets them back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urljoin

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .media import make_hls
from .web import SimWeb

HLS_TYPE = "application/vnd.apple.mpegurl"
IV = bytes(range(16))


def _encrypt(data: bytes, key: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).encryptor()
    return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


@dataclass(frozen=True)
class Stream:
    playlist_url: str
    playlist: str
    segment_urls: tuple[str, ...]
    plain_segments: tuple[bytes, ...]  # as they are before encryption
    key: bytes


def hls_stream(
    web: SimWeb,
    playlist_url: str,
    *,
    seed: int,
    method: str | None = None,
    key_uri: str | None = None,
    serve_key: bool = True,
    live: bool = False,
    segment_base: str | None = None,
) -> Stream:
    """Serve a media playlist at `playlist_url` and its segments (on the simulated web unless
    `segment_base` puts them elsewhere); `method` adds an #EXT-X-KEY line naming `key_uri`,
    whose key the simulated web serves if `serve_key`. `live` leaves out #EXT-X-ENDLIST."""
    made = make_hls(160, 90, 1.0, seed, cache_dir=web.media_dir)
    names = sorted(made.segments, key=lambda n: int(n.removeprefix("seg").removesuffix(".ts")))
    base = segment_base or playlist_url
    urls = tuple(urljoin(base, name) for name in names)
    key = os.urandom(16)
    lines: list[str] = []
    for line in made.playlist.splitlines():
        if line in names:
            line = urls[names.index(line)]
        if live and line in ("#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE:VOD"):
            continue
        lines.append(line)
        if line.startswith("#EXT-X-MEDIA-SEQUENCE") and method is not None:
            lines.append(f'#EXT-X-KEY:METHOD={method},URI="{key_uri}",IV=0x{IV.hex()}')
    playlist = "\n".join(lines) + "\n"
    web.page(playlist_url, playlist, HLS_TYPE)
    for name, url in zip(names, urls, strict=True):
        data = made.segments[name]
        if method == "AES-128":
            data = _encrypt(data, key)
        if segment_base is None:
            web.file(url, data, "video/mp2t")
    if method is not None and key_uri is not None and serve_key:
        web.file(key_uri, key, "application/octet-stream")
    plain = tuple(made.segments[name] for name in names)
    return Stream(playlist_url, playlist, urls, plain, key)
