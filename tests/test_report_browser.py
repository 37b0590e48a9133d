"""The view in a real browser: headless Chromium opens the pages from disk, as a reader would.

Chromium is Debian's `chromium` package (`.ci/run` installs it); Playwright only drives it over
the DevTools protocol, and never downloads a browser of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import embedarc
from tests.simweb import SimWeb
from tests.simweb.bluesky import BlueskySim, BskyImage, BskyVideo, install


def chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found (apt-get install chromium to run this test)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def viewed_archive(simweb: SimWeb, archive_dir: Path, tmp_path: Path) -> Path:
    """An archive of one article with a video post, a photo post and a link failing for now."""
    sky: BlueskySim = install(simweb)
    una = sky.account("una.example.com", "Una Reporter")
    clip = sky.post(una, "3lbrowserclp2", "the clip", video=BskyVideo(51))
    photo = sky.post(una, "3lbrowserpht2", "the photo", images=[BskyImage(480, 320, 52)])
    simweb.fault("https://flaky.example.com/clip.mp4", "status", status=503)
    (tmp_path / "a.txt").write_text(f"Footage from the square\n{clip.url}\n{photo.url}\n")
    (tmp_path / "b.txt").write_text("Flaky footage\nhttps://flaky.example.com/clip.mp4\n")
    for name in ("a.txt", "b.txt"):
        embedarc(archive_dir, "archive", str(tmp_path / name))
    return archive_dir


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """The page opened from disk, every request it made, and its console errors."""
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


# Every image in view once (they load lazily), then decoded; naturalWidth per image.
DECODE_IMAGES = """async () => {
  const images = [...document.images];
  for (const image of images) {
    image.scrollIntoView();
    try { await image.decode(); } catch (e) {}
  }
  return images.map(image => image.naturalWidth);
}"""
VIDEO_METADATA = """async () => Promise.all([...document.querySelectorAll('video')].map(video =>
  video.readyState >= 1 ? video.readyState : new Promise(done => {
    video.addEventListener('loadedmetadata', () => done(video.readyState));
    video.addEventListener('error', () => done(-1));
    video.load();
  })))"""


def test_the_pages_open_from_disk_with_footage_and_ask_nothing_of_the_web(
    browser: Any, viewed_archive: Path, tmp_path: Path
) -> None:
    [article] = [
        p
        for p in viewed_archive.glob("articles/*/index.html")
        if "Footage from the square" in p.read_text()
    ]

    page, requests, errors = open_page(browser, article)
    widths = page.evaluate(DECODE_IMAGES)
    states = page.evaluate(VIDEO_METADATA)
    durations = page.evaluate("[...document.querySelectorAll('video')].map(v => v.duration)")
    page.screenshot(path=str(tmp_path / "article.png"), full_page=True)

    assert requests and all(url.startswith("file://") for url in requests), requests
    assert errors == []
    assert len(widths) == 1 and all(w > 0 for w in widths)
    assert len(states) == 1 and states[0] >= 1  # HAVE_METADATA or more
    assert durations[0] > 0

    home, requests, errors = open_page(browser, viewed_archive / "index.html")
    widths = home.evaluate(DECODE_IMAGES)
    assert all(url.startswith("file://") for url in requests), requests
    assert errors == []
    assert len(widths) == 2 and all(w > 0 for w in widths)  # the video's poster, the photo
    rows = "[...document.querySelectorAll('ol.articles li')].filter(li => li.offsetParent)"
    assert home.evaluate(f"{rows}.length") == 2
    home.click("label[for=o-failed]")  # filtering without a script
    assert home.evaluate(f"{rows}.map(li => li.querySelector('.title').textContent)") == [
        "Flaky footage"
    ]
    home.click("label[for=o-all]")
    assert home.evaluate(f"{rows}.length") == 2
    home.screenshot(path=str(tmp_path / "archive.png"), full_page=True)
    assert all(url.startswith("file://") for url in requests), requests
    assert errors == []
    assert (tmp_path / "archive.png").stat().st_size > 0
