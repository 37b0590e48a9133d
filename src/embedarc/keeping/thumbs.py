"""Thumbnails: a poster frame for each video, a small JPEG for each image.

They live in `thumbs/<sha256[:2]>/<sha256>.jpg`, are derived from the stored files (never
altering them), are made once per file, and can be deleted at any time: `embedarc report`
makes them again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import tempfile
from pathlib import Path

from ..errors import TooLarge
from .media import DEFAULT_MAX_PIXELS, ffmpeg_input, open_image
from .store import Store

log = logging.getLogger(__name__)

THUMBS = "thumbs"
SIZE = 320  # the longer side, in pixels
FFMPEG_TIMEOUT = 60.0


def thumb_path(root: Path, sha256: str) -> Path:
    return root / THUMBS / sha256[:2] / f"{sha256}.jpg"


def thumb_relative(sha256: str) -> str:
    return f"{THUMBS}/{sha256[:2]}/{sha256}.jpg"


def can_thumb(mime: str | None) -> bool:
    return bool(mime) and str(mime).startswith(("image/", "video/"))


def ensure(
    store: Store, sha256: str, source: Path, mime: str, max_pixels: int = DEFAULT_MAX_PIXELS
) -> bool:
    """Make the thumbnail of a stored file unless it exists; whether one exists afterwards.
    An image of more than `max_pixels` (--max-image-pixels) gets none."""
    target = thumb_path(store.root, sha256)
    if target.is_file():
        return True
    if not can_thumb(mime) or not source.is_file():
        return False
    store.make_folder(target.parent)  # refuses a link on the way
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{sha256}.", suffix=".jpg")
    os.close(fd)
    tmp = Path(name)
    try:
        made = _image(source, tmp, max_pixels) if mime.startswith("image/") else _video(source, tmp)
        if made:
            store.refuse_links(target)
            os.replace(tmp, target)
        return made
    finally:
        tmp.unlink(missing_ok=True)


def _image(source: Path, out: Path, max_pixels: int) -> bool:
    from PIL import UnidentifiedImageError

    try:
        with open_image(source, max_pixels) as image:  # a bomb is not decoded, let alone shrunk
            image.draft("RGB", (SIZE, SIZE))  # JPEGs decode at a fraction of their size
            image.thumbnail((SIZE, SIZE))
            image.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, TooLarge) as e:
        log.debug("no thumbnail for %s: %s", source, e)
        return False
    return True


def _video(source: Path, out: Path) -> bool:
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin", "-loglevel", "error", "-y",
        *ffmpeg_input(source),
        "-frames:v", "1",
        "-vf", f"thumbnail=25,scale='min({SIZE},iw)':-2",
        "-q:v", "5",
        "-f", "image2", "-c:v", "mjpeg",
        f"file:{out}",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.debug("no thumbnail for %s: %s", source, e)
        return False
    if done.returncode != 0 or out.stat().st_size == 0:
        log.debug("no thumbnail for %s: %s", source, done.stderr.decode(errors="replace")[-200:])
        return False
    return True


def existing(root: Path) -> set[str]:
    """The sha256s that have a thumbnail: one listing, rather than a look per file."""
    found: set[str] = set()
    folder = root / THUMBS
    if not folder.is_dir() or folder.is_symlink():
        return found
    for sub in os.scandir(folder):
        if sub.is_dir(follow_symlinks=False):
            found |= {e.name[:-4] for e in os.scandir(sub.path) if e.name.endswith(".jpg")}
    return found


def forget(root: Path, sha256s: set[str]) -> None:
    """Remove the thumbnails of files taken out of the archive."""
    for sha in sha256s:
        path = thumb_path(root, sha)
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                path.unlink(missing_ok=True)
