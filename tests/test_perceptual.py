"""PDQ perceptual hashes: the same picture resized, re-encoded or mirrored stays near, an
unrelated one is far; `embedarc similar` finds the copies across articles and posts."""

from __future__ import annotations

import io
import json
import random
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageDraw, ImageOps

from embedarc.config import Settings
from embedarc.evidence import perceptual
from embedarc.upkeep.verify import verify
from tests.helpers import db, embedarc, run, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment

PIXELS = 10**8


def scene(seed: int, size: tuple[int, int] = (640, 480), shift: int = 0) -> Image.Image:
    """A picture of coloured discs, different for each seed; `shift` moves them (motion)."""
    rnd = random.Random(seed)
    image = Image.new("RGB", size, (rnd.randint(0, 255),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y, r = rnd.randint(0, size[0]) + shift, rnd.randint(0, size[1]), rnd.randint(20, 160)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randint(0, 255) for _ in "rgb"))
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def hash_of(tmp_path: Path, data: bytes, name: str = "x.jpg") -> perceptual.FrameHash:
    path = tmp_path / name
    path.write_bytes(data)
    return perceptual.image_hash(path, max_pixels=PIXELS)


def mp4(path: Path, seed: int, *, seconds: int = 4, fps: int = 5) -> Path:
    """A video made with the bundled ffmpeg from generated frames (discs drifting right)."""
    frames = b"".join(jpeg(scene(seed, (320, 240), shift=n * 4)) for n in range(seconds * fps))
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "image2pipe"]
    command += ["-framerate", str(fps), "-i", "-", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(command, input=frames, check=True, capture_output=True)
    return path


def transcode(source: Path, target: Path, *filters: str) -> Path:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source)]
    if filters:
        command += ["-vf", ",".join(filters)]
    command += ["-crf", "38", "-pix_fmt", "yuv420p", str(target)]
    subprocess.run(command, check=True, capture_output=True)
    return target


def video_distance(a: list[perceptual.FrameHash], b: list[perceptual.FrameHash]) -> int:
    """What `similar` takes for two videos of the same frame count: the median frame distance."""
    distances = sorted(perceptual.distance(x.pdq, y.pdq) for x, y in zip(a, b, strict=False))
    return distances[len(distances) // 2]


# -- images -----------------------------------------------------------------------------------


def test_a_resized_or_reencoded_copy_is_near_and_an_unrelated_picture_far(tmp_path: Path) -> None:
    picture = scene(1)
    original = hash_of(tmp_path, jpeg(picture))

    resized = hash_of(tmp_path, jpeg(picture.resize((320, 240))))
    reencoded = hash_of(tmp_path, jpeg(picture, quality=25))
    unrelated = hash_of(tmp_path, jpeg(scene(2)))

    assert perceptual.distance(original.pdq, resized.pdq) <= 12
    assert perceptual.distance(original.pdq, reencoded.pdq) <= 8
    assert perceptual.distance(original.pdq, unrelated.pdq) >= 100
    assert original.quality >= 50


def test_a_mirrored_copy_is_far_as_is_and_near_through_its_mirror_hash(tmp_path: Path) -> None:
    picture = scene(3)
    original = hash_of(tmp_path, jpeg(picture))

    mirrored = hash_of(tmp_path, jpeg(ImageOps.mirror(picture)))

    assert perceptual.distance(original.pdq, mirrored.pdq) >= 100  # PDQ is not mirror-invariant
    assert perceptual.distance(original.pdq, mirrored.mirror) <= 24


def test_a_light_crop_stays_near_and_a_ten_percent_crop_does_not(tmp_path: Path) -> None:
    """PDQ is not crop-invariant: stated here, and in the README, as measured."""
    picture = scene(4)
    width, height = picture.size
    original = hash_of(tmp_path, jpeg(picture))

    light = hash_of(tmp_path, jpeg(picture.crop((0, 0, int(width * 0.98), height))))
    tenth = hash_of(
        tmp_path,
        jpeg(picture.crop((width // 20, height // 20, width - width // 20, height - height // 20))),
    )

    assert perceptual.distance(original.pdq, light.pdq) <= 31
    assert perceptual.distance(original.pdq, tenth.pdq) > 31


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (6000, 6000)).save(path)  # 36 Mpx in a few KB

    with pytest.raises(perceptual.PerceptualError, match="over 1000000"):
        perceptual.image_hash(path, max_pixels=1_000_000)


def test_a_truncated_image_is_a_reason_not_a_traceback(tmp_path: Path) -> None:
    data = jpeg(scene(5))

    with pytest.raises(perceptual.PerceptualError, match="cannot read the image"):
        hash_of(tmp_path, data[:200])


# -- videos -----------------------------------------------------------------------------------


def test_a_reencoded_smaller_video_matches_frame_for_frame(tmp_path: Path) -> None:
    original = mp4(tmp_path / "a.mp4", 7)
    copy = transcode(original, tmp_path / "b.mp4", "scale=160:120")
    other = mp4(tmp_path / "c.mp4", 8)

    hashes = perceptual.video_hashes(original, duration=4.0)
    copied = perceptual.video_hashes(copy, duration=4.0)
    unrelated = perceptual.video_hashes(other, duration=4.0)

    assert [h.time for h in hashes] == [0.0, 1.0, 2.0, 3.0]
    assert len(copied) == len(hashes)
    assert video_distance(hashes, copied) <= 16
    assert video_distance(hashes, unrelated) >= 90


def test_a_mirrored_video_matches_through_its_mirror_hashes(tmp_path: Path) -> None:
    original = mp4(tmp_path / "a.mp4", 9)
    flipped = transcode(original, tmp_path / "b.mp4", "hflip")

    hashes = perceptual.video_hashes(original, duration=4.0)
    mirrored = perceptual.video_hashes(flipped, duration=4.0)

    distances = sorted(
        perceptual.distance(a.pdq, b.mirror) for a, b in zip(hashes, mirrored, strict=True)
    )
    assert distances[len(distances) // 2] <= 31


def test_a_long_video_is_sampled_at_most_sixty_times(tmp_path: Path) -> None:
    long = tmp_path / "long.mp4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i"]
    command += ["testsrc2=size=64x48:rate=2:duration=150", "-pix_fmt", "yuv420p", str(long)]
    subprocess.run(command, check=True, capture_output=True)

    hashes = perceptual.video_hashes(long, duration=150.0)

    assert len(hashes) == perceptual.MAX_FRAMES
    assert hashes[1].time == 2.5  # spread over the whole video


def test_a_file_that_is_no_video_is_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)

    with pytest.raises(perceptual.PerceptualError, match="ffmpeg could not sample"):
        perceptual.video_hashes(path, duration=None)


# -- the archive and `embedarc similar` ------------------------------------------------------


def test_similar_lists_copies_across_articles_with_their_posts(
    simweb: SimWeb, settings: Settings
) -> None:
    fedi = sim.install(simweb)
    fedi.instance("social.example")
    picture = scene(11)
    post = fedi.status("social.example", "reporter", [Attachment("image")])
    simweb.file(post.files[0].url, jpeg(picture), "image/jpeg")  # the original upload
    copy_url = "https://media.example.org/reupload.jpg"
    simweb.file(copy_url, jpeg(picture.resize((400, 300)), quality=40), "image/jpeg")
    unrelated_url = "https://media.example.org/unrelated.jpg"
    simweb.file(unrelated_url, jpeg(scene(12)), "image/jpeg")
    run(settings, text_input(f"First story\n{post.url}\n", "first.txt"))
    run(settings, text_input(f"Second story\n{copy_url}\n{unrelated_url}\n", "second.txt"))

    done = embedarc(settings.archive_dir, "similar", "--json")

    assert done.exit_code == 0, done.output
    [pair] = json.loads(done.output)["pairs"]
    assert pair["distance"] <= 16 and pair["mirrored"] is False
    cited = {c["link"]: c for copy in (pair["a"], pair["b"]) for c in copy["cited_by"]}
    assert set(cited) == {post.url, copy_url}
    assert cited[post.url]["post"] == post.key
    assert cited[copy_url]["post"] is None
    assert {c["title"] for c in cited.values()} == {"First story", "Second story"}
    text = embedarc(settings.archive_dir, "similar").output.splitlines()
    assert text[0] == f"distance {pair['distance']}: {pair['a']['path']}  {pair['b']['path']}"
    assert any(line.endswith(f"via {post.url} (post {post.key})") for line in text)
    assert text[-1] == "1 pairs within 31 bits"
    # --threshold: only pairs at most that far apart
    closest = embedarc(settings.archive_dir, "similar", "--json", "--threshold", "0")
    distances = [p["distance"] for p in json.loads(closest.output)["pairs"]]
    assert distances == ([0] if pair["distance"] == 0 else [])


def test_every_stored_image_gets_its_hash_once_and_verify_sees_them(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.file("https://media.example.org/a.jpg", jpeg(scene(13)), "image/jpeg")
    run(settings, text_input("Story\nhttps://media.example.org/a.jpg\n", "a.txt"))
    [row] = db(settings.archive_dir)["media_evidence"].rows
    checked_at = row["checked_at"]

    run(settings, text_input("Again\nhttps://media.example.org/a.jpg\n", "b.txt"))

    [again] = db(settings.archive_dir)["media_evidence"].rows
    assert again["checked_at"] == checked_at and again["pdq_frames"] == 1
    [hashed] = db(settings.archive_dir)["perceptual_hashes"].rows
    assert hashed["sha256"] == row["sha256"] and len(hashed["pdq"]) == 64
    report = verify(settings.archive_dir)
    assert report.sound and report.unproven == ()


def test_verify_lists_a_stored_image_without_a_perceptual_hash(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.file("https://media.example.org/a.jpg", jpeg(scene(14)), "image/jpeg")
    run(settings, text_input("Story\nhttps://media.example.org/a.jpg\n", "a.txt"))
    db(settings.archive_dir).execute("delete from media_evidence")
    db(settings.archive_dir).conn.commit()

    report = verify(settings.archive_dir)

    assert report.sound  # nothing is wrong with the footage; it is not hashed yet
    [problem] = report.unproven
    assert problem.path.startswith("media/") and "no perceptual hash" in problem.reason
    done = embedarc(settings.archive_dir, "verify")
    assert done.exit_code == 0
    assert f"unproven: {problem.path}: no perceptual hash" in done.output


def test_a_truncated_image_in_the_archive_is_recorded_with_its_reason(
    simweb: SimWeb, settings: Settings
) -> None:
    data = jpeg(scene(15))
    # The header is whole (Pillow measures it), the picture is not.
    simweb.file("https://media.example.org/cut.jpg", data[: len(data) // 3], "image/jpeg")

    [report] = run(settings, text_input("Story\nhttps://media.example.org/cut.jpg\n", "a.txt"))

    assert report.folder is not None
    # Stored (the probe measures its header): its hash could not be made, and why.
    [row] = db(settings.archive_dir)["media_evidence"].rows
    assert row["pdq_frames"] == 0 and "cannot read the image" in row["pdq_error"]
    [problem] = verify(settings.archive_dir).unproven
    assert "no perceptual hash: cannot read the image" in problem.reason


def test_the_previous_releases_media_are_hashed_by_the_next_run(
    simweb: SimWeb, tmp_path: Path
) -> None:
    import shutil

    from tests.helpers import PREVIOUS_RELEASE
    from tests.simweb import scenarios

    archive = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, archive, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    before = verify(archive)
    assert before.sound and len(before.unproven) == 3  # two photos and a video, not hashed
    world = scenarios.example(simweb)

    done = embedarc(archive, "archive", str(world["text_file"]))

    assert done.exit_code == 0, done.output
    rows = list(db(archive)["media_evidence"].rows)
    assert len(rows) == 3 and all(r["pdq_frames"] >= 1 for r in rows)
    after = verify(archive)
    assert after.sound and after.unproven == ()


def test_similar_finds_a_mirrored_smaller_reupload_of_a_video(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    original = mp4(tmp_path / "a.mp4", 21)
    reupload = transcode(original, tmp_path / "b.mp4", "hflip", "scale=160:120")
    other = mp4(tmp_path / "c.mp4", 22)
    for name, path in (("a", original), ("b", reupload), ("c", other)):
        simweb.file(f"https://media.example.org/{name}.mp4", path.read_bytes(), "video/mp4")
    run(settings, text_input("One\nhttps://media.example.org/a.mp4\n", "one.txt"))
    run(settings, text_input("Two\nhttps://media.example.org/b.mp4\n", "two.txt"))
    run(settings, text_input("Three\nhttps://media.example.org/c.mp4\n", "three.txt"))

    done = embedarc(settings.archive_dir, "similar", "--json")

    [pair] = json.loads(done.output)["pairs"]
    assert pair["mirrored"] is True and pair["distance"] <= 31
    assert pair["a"]["frames"] == pair["b"]["frames"] == 4
    links = {c["link"] for copy in (pair["a"], pair["b"]) for c in copy["cited_by"]}
    assert links == {"https://media.example.org/a.mp4", "https://media.example.org/b.mp4"}
