"""Every way people write a tweet reference leads to the tweet; mirrors give only the id."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarc.config import Settings
from embedarc.model import LinkKind
from embedarc.platforms.x.urls import tweet_ref
from embedarc.reading.links import links_in_text, normalise
from tests.helpers import link_entry, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, Video

ID = "1478330287549890561"


@pytest.mark.parametrize(
    ("url", "user"),
    [
        (f"https://x.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://twitter.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://mobile.twitter.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://mobile.x.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://www.x.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"x.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://x.com/i/status/{ID}", None),
        (f"https://twitter.com/i/web/status/{ID}", None),
        (f"https://twitter.com/statuses/{ID}", None),
        (f"https://twitter.com/AuroraIntel/statuses/{ID}", "AuroraIntel"),
        (f"http://twitter.com/#!/AuroraIntel/status/{ID}", "AuroraIntel"),  # before 2012
        (f"https://x.com/AuroraIntel/status/{ID}/photo/2", "AuroraIntel"),
        (f"https://x.com/AuroraIntel/status/{ID}/video/1", "AuroraIntel"),
        (f"https://x.com/AuroraIntel/status/{ID}?s=20&t=abcDEF", "AuroraIntel"),
        (f"https://x.com/AuroraIntel/status/{ID}#reply", "AuroraIntel"),
        # link fixers
        (f"https://fxtwitter.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://d.fxtwitter.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://fixupx.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://vxtwitter.com/AuroraIntel/status/{ID}/photo/1", "AuroraIntel"),
        (f"https://fixvx.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://twittpr.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://fxtwitter.com/AuroraIntel/status/{ID}/en", "AuroraIntel"),
        # alternative front ends and mirrors
        (f"https://nitter.net/AuroraIntel/status/{ID}#m", "AuroraIntel"),
        (f"https://nitter.poast.org/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://nitter.privacydev.net/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://xcancel.com/AuroraIntel/status/{ID}", "AuroraIntel"),
        (f"https://twiiit.com/AuroraIntel/status/{ID}", "AuroraIntel"),
    ],
)
def test_every_spelling_of_a_tweet_url_names_the_tweet(url: str, user: str | None) -> None:
    assert tweet_ref(url) == (user, ID)
    assert normalise(url) == f"https://twitter.com/{user or 'i/web'}/status/{ID}"


@pytest.mark.parametrize(
    "url",
    [
        f"https://example.com/AuroraIntel/status/{ID}",
        f"https://notnitter.com/AuroraIntel/status/{ID}",
        f"https://fxtwitter.com.example.org/AuroraIntel/status/{ID}",
        "https://nitter.net/AuroraIntel",
        f"https://x.com/AuroraIntel/status/{ID}/analytics",
    ],
)
def test_look_alikes_are_not_tweets(url: str) -> None:
    assert tweet_ref(url) is None


def test_bare_pic_x_com_in_copied_text_is_found() -> None:
    text = "Footage from the base pic.x.com/8xGo7BYVO3\n— Aurora Intel (@AuroraIntel) 2022\n"

    [link] = links_in_text(text)

    assert link.url == "https://pic.x.com/8xGo7BYVO3"
    assert link.kind is LinkKind.PIC_TWITTER
    assert link.attribution is not None and "@AuroraIntel" in link.attribution


@pytest.mark.parametrize("host", ["pic.x.com", "pic.twitter.com"])
def test_pic_short_link_leads_to_the_tweet(simweb: SimWeb, settings: Settings, host: str) -> None:
    tweet = make_tweet(simweb, 60, [Photo(300, 200)])

    [report] = run(settings, text_input(f"Photo {host}/{tweet.media_code}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, f"https://{host}/{tweet.media_code}")
    assert entry["outcome"] == "archived", entry["reason"]
    assert [m["sha256"] for m in data["media"]] == [tweet.files[0].sha256]
    first = entry["resolution"]["hops"][0]
    assert first["status"] == 301 and first["location"].endswith("/photo/1")


MIRRORS = [
    "https://nitter.net",
    "https://nitter.poast.org",
    "https://xcancel.com",
    "https://fxtwitter.com",
    "https://vxtwitter.com",
    "https://fixupx.com",
    "https://fixvx.com",
    "https://twittpr.com",
]


@pytest.mark.parametrize("mirror", MIRRORS)
def test_mirror_link_is_looked_up_by_id_and_never_fetched(
    simweb: SimWeb, settings: Settings, mirror: str
) -> None:
    tweet = make_tweet(simweb, 61, [Video(320, 180)])
    url = f"{mirror}/{tweet.screen_name}/status/{tweet.id}"

    [report] = run(settings, text_input(f"Mirror\n{url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, tweet.status_url)
    assert entry["outcome"] == "archived", entry["reason"]
    assert entry["raw"] == url
    assert [m["sha256"] for m in data["media"]] == [tweet.files[0].sha256]
    host = mirror.removeprefix("https://")
    assert simweb.requests_to(host) == []
    assert not any(Path(e).name.endswith(".ytdlp.info.json") for e in entry["evidence"])
    assert all(m["tool"] is None for m in data["media"])  # not handed to yt-dlp


def test_short_link_to_a_mirror_stops_at_the_mirror_url(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 62, [Photo(300, 200)])
    simweb.tco("MirRor62", f"https://nitter.poast.org/{tweet.screen_name}/status/{tweet.id}#m")

    [report] = run(settings, text_input("Mirror\nSeen at https://t.co/MirRor62\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, "https://t.co/MirRor62")
    assert entry["outcome"] == "archived", entry["reason"]
    assert entry["post"] == f"x:{tweet.id}"
    assert simweb.requests_to("nitter.poast.org") == []
