"""What a stored file is: its MIME type, file extension, size in pixels and duration."""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Extensions for the types footage comes in; mimetypes' answers vary between platforms.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/mp2t": "ts",
    "video/x-matroska": "mkv",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "text/html": "html",
    "application/json": "json",
}
MEDIA_PREFIXES = ("video/", "image/", "audio/")
HLS_TYPES = {"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl"}


def is_media_type(mime: str) -> bool:
    return mime.startswith(MEDIA_PREFIXES) or mime in HLS_TYPES


def extension_for(mime: str, url: str = "") -> str:
    """A short, safe file extension for a MIME type (falls back to the URL's, then 'bin')."""
    if mime in EXTENSIONS:
        return EXTENSIONS[mime]
    guessed = mimetypes.guess_extension(mime) if mime else None
    if guessed:
        return guessed.lstrip(".")
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if "." in tail:
        ext = tail.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 5:
            return ext
    return "bin"


def mime_for(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Probe:
    mime: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def probe(path: Path, mime: str) -> Probe:
    """Measure an image with Pillow or a video with ffmpeg; unknown stays None, never raises."""
    if mime.startswith("image/") or mime == "application/octet-stream":
        found = _probe_image(path)
        if found is not None:
            return found
    if mime.startswith(("video/", "audio/")) or mime == "application/octet-stream":
        return _probe_video(path, mime)
    return Probe(mime)


def _probe_image(path: Path) -> Probe | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            mime = Image.MIME.get(image.format or "", "") or mime_for(path)
            frames = getattr(image, "n_frames", 1)
            duration = None
            if frames > 1 and image.info.get("duration"):
                duration = frames * float(image.info["duration"]) / 1000
            return Probe(mime, width, height, duration)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _probe_video(path: Path, mime: str) -> Probe:
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
    except (RuntimeError, OSError, StopIteration) as e:
        log.debug("ffmpeg could not read %s: %s", path, e)
        return Probe(mime)
    finally:
        frames.close()
    size = meta.get("size") or (None, None)
    duration = meta.get("duration")
    return Probe(
        mime,
        int(size[0]) if size[0] else None,
        int(size[1]) if size[1] else None,
        round(float(duration), 3) if duration else None,
    )
