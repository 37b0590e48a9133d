"""Limits on what a hostile or broken server can make embedarc do, each with a recorded outcome;
downloads that resume; names from input that stay inside the archive; a full or read-only disk."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from embedarc.cli import cli
from embedarc.config import Settings
from embedarc.footage.ytdlp import OUTTMPL
from embedarc.job.pipeline import Input
from embedarc.keeping.store import slugify
from tests.conftest import NETWORK_VARS
from tests.helpers import link_entry, make_tweet, run, sidecar_of, syndication_answer, text_input
from tests.simweb import SimWeb, Video
from tests.simweb.media import make_mp4

CLIP_URL = "https://media.example.org/clip.mp4"


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def clip(web: SimWeb, seed: int = 7) -> bytes:
    return make_mp4(320, 240, 1.0, seed, cache_dir=web.media_dir)


def archive_one(settings: Settings, url: str) -> dict[str, object]:
    [report] = run(settings, text_input(f"Limits\n{url}\n"))
    return link_entry(sidecar_of(settings.archive_dir, report), url)


# -- size ------------------------------------------------------------------------------------


def test_declared_ten_gigabytes_is_too_large_without_downloading(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.file(CLIP_URL, clip(simweb), "video/mp4")
    simweb.fault(CLIP_URL, "huge_length")

    entry = archive_one(settings, CLIP_URL)

    assert entry["outcome"] == "too_large"
    assert "10737418240" in str(entry["reason"])
    assert files_in(settings.archive_dir / "media") == []
    assert files_in(settings.archive_dir / "tmp") == []


def test_gzip_bomb_is_too_large_and_nothing_is_stored(simweb: SimWeb, settings: Settings) -> None:
    simweb.file(CLIP_URL, clip(simweb), "video/mp4")
    simweb.fault(CLIP_URL, "gzip_bomb")

    entry = archive_one(settings.with_updates(max_file_size=1024**2), CLIP_URL)

    assert entry["outcome"] == "too_large"
    assert files_in(settings.archive_dir / "media") == []
    assert files_in(settings.archive_dir / "tmp") == []


def test_image_over_the_pixel_limit_is_too_large_and_not_stored(
    simweb: SimWeb, settings: Settings
) -> None:
    out = io.BytesIO()
    Image.new("L", (4000, 4000)).save(out, "PNG")  # 16 megapixels in a few kilobytes
    simweb.file("https://media.example.org/bomb.png", out.getvalue(), "image/png")

    entry = archive_one(
        settings.with_updates(max_image_pixels=1_000_000), "https://media.example.org/bomb.png"
    )

    assert entry["outcome"] == "too_large"
    assert "pixels" in str(entry["reason"])
    assert files_in(settings.archive_dir / "media") == []
    assert files_in(settings.archive_dir / "tmp") == []


def test_ytdlp_file_over_the_size_limit_is_too_large(simweb: SimWeb, settings: Settings) -> None:
    file_url = "https://cdn-cf-east.streamable.com/video/mp4/big01.mp4"
    simweb.file(file_url, clip(simweb, seed=8), "video/mp4")
    simweb.json(
        "https://ajax.streamable.com/videos/big01",
        {"status": 2, "title": "Big", "files": {"mp4": {"url": file_url}}},
    )

    entry = archive_one(settings.with_updates(max_file_size=1000), "https://streamable.com/big01")

    assert entry["outcome"] == "too_large"
    assert files_in(settings.archive_dir / "media") == []


def test_hls_stream_over_the_size_limit_is_too_large(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 70, [Video(320, 180)])
    answer = syndication_answer(simweb, tweet.id)
    for item in answer["mediaDetails"]:
        variants = item["video_info"]["variants"]
        item["video_info"]["variants"] = [v for v in variants if "mpegURL" in v["content_type"]]
    simweb.json("https://cdn.syndication.twimg.com/tweet-result", answer)

    entry = archive_one(settings.with_updates(max_file_size=2000), tweet.status_url)

    assert entry["outcome"] == "too_large"
    assert "--max-file-size" in str(entry["reason"])
    assert files_in(settings.archive_dir / "media") == []


def test_article_url_larger_than_the_limit_fails_with_a_reason(
    simweb: SimWeb, settings: Settings
) -> None:
    page = "<html><title>Huge</title><body>" + "<p>words</p>" * 2000 + "</body></html>"
    simweb.page("https://news.example.org/huge", page)

    [report] = run(
        settings.with_updates(max_article_size=4096),
        Input("u", url="https://news.example.org/huge"),
    )

    assert report.error is not None and "--max-article-size" in report.error


# -- time ------------------------------------------------------------------------------------


def test_trickling_download_is_cut_off_at_the_total_time_limit(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.file(CLIP_URL, clip(simweb), "video/mp4")
    simweb.fault(CLIP_URL, "trickle", chunk=16, interval=0.05)

    # Each byte arrives well within the idle timeout; only the total limit can stop it.
    entry = archive_one(settings.with_updates(timeout=10, max_download_time=0.3), CLIP_URL)

    assert entry["outcome"] == "failed"
    assert "--max-download-time" in str(entry["reason"])
    assert files_in(settings.archive_dir / "media") == []


# -- resume ----------------------------------------------------------------------------------


def test_broken_off_download_resumes_with_a_range_request(
    simweb: SimWeb, settings: Settings
) -> None:
    data = clip(simweb, seed=9)
    simweb.file(CLIP_URL, data, "video/mp4")
    simweb.fault(CLIP_URL, "truncate", times=1)

    # The run tries again after the transient failure; that second attempt resumes.
    entry = archive_one(settings, CLIP_URL)

    assert entry["outcome"] == "archived"
    ranged = [r for r in simweb.requests_to("media.example.org") if "range" in r.headers]
    assert [r.headers["range"] for r in ranged] == [f"bytes={len(data) // 2}-"]
    assert ranged[0].headers["if-range"].startswith('"')  # the ETag of the first answer
    assert ranged[0].status == 206
    sha = hashlib.sha256(data).hexdigest()
    [stored] = files_in(settings.archive_dir / "media")
    assert stored.name.startswith(sha) and hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert files_in(settings.archive_dir / "tmp") == []


def test_resume_starts_over_when_the_server_ignores_range(
    simweb: SimWeb, settings: Settings
) -> None:
    data = clip(simweb, seed=10)
    simweb.page(CLIP_URL, data, content_type="video/mp4")  # a plain 200, whatever is asked
    simweb.fault(CLIP_URL, "truncate", times=1)

    entry = archive_one(settings, CLIP_URL)

    assert entry["outcome"] == "archived"
    assert any("range" in r.headers for r in simweb.requests_to("media.example.org"))
    [stored] = files_in(settings.archive_dir / "media")
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_tweet_video_cut_off_resumes_where_it_stopped(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 71, [Video(320, 180)])
    simweb.fault(tweet.files[0].url, "truncate", times=1)

    entry = archive_one(settings, tweet.status_url)

    assert entry["outcome"] == "archived"
    assert any("range" in r.headers for r in simweb.requests_to("video.twimg.com"))
    assert {p.name.split(".")[0] for p in files_in(settings.archive_dir / "media")} == {
        tweet.files[0].sha256
    }


# -- names from input ------------------------------------------------------------------------


def test_ytdlp_file_names_stay_inside_the_work_folder(tmp_path: Path) -> None:
    from yt_dlp import YoutubeDL

    ydl = YoutubeDL({"outtmpl": str(tmp_path / OUTTMPL), "restrictfilenames": True})
    for hostile in ("../../../etc/evil", "/etc/passwd", "..", "x" * 5000):
        name = Path(ydl.prepare_filename({"id": hostile, "format_id": "../f", "ext": "mp4"}))
        assert name.parent == tmp_path, name
        assert len(name.name.encode()) < 255


def test_long_title_gives_a_bounded_folder_name(simweb: SimWeb, settings: Settings) -> None:
    [report] = run(settings, text_input("Ä very long title " * 400 + "\nbody\n"))

    assert report.folder is not None
    folder = Path(report.folder)
    assert folder.parent == Path("articles") and len(folder.name) <= 100


def test_hostile_titles_stay_inside_the_articles_folder() -> None:
    for title in ("../../etc/passwd", "..", "/", "\x00\udcff", "CON", "."):
        slug = slugify(title)
        assert slug and "/" not in slug and ".." not in slug and slug.isascii()


def test_non_utf8_title_gives_an_ascii_folder_name(simweb: SimWeb, settings: Settings) -> None:
    raw = b"Caf\xe9 \xff\xfe news / ../ report\nbody\n"
    from embedarc.reading.articles import read_text

    [report] = run(settings, Input("raw.txt", article=read_text(raw, source="raw.txt")))

    assert report.folder is not None and report.folder.isascii()
    assert (
        (settings.archive_dir / report.folder)
        .resolve()
        .is_relative_to((settings.archive_dir / "articles").resolve())
    )


# -- the disk --------------------------------------------------------------------------------


def test_full_disk_while_downloading_is_a_one_line_error_leaving_nothing_behind(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simweb.file(CLIP_URL, clip(simweb), "video/mp4")
    (tmp_path / "a.txt").write_text(f"Full\n{CLIP_URL}\n")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # Where a full disk shows itself for good: data written, flushing it to disk fails.
    monkeypatch.setattr("embedarc.keeping.store.os.fsync", no_space)
    result = CliRunner().invoke(
        cli, ["archive", "--archive-dir", str(archive_dir), str(tmp_path / "a.txt")]
    )

    assert result.exit_code == 1
    assert "disk is full" in result.output and "Traceback" not in result.output
    assert files_in(archive_dir / "media") == []
    assert files_in(archive_dir / "tmp") == []


def as_unprivileged() -> list[str]:
    """A command prefix that makes root respect file permissions (no DAC override)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root ignores file permissions and setpriv is not there to drop that")
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, "--inh-caps=-all", f"--bounding-set={caps}", "--"]


def test_read_only_archive_is_a_one_line_error(simweb: SimWeb, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(f"Read-only\n{CLIP_URL}\n")
    archive = tmp_path / "archive"
    for name in ("media", "articles", "tmp"):
        (archive / name).mkdir(parents=True)
    for folder in (archive, *archive.iterdir()):
        folder.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if k not in NETWORK_VARS} | simweb.env()
    command = [*as_unprivileged(), str(Path(sys.executable).with_name("embedarc"))]
    try:
        done = subprocess.run(
            [*command, "archive", "a.txt"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
    finally:
        for folder in (archive, *archive.iterdir()):
            folder.chmod(0o755)

    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "read-only" in done.stderr
    assert simweb.requests == []  # found out before anything was fetched
    assert files_in(archive) == []


def test_resume_with_one_connection_per_host_does_not_wait_on_itself(
    simweb: SimWeb, settings: Settings
) -> None:
    import threading

    from tests.helpers import run, text_input
    from tests.simweb.media import make_mp4

    clip = make_mp4(160, 90, 0.5, 501, cache_dir=simweb.media_dir)
    url = "https://media.example.org/cut.mp4"
    simweb.file(url, clip, "video/mp4")
    simweb.fault(url, "truncate", times=1)
    from embedarc.job.pipeline import Report

    reports: list[Report] = []
    one = settings.with_updates(per_host=1, concurrency=1, retries=1)
    worker = threading.Thread(target=lambda: reports.extend(run(one, text_input(f"x\n{url}\n"))))
    worker.start()
    worker.join(120)  # only bounds a regression: a deadlock would otherwise hang the suite

    assert not worker.is_alive(), "the run waited on its own connection slot"
    assert reports[0].outcomes == {"archived": 1}
    ranged = [r for r in simweb.requests_to("media.example.org") if "range" in r.headers]
    assert ranged and ranged[-1].headers["range"].startswith("bytes=")
