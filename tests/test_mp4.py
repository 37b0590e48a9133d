"""Videos are measured from their MP4 header in-process; ffmpeg only when the header says nothing.

The header reader must agree with ffmpeg on real files, and end (None, no traceback, no hang) on
hostile ones: boxes larger than the file, cut off, nested without end, or too many.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest

from embedarc.config import Settings
from embedarc.keeping import media, mp4
from tests.helpers import html_input, link_entry, run, sidecar_of
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment
from tests.simweb.media import ffmpeg_exe, make_mp4


def box(kind: bytes, payload: bytes = b"", size: int | None = None) -> bytes:
    return struct.pack(">I4s", 8 + len(payload) if size is None else size, kind) + payload


def ffmpeg_video(path: Path, *args: str) -> Path:
    """A short test video made by the bundled ffmpeg with these output options."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    command += ["-f", "lavfi", "-i", "testsrc=size=96x54:rate=25:duration=1.48"]
    command += ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.48"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-shortest"]
    subprocess.run([*command, *args, str(path)], check=True, capture_output=True)
    return path


def assert_agrees_with_ffmpeg(path: Path, mime: str = "video/mp4") -> None:
    header = mp4.read_header(path)
    reference = media._run_ffmpeg(path, mime)
    assert header is not None
    assert (header.width, header.height) == (reference.width, reference.height)
    assert header.duration is not None and reference.duration is not None
    # ffmpeg prints the duration to the hundredth of a second
    assert abs(header.duration - reference.duration) <= 0.011


@pytest.mark.parametrize(
    ("width", "height", "seconds", "audio"),
    [(64, 48, 1.0, True), (320, 180, 2.5, False), (50, 90, 0.4, True)],
)
def test_header_agrees_with_ffmpeg_on_generated_videos(
    tmp_path: Path, width: int, height: int, seconds: float, audio: bool
) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(make_mp4(width, height, seconds, 7, audio=audio, cache_dir=tmp_path))
    assert_agrees_with_ffmpeg(path)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("moov-at-end.mp4", []),  # ffmpeg writes the header after the media data by default
        ("faststart.mov", ["-movflags", "+faststart"]),
        ("rotated.mp4", ["-metadata:s:v", "rotate=90"]),
    ],
)
def test_header_agrees_with_ffmpeg_whatever_the_layout(
    tmp_path: Path, name: str, options: list[str]
) -> None:
    assert_agrees_with_ffmpeg(ffmpeg_video(tmp_path / name, *options))


def test_probe_runs_no_ffmpeg_for_a_video_whose_header_says_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = count_ffmpeg_runs(monkeypatch)
    path = tmp_path / "video.mp4"
    path.write_bytes(make_mp4(64, 48, 1.0, 3, cache_dir=tmp_path))
    assert media.probe(path, "video/mp4") == media.Probe("video/mp4", 64, 48, 1.0)
    assert runs == []


def test_probe_still_asks_ffmpeg_when_the_header_does_not_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = count_ffmpeg_runs(monkeypatch)
    path = tmp_path / "video.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + b"\0" * 64)  # not an MP4: the header reader passes
    assert media.probe(path, "video/webm") == media.Probe("video/webm")
    assert len(runs) == 1


def count_ffmpeg_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file ffmpeg is started on from now on (ffmpeg still runs)."""
    runs: list[str] = []
    real = imageio_ffmpeg.read_frames

    def counted(path: str, *args: object, **kwargs: object) -> object:
        runs.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(imageio_ffmpeg, "read_frames", counted)
    return runs


def test_a_post_video_is_measured_without_running_ffmpeg(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = sim.install(simweb)
    world.instance("social.example")
    post = world.status("social.example", "alice", [Attachment("video", 64, 48, 1.0)])
    runs = count_ffmpeg_runs(monkeypatch)
    body = f"<p>Footage from the scene: <a href='{post.url}'>the video</a></p>"
    page = f"<html><body><article>{body}</article></body></html>"

    [report] = run(settings, html_input(page, url="https://news.example/story"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, post.url)["outcome"] == "archived"
    [video] = data["media"]
    assert (video["width"], video["height"], video["duration"]) == (64, 48, 1.0)
    assert runs == []


# -- hostile headers -----------------------------------------------------------------------------

FTYP = box(b"ftyp", b"isom\0\0\2\0isomiso2avc1mp41")
MVHD = box(b"mvhd", b"\0" * 12 + struct.pack(">II", 1000, 2000) + b"\0" * 80)


@pytest.mark.parametrize(
    "data",
    [
        FTYP + box(b"moov", MVHD, size=2**31),  # larger than the file
        FTYP + struct.pack(">I4sQ", 1, b"moov", 2**63) + MVHD,  # 64-bit size past the end
        FTYP + struct.pack(">I4sQ", 1, b"moov", 4),  # 64-bit size below its own header
        FTYP + box(b"moov", MVHD)[:20],  # cut off
        FTYP + box(b"moov", box(b"trak", b"", size=3)),  # smaller than a header
        FTYP + box(b"moov", box(b"trak", box(b"mdia", b"", size=0), size=0), size=0),
        FTYP + box(b"free") * 5000,  # too many boxes
        FTYP + box(b"moov", box(b"stsd", b"\0" * 8 + box(b"avc1", b"\0" * 4))),
        FTYP + box(b"moov", box(b"trak", box(b"tkhd", b"\1"))),  # v1 but no room
        FTYP + box(b"moov", box(b"mvhd", b"\0" * 12 + struct.pack(">II", 0, 0))),  # timescale 0
    ],
)
def test_hostile_headers_end_without_a_traceback(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "hostile.mp4"
    path.write_bytes(data)
    header = mp4.read_header(path)
    assert header is None or header.width is None
    assert media.probe(path, "video/mp4").mime == "video/mp4"


def test_boxes_nested_without_end_stop_at_the_depth_limit(tmp_path: Path) -> None:
    nested = MVHD
    for _ in range(200):
        nested = box(b"moov", nested)
    path = tmp_path / "deep.mp4"
    path.write_bytes(FTYP + nested)
    assert mp4.read_header(path) is None


def test_a_header_past_gigabytes_of_media_data_is_found_by_seeking(tmp_path: Path) -> None:
    path = tmp_path / "sparse.mp4"
    with path.open("wb") as out:
        out.write(FTYP + struct.pack(">I4sQ", 1, b"mdat", 16 + 3 * 1024**3))
        out.seek(3 * 1024**3, 1)  # a sparse file: 3 GiB of media data, no disk used
        out.write(box(b"moov", MVHD))
    header = mp4.read_header(path)
    assert header == mp4.Header(None, None, 2.0)
