"""PDQ perceptual hashes: one for an image, one per sampled frame for a video.

PDQ (Meta's open perceptual hash) gives 256 bits per picture; two pictures of the same scene
(resized, re-encoded, slightly cropped) differ in few bits, unrelated ones in about half. A
video is sampled with the bundled ffmpeg at one frame a second, spread over the whole video
when it is longer than `MAX_FRAMES` seconds, and each frame is hashed: the same clip
re-encoded or re-uploaded then matches frame for frame. PDQ is not mirror-invariant; a
mirrored copy is far from its original, so each picture also gets the PDQ of its mirror image
(PDQ's own dihedral variant), and a comparison takes the nearer of the two.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EmbedarcError, TooLarge
from ..keeping.media import ffmpeg_input, open_image

log = logging.getLogger(__name__)

BITS = 256
MAX_FRAMES = 60  # frames hashed per video: a minute at 1 fps, else spread evenly
FRAME_SIDE = 256  # frames are scaled to this square before hashing; PDQ works on 64x64 anyway
IMAGE_SIDE = 512  # images are reduced to at most this before hashing (speed, same hash)
FFMPEG_TIME_LIMIT = 300.0  # seconds ffmpeg may take to sample one video


class PerceptualError(EmbedarcError):
    """A file whose pictures cannot be hashed: its reason is recorded instead."""


@dataclass(frozen=True)
class FrameHash:
    """One picture's PDQ: `frame` 0 for an image, else the sampled frame's number."""

    frame: int
    time: float | None  # seconds into the video; None for an image
    pdq: str  # 64 hex digits
    mirror: str  # the PDQ of the picture mirrored left to right
    quality: int  # PDQ's own 0-100: below ~50 the picture is too flat to compare well


# pdqhash.compute_dihedral's order: the picture, three rotations, then the flips; this one is
# the left-right mirror image.
_MIRROR = 5


def _hex(bits: Any) -> str:
    return f"{int(''.join('1' if b else '0' for b in bits), 2):064x}"


def _pdq(pixels: Any) -> tuple[str, str, int]:
    """(PDQ, PDQ of the mirror image, quality) of an RGB array."""
    import numpy as np
    import pdqhash

    variants, quality = pdqhash.compute_dihedral(np.ascontiguousarray(pixels))
    return _hex(variants[0]), _hex(variants[_MIRROR]), int(quality)


def image_hash(path: Path, *, max_pixels: int) -> FrameHash:
    """The PDQ of an image (its first frame when animated); PerceptualError if unreadable."""
    from PIL import UnidentifiedImageError

    try:
        with open_image(path, max_pixels) as image:  # its size checked before a pixel is decoded
            image.draft("RGB", (IMAGE_SIDE, IMAGE_SIDE))  # JPEG: decode at a smaller scale
            picture = image.convert("RGB")
        picture.thumbnail((IMAGE_SIDE, IMAGE_SIDE))
        pdq, mirror, quality = _pdq(picture)
    except TooLarge as e:
        raise PerceptualError(str(e)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise PerceptualError(f"cannot read the image: {e}") from None
    return FrameHash(0, None, pdq, mirror, quality)


def video_hashes(path: Path, *, duration: float | None) -> list[FrameHash]:
    """The PDQ of frames sampled through the video; PerceptualError if none can be read."""
    import numpy as np

    rate = 1.0 if not duration or duration <= MAX_FRAMES else MAX_FRAMES / duration
    done = _sample(path, rate)
    size = FRAME_SIDE * FRAME_SIDE * 3
    if len(done.stdout) < size and rate < 1.0:
        # The duration is the file's own claim: one of decades leaves no frame at its rate.
        # The file is then sampled as a short one, from its start.
        rate = 1.0
        done = _sample(path, rate)
    count = len(done.stdout) // size
    if count == 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frames"]
        raise PerceptualError(f"ffmpeg could not sample the video: {why[0][:200]}")
    frames = np.frombuffer(done.stdout[: count * size], dtype=np.uint8)
    frames = frames.reshape(count, FRAME_SIDE, FRAME_SIDE, 3)
    hashes = []
    for n in range(count):
        pdq, mirror, quality = _pdq(frames[n])
        hashes.append(FrameHash(n, round(n / rate, 3), pdq, mirror, quality))
    return hashes


def _sample(path: Path, rate: float) -> subprocess.CompletedProcess[bytes]:
    """ffmpeg's raw RGB frames of the video at `rate` frames a second, at most MAX_FRAMES."""
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        *ffmpeg_input(path),
        "-an",
        "-vf",
        f"fps={rate:.6f},scale={FRAME_SIDE}:{FRAME_SIDE}:flags=area",
        "-frames:v",
        str(MAX_FRAMES),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    try:
        return subprocess.run(command, capture_output=True, timeout=FFMPEG_TIME_LIMIT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PerceptualError(f"ffmpeg could not sample the video: {e}") from None


def hashes_for(
    path: Path, mime: str, *, duration: float | None, max_pixels: int
) -> list[FrameHash]:
    """The PDQ hashes of an image or a video file; [] for other kinds of file."""
    if mime.startswith("image/"):
        return [image_hash(path, max_pixels=max_pixels)]
    if mime.startswith("video/"):
        return video_hashes(path, duration=duration)
    return []


def distance(a: str, b: str) -> int:
    """Bits in which two PDQ hashes differ (0 the same picture, ~128 unrelated ones)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
