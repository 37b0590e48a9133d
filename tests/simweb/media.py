"""Real media files, made on the fly and cached.

Clients under test hash, probe and remux what they download, so the simulated CDNs must serve
genuine JPEGs, MP4s and HLS streams rather than placeholder bytes. Generation goes through
Pillow and the ffmpeg binary bundled with imageio-ffmpeg; results are cached in memory and on
disk, keyed by their parameters, so a test session (and later sessions) makes each file once.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

# Bump when the generation recipe changes so stale disk caches are not reused.
_RECIPE = "simweb-media-v1"

_memory: dict[str, bytes] = {}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def default_cache_dir() -> Path:
    """Disk cache shared by all test processes of this user (override with SIMWEB_MEDIA_CACHE)."""
    override = os.environ.get("SIMWEB_MEDIA_CACHE")
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / f"{_RECIPE}-{os.getuid()}"


def _cached(
    key_parts: tuple[object, ...], make: Callable[[], bytes], cache_dir: Path | None
) -> bytes:
    key = hashlib.sha256(repr((_RECIPE, *key_parts)).encode()).hexdigest()[:32]
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # one generator per key even when several threads ask at once
        if key in _memory:
            return _memory[key]
        directory = cache_dir or default_cache_dir()
        path = directory / key
        if path.is_file():
            data = path.read_bytes()
        else:
            data = make()
            directory.mkdir(parents=True, exist_ok=True)
            # write-then-rename so a concurrent process never reads a half-written file
            tmp = path.with_name(f"{key}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        _memory[key] = data
        return data


# ---------------------------------------------------------------- images


def _draw(width: int, height: int, seed: int) -> Image.Image:
    """A picture that is visibly different for every seed (colours, shapes, the seed number)."""
    rng = random.Random(f"image:{seed}")
    background = tuple(rng.randrange(40, 216) for _ in range(3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = (
            x0 + rng.randrange(8, max(9, width // 2)),
            y0 + rng.randrange(8, max(9, height // 2)),
        )
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    draw.text((8, 8), f"seed {seed} {width}x{height}", fill=(255, 255, 255))
    return image


def make_jpeg(width: int, height: int, seed: int, *, cache_dir: Path | None = None) -> bytes:
    def make() -> bytes:
        out = io.BytesIO()
        _draw(width, height, seed).save(out, "JPEG", quality=92)
        return out.getvalue()

    return _cached(("jpeg", width, height, seed), make, cache_dir)


def make_png(width: int, height: int, seed: int, *, cache_dir: Path | None = None) -> bytes:
    def make() -> bytes:
        out = io.BytesIO()
        _draw(width, height, seed).save(out, "PNG")
        return out.getvalue()

    return _cached(("png", width, height, seed), make, cache_dir)


def resize_jpeg(
    data: bytes, max_width: int, max_height: int, quality: int, *, crop: bool = False
) -> bytes:
    """A derived rendition, as an image CDN makes one: fitted (or cropped) and re-encoded.

    The quality differs per rendition so that even a rendition with the original's dimensions
    has different bytes, as on the real CDN.
    """

    def make() -> bytes:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        if crop:
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            image = image.crop((left, top, left + side, top + side)).resize((max_width, max_height))
        else:
            image.thumbnail((max_width, max_height))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        return out.getvalue()

    digest = hashlib.sha256(data).hexdigest()
    return _cached(("resize", digest, max_width, max_height, quality, crop), make, None)


def jpeg_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


# ---------------------------------------------------------------- video


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _even(n: int) -> int:
    return max(2, n - n % 2)  # yuv420p needs even dimensions


def _sources(
    width: int, height: int, seconds: float, seed: int, video: bool, audio: bool
) -> list[str]:
    args: list[str] = []
    if video:
        # testsrc2 moves, so every frame differs; the hue shift makes each seed look different
        args += [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={_even(width)}x{_even(height)}:rate=10:duration={seconds},"
            f"hue=h={seed * 47 % 360}",
        ]
    if audio:
        args += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={220 + seed * 37 % 660}:sample_rate=22050:duration={seconds}",
        ]
    return args


# Settings that keep output small, fast and byte-reproducible across runs of one ffmpeg build.
_VIDEO_CODEC = [
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-g",
    "5",
    "-threads",
    "1",
    "-flags:v",
    "+bitexact",
]
_AUDIO_CODEC = ["-c:a", "aac", "-b:a", "32k", "-ac", "1", "-flags:a", "+bitexact"]
_BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact"]


def _run_ffmpeg(args: list[str]) -> None:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    result = subprocess.run(cmd, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {result.stderr.decode(errors='replace')}")


def make_mp4(
    width: int,
    height: int,
    seconds: float,
    seed: int,
    *,
    audio: bool = True,
    cache_dir: Path | None = None,
) -> bytes:
    """A progressive H.264/AAC MP4 with the moov atom first, as Twitter's CDN serves them."""

    def make() -> bytes:
        with tempfile.TemporaryDirectory(prefix="simweb-mp4-") as tmp:
            out = Path(tmp) / "out.mp4"
            _run_ffmpeg(
                [
                    *_sources(width, height, seconds, seed, True, audio),
                    *_VIDEO_CODEC,
                    *(_AUDIO_CODEC if audio else []),
                    *_BITEXACT,
                    "-movflags",
                    "+faststart",
                    str(out),
                ]
            )
            return out.read_bytes()

    return _cached(("mp4", width, height, seconds, seed, audio), make, cache_dir)


@dataclass(frozen=True)
class HlsStream:
    """One media playlist: its text (segment URIs are bare file names) and the segments."""

    playlist: str
    segments: dict[str, bytes]


def make_hls(
    width: int,
    height: int,
    seconds: float,
    seed: int,
    *,
    content: str = "muxed",
    segment_seconds: float = 0.5,
    cache_dir: Path | None = None,
) -> HlsStream:
    """An MPEG-TS HLS media playlist: content is "muxed" (video+audio), "video" or "audio".

    The caller rewrites segment URIs into CDN paths and writes the master playlist itself,
    because those carry the service's URL layout, not ffmpeg's.
    """
    video, audio = content in ("muxed", "video"), content in ("muxed", "audio")

    def make_dir() -> bytes:
        with tempfile.TemporaryDirectory(prefix="simweb-hls-") as tmp:
            _run_ffmpeg(
                [
                    *_sources(width, height, seconds, seed, video, audio),
                    *(_VIDEO_CODEC if video else []),
                    *(_AUDIO_CODEC if audio else []),
                    *_BITEXACT,
                    "-f",
                    "hls",
                    "-hls_time",
                    str(segment_seconds),
                    "-hls_list_size",
                    "0",
                    "-hls_playlist_type",
                    "vod",
                    "-hls_segment_filename",
                    f"{tmp}/seg%d.ts",
                    f"{tmp}/index.m3u8",
                ]
            )
            # pack playlist + segments into one cache blob: name\0length\0bytes...
            blob = bytearray()
            for path in sorted(Path(tmp).iterdir()):
                payload = path.read_bytes()
                blob += f"{path.name}\0{len(payload)}\0".encode() + payload
            return bytes(blob)

    blob = _cached(
        ("hls", width, height, seconds, seed, content, segment_seconds), make_dir, cache_dir
    )
    files: dict[str, bytes] = {}
    pos = 0
    while pos < len(blob):
        name_end = blob.index(b"\0", pos)
        size_end = blob.index(b"\0", name_end + 1)
        size = int(blob[name_end + 1 : size_end])
        files[blob[pos:name_end].decode()] = blob[size_end + 1 : size_end + 1 + size]
        pos = size_end + 1 + size
    playlist = files.pop("index.m3u8").decode()
    return HlsStream(playlist=playlist, segments=files)
