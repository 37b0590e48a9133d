"""A batch full of misbehaving servers: each fault is recorded, nothing corrupt is stored, and
the good link beside them is archived all the same."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from embedarc.config import Settings
from embedarc.upkeep.verify import verify
from tests.helpers import link_entry, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb.media import make_jpeg, make_mp4

BASE = "https://media.example.org/"

# link name -> (fault kind and arguments or None, the outcome it must end in)
FAULTS: dict[str, tuple[dict[str, Any] | None, str]] = {
    "good.mp4": (None, "archived"),
    "reset.mp4": ({"kind": "reset"}, "failed"),
    "truncated.mp4": ({"kind": "truncate"}, "failed"),
    "limited.mp4": ({"kind": "status", "status": 429, "headers": {"Retry-After": "60"}}, "failed"),
    "trickle.mp4": ({"kind": "trickle", "interval": 0.05, "chunk": 16}, "failed"),
    "huge.mp4": ({"kind": "huge_length"}, "too_large"),
    "bomb.jpg": ({"kind": "gzip_bomb", "size": 64 * 1024 * 1024}, "too_large"),
    "as-text.mp4": ({"kind": "wrong_type", "content_type": "text/plain"}, "no_media"),
    "login-wall.jpg": ({"kind": "html_instead"}, "no_media"),
}


@pytest.fixture
def faulty_batch(simweb: SimWeb) -> tuple[str, bytes]:
    clip = make_mp4(160, 90, 0.5, 301, cache_dir=simweb.media_dir)
    photo = make_jpeg(64, 48, 302, cache_dir=simweb.media_dir)
    for name, (fault, _) in FAULTS.items():
        url = BASE + name
        if name.endswith(".jpg"):
            simweb.file(url, photo, "image/jpeg")
        else:
            simweb.file(url, clip, "video/mp4")
        if fault is not None:
            simweb.fault(url, **fault)
    simweb.redirect(BASE + "loop-a", BASE + "loop-b")
    simweb.redirect(BASE + "loop-b", BASE + "loop-a")
    simweb.chain(BASE + "chain", 50, BASE + "good.mp4")
    links = [BASE + name for name in FAULTS] + [BASE + "loop-a", BASE + "chain"]
    return "Faults\n" + "\n".join(links) + "\n", clip


def test_every_fault_is_recorded_and_the_good_link_still_archived(
    simweb: SimWeb, settings: Settings, faulty_batch: tuple[str, bytes]
) -> None:
    text, clip = faulty_batch
    limits = settings.with_updates(retries=1, max_download_time=1.0, max_file_size=50 * 1024**2)

    [report] = run(limits, text_input(text))

    data = sidecar_of(settings.archive_dir, report)
    outcomes = {name: link_entry(data, BASE + name)["outcome"] for name in FAULTS}
    assert outcomes == {name: outcome for name, (_, outcome) in FAULTS.items()}
    assert link_entry(data, BASE + "loop-a")["resolution"]["stop"] == "loop"
    assert link_entry(data, BASE + "chain")["resolution"]["stop"] == "hop_limit"
    assert all(link_entry(data, BASE + n)["reason"] for n in FAULTS if n != "good.mp4")
    assert {m["sha256"] for m in data["media"]} == {hashlib.sha256(clip).hexdigest()}


def test_faults_leave_nothing_corrupt_in_the_store(
    simweb: SimWeb, settings: Settings, faulty_batch: tuple[str, bytes]
) -> None:
    text, clip = faulty_batch
    limits = settings.with_updates(retries=1, max_download_time=1.0, max_file_size=50 * 1024**2)

    run(limits, text_input(text))

    stored = [p for p in (settings.archive_dir / "media").rglob("*") if p.is_file()]
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in stored] == [
        hashlib.sha256(clip).hexdigest()
    ]
    report = verify(settings.archive_dir)
    assert not report.altered and not report.missing


def test_malformed_feed_is_a_source_error_not_a_crash(simweb: SimWeb, archive_dir: Path) -> None:
    from click.testing import CliRunner

    from embedarc.cli import cli

    simweb.page(
        "https://feeds.example.com/broken.xml",
        b"\x00\x01<rss><channel><item>",
        "application/rss+xml",
    )
    runner = CliRunner()
    base = ["--archive-dir", str(archive_dir)]
    runner.invoke(cli, ["sources", "add", "https://feeds.example.com/broken.xml", *base])

    done = runner.invoke(cli, ["run", *base])

    assert done.exit_code == 1
    assert "source error" in done.output and "not a feed" in done.output
