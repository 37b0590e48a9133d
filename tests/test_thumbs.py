"""Thumbnails: derived from the stored files, made once, rebuilt when deleted, never via links."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from embedarc.errors import ArchiveError
from embedarc.keeping import thumbs
from embedarc.keeping.store import Store
from tests.helpers import embedarc
from tests.simweb import SimWeb
from tests.simweb.bluesky import BlueskySim, BskyImage, BskyVideo, install
from tests.simweb.media import make_jpeg, make_mp4


@pytest.fixture
def sky(simweb: SimWeb) -> BlueskySim:
    return install(simweb)


def stored(store: Store, data: bytes, ext: str) -> tuple[str, Path]:
    sha = hashlib.sha256(data).hexdigest()
    path = store.media_path(sha, ext)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha, path


def test_a_video_gets_a_poster_frame_and_stays_as_it_was(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sha, path = stored(store, make_mp4(640, 360, 1.0, 3), "mp4")

    assert thumbs.ensure(store, sha, path, "video/mp4")

    with Image.open(thumbs.thumb_path(tmp_path, sha)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (320, 180)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_an_image_gets_a_small_jpeg_and_stays_as_it_was(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sha, path = stored(store, make_jpeg(1200, 800, 4), "jpg")

    assert thumbs.ensure(store, sha, path, "image/jpeg")

    with Image.open(thumbs.thumb_path(tmp_path, sha)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_a_thumbnail_is_made_once(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sha, path = stored(store, make_jpeg(300, 200, 5), "jpg")
    thumbs.ensure(store, sha, path, "image/jpeg")
    before = thumbs.thumb_path(tmp_path, sha).stat()

    assert thumbs.ensure(store, sha, path, "image/jpeg")

    after = thumbs.thumb_path(tmp_path, sha).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_what_cannot_be_decoded_gets_no_thumbnail_and_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    sha, path = stored(store, b"\x00not a video at all" * 100, "mp4")
    image_sha, image = stored(store, b"GIF89a broken", "gif")

    assert not thumbs.ensure(store, sha, path, "video/mp4")
    assert not thumbs.ensure(store, image_sha, image, "image/gif")

    assert [p for p in (tmp_path / "thumbs").rglob("*") if p.is_file()] == []


def test_a_thumbnail_reads_its_own_file_only(tmp_path: Path) -> None:
    """A stored "video" that is a playlist naming another local file is not followed."""
    store = Store(tmp_path)
    secret = tmp_path / "elsewhere.mp4"
    secret.write_bytes(make_mp4(320, 240, 1.0, 8))
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{secret}\n#EXT-X-ENDLIST\n"
    sha, path = stored(store, playlist.encode(), "m3u8")

    assert not thumbs.ensure(store, sha, path, "video/mp4")
    assert not thumbs.thumb_path(tmp_path, sha).exists()


def test_a_linked_thumbs_folder_is_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    os.symlink(outside, root / "thumbs")
    store = Store(root)
    sha, path = stored(store, make_jpeg(100, 100, 6), "jpg")

    with pytest.raises(ArchiveError, match="refusing to write through a symlink"):
        thumbs.ensure(store, sha, path, "image/jpeg")

    assert list(outside.rglob("*")) == []


def test_report_makes_the_thumbnails_again_when_their_folder_is_deleted(
    sky: BlueskySim, archive_dir: Path, tmp_path: Path
) -> None:
    una = sky.account("una.example.com", "Una")
    clip = sky.post(una, "3lthumbclip2a", "clip", video=BskyVideo(41))
    photo = sky.post(una, "3lthumbphot2a", "photo", images=[BskyImage(400, 300, 42)])
    (tmp_path / "a.txt").write_text(f"Both\n{clip.url}\n{photo.url}\n")
    assert embedarc(archive_dir, "archive", str(tmp_path / "a.txt")).exit_code == 0
    made = {p.stem for p in (archive_dir / "thumbs").rglob("*.jpg")}
    assert made == clip.hashes | photo.hashes
    media = {p: p.read_bytes() for p in (archive_dir / "media").rglob("*") if p.is_file()}

    shutil.rmtree(archive_dir / "thumbs")
    done = embedarc(archive_dir, "report")

    assert done.exit_code == 0, done.output
    assert {p.stem for p in (archive_dir / "thumbs").rglob("*.jpg")} == made
    assert {p: p.read_bytes() for p in media} == media  # the originals untouched


@pytest.mark.parametrize("reader", ["perceptual hash", "probe"])
def test_every_ffmpeg_reading_a_stored_video_reads_that_file_only(
    tmp_path: Path, reader: str
) -> None:
    """The perceptual hashes and the measurement run ffmpeg on stored files too: a stored
    "video" that is a playlist naming another local file gives nothing of that file."""
    from embedarc.evidence import perceptual
    from embedarc.keeping import media

    store = Store(tmp_path)
    secret = tmp_path / "elsewhere.mp4"
    secret.write_bytes(make_mp4(320, 240, 1.0, 8))
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{secret}\n#EXT-X-ENDLIST\n"
    _sha, path = stored(store, playlist.encode(), "m3u8")

    if reader == "probe":
        measured = media.probe(path, "video/mp4")
        assert (measured.width, measured.height, measured.duration) == (None, None, None)
    else:
        with pytest.raises(perceptual.PerceptualError):
            perceptual.video_hashes(path, duration=1.0)


def test_an_image_over_the_pixel_limit_gets_no_thumbnail_however_close(tmp_path: Path) -> None:
    """The limit is the archive's --max-image-pixels, checked on the image's stated size before
    a pixel is decoded, including between one and two times the limit (where Pillow's own
    check only warns); and it leaves no process-wide limit behind for other threads."""
    store = Store(tmp_path)
    sha, source = stored(store, make_jpeg(100, 80, 3), "jpg")  # 8,000 pixels

    assert not thumbs.ensure(store, sha, source, "image/jpeg", max_pixels=5_000)
    assert not thumbs.thumb_path(store.root, sha).exists()
    assert Image.MAX_IMAGE_PIXELS is None
    assert thumbs.ensure(store, sha, source, "image/jpeg", max_pixels=8_000)
