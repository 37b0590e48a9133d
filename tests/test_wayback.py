"""The Wayback Machine: finding captures, storing their raw bytes, asking for new captures."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.errors import FetchFailed
from embedarc.footage.wayback import (
    Capture,
    SaveResult,
    SaveStatus,
    WaybackUnavailable,
    fetch_capture,
    find_capture,
    save_page,
)
from embedarc.keeping.store import Store
from embedarc.network.net import Net
from tests.simweb import Request, SimWeb
from tests.simweb import wayback as wayback_sim
from tests.simweb.media import make_jpeg

VIDEO_URL = "https://video.example.org/clips/strike.mp4"
PHOTO_URL = "https://pbs.twimg.com/media/FIa7QmXWQAIx3Zp.jpg?name=orig"
STATUS_URL = "https://twitter.com/testuser/status/1478361257143021568"
ACCESS, SECRET = "acc3ssKEY9", "s3cretVALUE7"


def no_wait(seconds: float) -> None:
    """Polling without sleeping: the simulated job advances with each poll, not with time."""


@pytest.fixture
def wayback(simweb: SimWeb) -> wayback_sim.WaybackSim:
    return wayback_sim.install(simweb)


@pytest.fixture
def net(settings: Settings) -> Iterator[Net]:
    with Net(settings) as client:
        yield client


@pytest.fixture
def store(archive_dir: Path) -> Store:
    archived = Store(archive_dir)
    archived.ensure()
    return archived


@pytest.fixture
def photo(media_cache: Path) -> bytes:
    return make_jpeg(320, 240, seed=7, cache_dir=media_cache)


def lookups(web: SimWeb, path: str) -> list[Request]:
    return [r for r in web.requests if r.path == path]


# --- finding a capture


def test_capture_is_found_through_the_availability_api(
    simweb: SimWeb, wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    wayback.capture(VIDEO_URL, photo, "image/jpeg", timestamp="20220104101244")

    found = find_capture(net, VIDEO_URL)

    assert found == Capture(VIDEO_URL, "20220104101244", "200", None)
    assert found.captured_at == "2022-01-04T10:12:44Z"
    assert not lookups(simweb, "/cdx/search/cdx")


def test_capture_the_availability_api_misses_is_found_through_cdx(
    wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    wayback.capture(VIDEO_URL, photo, "image/jpeg", "20220104101244", in_availability_api=False)

    found = find_capture(net, VIDEO_URL)

    assert found == Capture(VIDEO_URL, "20220104101244", "200", "image/jpeg")


def test_newest_capture_is_chosen_from_cdx(
    wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    for timestamp in ("20220104101244", "20230301000000", "20220201000000"):
        wayback.capture(VIDEO_URL, photo, "image/jpeg", timestamp, in_availability_api=False)

    found = find_capture(net, VIDEO_URL)

    assert found is not None and found.timestamp == "20230301000000"


def test_capture_of_an_error_page_is_not_offered(
    wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    wayback.capture(VIDEO_URL, b"not here", "text/plain", status=404)

    assert find_capture(net, VIDEO_URL) is None


def test_url_never_captured_gives_none(wayback: wayback_sim.WaybackSim, net: Net) -> None:
    assert find_capture(net, VIDEO_URL) is None


def test_media_only_skips_a_newer_html_capture(
    wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    wayback.capture(PHOTO_URL, photo, "image/jpeg", "20220104101244")
    wayback.capture(PHOTO_URL, b"<html>soft 404</html>", "text/html", "20230101000000")

    found = find_capture(net, PHOTO_URL, media_only=True)

    assert found == Capture(PHOTO_URL, "20220104101244", "200", "image/jpeg")


def test_media_only_gives_none_for_a_captured_tweet_page(
    wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    shell = b"<!DOCTYPE html><html><body><noscript>JavaScript is not available.</noscript>"
    wayback.capture(STATUS_URL, shell, "text/html; charset=utf-8")

    assert find_capture(net, STATUS_URL, media_only=True) is None


def test_rate_limited_lookup_raises_wayback_unavailable(
    wayback: wayback_sim.WaybackSim, net: Net, photo: bytes
) -> None:
    wayback.capture(VIDEO_URL, photo, "image/jpeg")
    wayback.rate_limit(times=1, retry_after="30")

    with pytest.raises(WaybackUnavailable) as raised:
        find_capture(net, VIDEO_URL)

    assert raised.value.status == 429 and raised.value.retry_after == "30"


def test_unreachable_lookup_raises_wayback_unavailable(
    simweb: SimWeb, wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    simweb.fault(wayback_sim.CDX, "reset")

    with pytest.raises(WaybackUnavailable):
        find_capture(net, VIDEO_URL, media_only=True)


def test_lookup_never_sends_credentials_in_the_url(
    simweb: SimWeb, wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    find_capture(net, "https://reader:hunter22@video.example.org/clips/strike.mp4")

    assert simweb.requests and all("hunter22" not in r.url for r in simweb.requests)


# --- fetching a capture


def test_fetched_capture_is_stored_byte_for_byte(
    wayback: wayback_sim.WaybackSim, net: Net, store: Store, settings: Settings, photo: bytes
) -> None:
    held = wayback.capture(PHOTO_URL, photo, "image/jpeg")
    capture = Capture(PHOTO_URL, held.timestamp, "200", "image/jpeg")

    saved = fetch_capture(net, store, capture, max_size=settings.max_file_size, kind="photo")

    assert saved.sha256 == hashlib.sha256(photo).hexdigest()
    assert (store.root / saved.path).read_bytes() == photo
    assert (saved.method, saved.source_url, saved.kind) == ("wayback", capture.raw_url, "photo")
    assert (saved.width, saved.height) == (320, 240)


def test_fetch_follows_the_redirect_to_the_exact_timestamp(
    simweb: SimWeb,
    wayback: wayback_sim.WaybackSim,
    net: Net,
    store: Store,
    settings: Settings,
    photo: bytes,
) -> None:
    held = wayback.capture(PHOTO_URL, photo, "image/jpeg", timestamp="20220104101244")
    inexact = Capture(PHOTO_URL, "20220104000000")

    saved = fetch_capture(net, store, inexact, max_size=settings.max_file_size)

    assert saved.source_url == held.raw_url
    assert saved.sha256 == held.sha256
    replays = [r.status for r in simweb.requests if r.path.startswith("/web/")]
    assert replays == [302, 200]


def test_fetch_of_a_capture_the_archive_lacks_fails_with_404(
    wayback: wayback_sim.WaybackSim, net: Net, store: Store, settings: Settings
) -> None:
    with pytest.raises(FetchFailed) as raised:
        fetch_capture(net, store, Capture(VIDEO_URL, "20220104101244"), max_size=1024)

    assert raised.value.status == 404 and not isinstance(raised.value, WaybackUnavailable)


def test_fetch_refuses_a_capture_that_is_a_page(
    wayback: wayback_sim.WaybackSim, net: Net, store: Store, settings: Settings
) -> None:
    held = wayback.capture(STATUS_URL, b"<html></html>", "text/html")

    with pytest.raises(FetchFailed, match="expected media"):
        fetch_capture(net, store, Capture(STATUS_URL, held.timestamp), max_size=1024)


# --- Save Page Now 2


def test_save_page_waits_for_the_job_to_succeed(wayback: wayback_sim.WaybackSim, net: Net) -> None:
    wayback.save_outcome("success", pending=2, timestamp="20220105120000")
    waits: list[float] = []

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, wait=waits.append)

    [submission] = wayback.saves
    assert result == SaveResult(
        VIDEO_URL, submission.job_id, SaveStatus.SUCCESS, None, "20220105120000"
    )
    assert result.capture_url == f"https://web.archive.org/web/20220105120000/{VIDEO_URL}"
    assert submission.url == VIDEO_URL
    assert submission.authorization == f"LOW {ACCESS}:{SECRET}"
    assert len(waits) == 3  # two pending answers, then the result


def test_save_page_returns_an_error_status_instead_of_raising(
    wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    wayback.save_outcome("error", status_ext="error:too-many-daily-captures", message="Too many.")

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, wait=no_wait)

    assert result.status == "error" and result.job_id == wayback.saves[0].job_id
    assert result.message == "error:too-many-daily-captures: Too many."


def test_save_page_reports_rate_limiting_with_retry_after(
    wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    wayback.rate_limit(times=1, endpoint="save", retry_after="60")

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, wait=no_wait)

    assert result.status == "rate_limited" and result.job_id is None
    assert result.message is not None and "Retry-After: 60" in result.message


def test_save_page_stops_polling_after_the_allowed_number_of_polls(
    simweb: SimWeb, wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    wayback.save_outcome("success", pending=100)

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, poll=3, wait=no_wait)

    assert result.status == "pending" and result.job_id == wayback.saves[0].job_id
    assert len([r for r in simweb.requests if r.path.startswith("/save/status/")]) == 3


def test_save_page_without_keys_asks_nothing(simweb: SimWeb, net: Net) -> None:
    result = save_page(net, VIDEO_URL, access="", secret="", wait=no_wait)

    assert result.status == "error" and not simweb.requests


def test_save_page_does_not_raise_when_the_service_is_unreachable(
    simweb: SimWeb, wayback: wayback_sim.WaybackSim, net: Net
) -> None:
    simweb.fault(wayback_sim.SAVE, "reset")

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, wait=no_wait)

    assert result.status == "error" and result.job_id is None


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda sim, web: None, id="success"),
        pytest.param(
            # A service that echoes the keys back in its refusal.
            lambda sim, web: sim.save_outcome(
                "error", status_ext="error:bad-keys", message=f"LOW {ACCESS}:{SECRET} refused"
            ),
            id="error-echoing-the-keys",
        ),
        pytest.param(lambda sim, web: sim.rate_limit(endpoint="save"), id="rate-limited"),
        pytest.param(lambda sim, web: web.fault(wayback_sim.SAVE, "reset"), id="unreachable"),
        pytest.param(lambda sim, web: web.fail(wayback_sim.SAVE, 502), id="bad-gateway"),
    ],
)
def test_secret_never_appears_in_save_results_or_logs(
    setup: object,
    simweb: SimWeb,
    wayback: wayback_sim.WaybackSim,
    net: Net,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert callable(setup)
    setup(wayback, simweb)
    caplog.set_level(logging.DEBUG)

    result = save_page(net, VIDEO_URL, access=ACCESS, secret=SECRET, wait=no_wait)

    shown = " ".join(str(v) for v in (result, result.message, result.url, result.capture_url))
    assert SECRET not in shown and SECRET not in caplog.text


def test_keys_that_cannot_go_in_a_header_are_refused_unsent(simweb: SimWeb, net: Net) -> None:
    result = save_page(net, VIDEO_URL, access=ACCESS, secret="line\nbreak", wait=no_wait)

    assert result.status == "error" and not simweb.requests
    assert "line" not in str(result)
