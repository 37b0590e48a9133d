"""What a stored file is: its MIME type, file extension, size in pixels and duration."""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TooLarge
from . import mp4

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's own default, stated here so it is ours to set
_SAFE_EXT = re.compile(r"[a-z0-9]{1,8}")

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


def may_be_media(mime: str) -> bool:
    """Whether an answer of this type can be footage: a media type, or a generic binary."""
    return is_media_type(mime) or mime == "application/octet-stream"


def extension_for(mime: str, url: str = "") -> str:
    """A short, safe file extension for a MIME type (falls back to the URL's, then 'bin')."""
    if mime in EXTENSIONS:
        return EXTENSIONS[mime]
    guessed = (mimetypes.guess_extension(mime) or "").lstrip(".").lower() if mime else ""
    if _SAFE_EXT.fullmatch(guessed):
        return guessed
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if "." in tail:
        ext = tail.rsplit(".", 1)[1].lower()
        if _SAFE_EXT.fullmatch(ext) and len(ext) <= 5:
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


def probe(path: Path, mime: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Probe:
    """Measure an image with Pillow or a video with ffmpeg; unknown stays None.

    Raises TooLarge for an image of more than `max_pixels` pixels (a decompression bomb:
    a small file that would take gigabytes to decode).
    """
    if mime.startswith("image/") or mime == "application/octet-stream":
        found = _probe_image(path, max_pixels)
        if found is not None:
            return found
    if mime.startswith(("video/", "audio/")) or mime == "application/octet-stream":
        return _probe_video(path, mime)
    return Probe(mime)


def _probe_image(path: Path, max_pixels: int) -> Probe | None:
    from PIL import Image, UnidentifiedImageError

    try:
        image = open_image(path, max_pixels)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    try:
        with image:
            width, height = image.size
            mime = Image.MIME.get(image.format or "", "") or mime_for(path)
            frames = getattr(image, "n_frames", 1)
            duration = None
            if frames > 1 and image.info.get("duration"):
                duration = frames * float(image.info["duration"]) / 1000
            return Probe(mime, width, height, duration)
    except (OSError, ValueError):
        return None


def open_image(path: Path, max_pixels: int) -> PILImage:
    """An image opened (its header read, no pixel decoded yet); TooLarge when it has more than
    `max_pixels`. The one guard against decompression bombs: probing, perceptual hashes and
    thumbnails all open images here. Pillow's own check is process-wide state that threads
    working to different limits would race on, so it is off and each call checks its own."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    image = Image.open(path)
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise TooLarge(f"an image of {width}x{height} pixels, over {max_pixels}")
    return image


def _probe_video(path: Path, mime: str) -> Probe:
    """The header of an MP4/MOV file when it says everything; ffmpeg only when it does not."""
    header = mp4.read_header(path)
    if header is not None and header.duration is not None:
        duration = round(header.duration, 3)
        if header.width and header.height:
            return Probe(mime, header.width, header.height, duration)
        if mime.startswith("audio/"):
            return Probe(mime, None, None, duration)
    return _run_ffmpeg(path, mime)


# The container formats footage comes in. ffmpeg reading a stored file is held to these and to
# the file itself: a playlist format (HLS, concat) would make it open whatever the file names.
FFMPEG_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,flv,avi,gif"
FFMPEG_READS_ONE_FILE = ("-protocol_whitelist", "file", "-format_whitelist", FFMPEG_FORMATS)


def ffmpeg_input(path: Path) -> list[str]:
    """ffmpeg's arguments to read one stored file, and nothing it may name."""
    return [*FFMPEG_READS_ONE_FILE, "-i", f"file:{path}"]


def _run_ffmpeg(path: Path, mime: str) -> Probe:
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(f"file:{path}", input_params=list(FFMPEG_READS_ONE_FILE))
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
