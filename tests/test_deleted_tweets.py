"""Tweets gone before embedarc first saw them: what web archives captured of them, then media."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from embedarc.config import Settings, load_settings
from embedarc.errors import ConfigError
from embedarc.footage import memento
from embedarc.network.net import Net
from tests.conftest import LoopbackServer
from tests.helpers import link_entry, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, wayback
from tests.simweb import memento as memento_sim
from tests.simweb.tweets import TweetSpec
from tests.simweb.twitter_json import syndication_json, syndication_token

AGGREGATOR = "https://timetravel.example/timemap/link/"


def gone_tweet(web: SimWeb, seq: int) -> TweetSpec:
    """A photo tweet every live source calls gone, its photo gone from the CDN too."""
    tweet = make_tweet(
        web, seq, [Photo(200, 150)], syndication="missing", fxtwitter="missing", graphql="tombstone"
    )
    web.fail(f"https://pbs.twimg.com/media/{tweet.items[0].media_key}", 404)
    web.fail(f"https://pbs.twimg.com/media/{tweet.items[0].media_key}.jpg", 404)
    return tweet


def archived(settings: Settings, tweet: TweetSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))
    sidecar = sidecar_of(settings.archive_dir, report)
    return link_entry(sidecar, tweet.status_url), sidecar


def old_status_page(tweet: TweetSpec) -> bytes:
    """twitter.com's server-rendered status page as it was before 2023, trimmed."""
    key = tweet.items[0].media_key
    return (
        '<!DOCTYPE html><html><head><meta property="og:type" content="article">'
        f'<meta property="og:title" content="{tweet.name} on Twitter">'
        f'<meta property="og:description" content="“{tweet.display_text}”">'
        f'<meta property="og:image" content="https://pbs.twimg.com/media/{key}.jpg:large">'
        "</head><body>"
        '<img class="avatar" src="https://pbs.twimg.com/profile_images/1/a_bigger.jpg">'
        '<div class="permalink-tweet"><div class="AdaptiveMedia-photoContainer" '
        f'data-image-url="https://pbs.twimg.com/media/{key}.jpg"></div></div>'
        "</body></html>"
    ).encode()


# --- the Wayback Machine


def test_captured_syndication_answer_and_photo_archive_a_tweet_gone_before_any_lookup(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    tweet = gone_tweet(simweb, 60)
    key = tweet.items[0].media_key
    token = syndication_token(tweet.id)
    answer_url = (
        f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}&lang=en&token={token}"
    )
    sim.capture(answer_url, json.dumps(syndication_json(tweet)).encode(), "application/json")
    photo = tweet.items[0]
    # The original upload captured once; a newer capture of a downscaled copy must lose to it.
    sim.capture(
        f"https://pbs.twimg.com/media/{key}.jpg?name=orig",
        photo.renditions["orig"],
        "image/jpeg",
        timestamp="20220104101300",
    )
    sim.capture(
        f"https://pbs.twimg.com/media/{key}.jpg?name=small",
        photo.renditions["small"],
        "image/jpeg",
        timestamp="20230101000000",
    )

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "archived_from_wayback"
    assert (
        "syndication answer as captured by Wayback Machine at 2022-01-04T10:12:44Z"
        in (entry["reason"])
    )
    [media] = sidecar["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert media["archive"] == "Wayback Machine"
    assert media["captured_at"] == "2022-01-04T10:13:00Z"
    assert media["capture_url"] == (
        f"https://web.archive.org/web/20220104101300/https://pbs.twimg.com/media/{key}.jpg?name=orig"
    )
    assert media["source_url"].startswith("https://web.archive.org/web/20220104101300id_/")
    assert media["post"] == f"x:{tweet.id}" and media["author"] == f"@{tweet.screen_name}"
    [recorded] = sidecar["posts"]
    assert recorded["id"] == tweet.id and recorded["text"] == tweet.text
    assert recorded["source"] == "syndication (Wayback Machine)"
    assert f"evidence/{tweet.id}.archived.syndication.json" in entry["evidence"]


def test_a_captured_answer_for_another_tweet_sharing_the_id_prefix_is_not_taken(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    tweet = gone_tweet(simweb, 61)
    other = make_tweet(simweb, 62, [Photo(90, 60)])
    longer_id = tweet.id + "7"  # a prefix query for id=<id> also matches id=<id>7
    data = {**syndication_json(other), "id_str": longer_id}
    sim.capture(
        f"https://cdn.syndication.twimg.com/tweet-result?id={longer_id}&token=x",
        json.dumps(data).encode(),
        "application/json",
    )

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "gone"
    assert sidecar["media"] == []


def test_captured_vxtwitter_answer_gives_the_photo(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    tweet = gone_tweet(simweb, 72)
    photo = tweet.items[0]
    # vxtwitter's answer shape (BetterTwitFix vxApi.getApiResponse): media_url_https as url.
    answer = {
        "tweetID": tweet.id,
        "tweetURL": tweet.status_url,
        "user_screen_name": tweet.screen_name,
        "user_name": tweet.name,
        "text": tweet.display_text,
        "date": "Fri Mar 01 12:00:00 +0000 2024",
        "mediaURLs": [photo.thumb_url],
        "media_extended": [
            {
                "url": photo.thumb_url,
                "type": "image",
                "size": {"width": photo.width, "height": photo.height},
                "thumbnail_url": photo.thumb_url,
                "altText": None,
            }
        ],
    }
    vx_url = f"https://api.vxtwitter.com/{tweet.screen_name}/status/{tweet.id}"
    sim.capture(vx_url, json.dumps(answer).encode(), "application/json")
    sim.capture(
        f"https://pbs.twimg.com/media/{photo.media_key}.jpg:orig",
        photo.renditions["orig"],
        "image/jpeg",
    )

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "archived_from_wayback"
    assert "vxtwitter answer as captured by Wayback Machine" in entry["reason"]
    [media] = sidecar["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert sidecar["posts"][0]["created_at"] == "2024-03-01T12:00:00Z"


def test_old_status_page_capture_gives_the_photo(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    tweet = gone_tweet(simweb, 63)
    key = tweet.items[0].media_key
    sim.capture(tweet.status_url + "?lang=en", old_status_page(tweet), "text/html")
    sim.capture(
        f"https://pbs.twimg.com/media/{key}?format=jpg&name=orig",
        tweet.items[0].renditions["orig"],
        "image/jpeg",
        timestamp="20220105000000",
    )

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "archived_from_wayback"
    assert "status page as captured by Wayback Machine" in entry["reason"]
    [media] = sidecar["media"]  # the photo, not the avatar
    assert media["sha256"] == tweet.files[0].sha256
    assert media["captured_at"] == "2022-01-05T00:00:00Z"
    [recorded] = sidecar["posts"]
    assert recorded["text"] == tweet.display_text


def test_photo_still_on_the_cdn_is_taken_from_there(simweb: SimWeb, settings: Settings) -> None:
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb,
        64,
        [Photo(120, 90)],
        syndication="missing",
        fxtwitter="missing",
        graphql="tombstone",
    )
    sim.capture(tweet.status_url, old_status_page(tweet), "text/html")

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "archived_from_wayback"  # the tweet itself only in a capture
    [media] = sidecar["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert media["archive"] is None and media["source_url"].startswith("https://pbs.twimg.com/")


# --- archive.today and aggregators


def test_only_archive_today_has_the_tweet(simweb: SimWeb, settings: Settings) -> None:
    wayback.install(simweb)
    today = memento_sim.install_archive_today(simweb)
    tweet = gone_tweet(simweb, 65)
    key = tweet.items[0].media_key
    page = today.capture(tweet.status_url, old_status_page(tweet), "text/html")
    shot = today.capture(
        f"https://pbs.twimg.com/media/{key}.jpg?name=orig",
        tweet.items[0].renditions["orig"],
        "image/jpeg",
    )

    entry, sidecar = archived(settings, tweet)

    assert entry["outcome"] == "archived_from_web_archive"
    assert (
        f"status page as captured by archive.today at 2022-01-04T10:12:44Z ({page.uri})"
        in (entry["reason"])
    )
    [media] = sidecar["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert media["archive"] == "archive.today" and media["method"] == "archive_copy"
    assert media["capture_url"] == shot.uri
    assert media["original_url"] == f"https://pbs.twimg.com/media/{key}.jpg?name=orig"
    assert media["source_url"].startswith("https://archive.ph/")


def test_aggregator_memento_in_the_wayback_machine_is_read_raw(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    aggregator = memento_sim.install_aggregator(simweb, AGGREGATOR)
    tweet = gone_tweet(simweb, 66)
    key = tweet.items[0].media_key
    photo_url = f"https://pbs.twimg.com/media/{key}.jpg?name=orig"
    # The page is in another archive only; the photo in the Wayback Machine, which the
    # aggregator names: its memento is read raw (id_), like any Wayback capture.
    aggregator.timemap(
        tweet.status_url,
        f'<{tweet.status_url}>; rel="original",\n'
        f"<https://arquivo.example/wayback/20220104101244/{tweet.status_url}>; "
        'rel="first last memento"; datetime="Tue, 04 Jan 2022 10:12:44 GMT"\n',
    )
    simweb.page(
        f"https://arquivo.example/wayback/20220104101244/{tweet.status_url}",
        old_status_page(tweet),
    )
    aggregator.timemap(
        photo_url,
        f'<https://web.archive.org/web/20220104101250/{photo_url}>; rel="memento"; '
        'datetime="Tue, 04 Jan 2022 10:12:50 GMT"',
    )
    sim.capture(photo_url, tweet.items[0].renditions["orig"], "image/jpeg", "20220104101250")

    entry, sidecar = archived(settings.with_updates(memento_timemap=AGGREGATOR), tweet)

    [media] = sidecar["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert "status page as captured by arquivo.example" in entry["reason"]


def test_nothing_in_any_archive_leaves_the_tweet_gone(simweb: SimWeb, settings: Settings) -> None:
    wayback.install(simweb)
    memento_sim.install_archive_today(simweb)
    memento_sim.install_aggregator(simweb, AGGREGATOR)
    tweet = gone_tweet(simweb, 67)

    entry, sidecar = archived(settings.with_updates(memento_timemap=AGGREGATOR), tweet)

    assert entry["outcome"] == "gone"
    assert "no web archive holds a capture of the post" in entry["reason"]
    assert sidecar["media"] == []
    assert simweb.requests_to("archive.ph") and simweb.requests_to("timetravel.example")


def test_no_wayback_asks_no_archive_about_a_gone_tweet(simweb: SimWeb, settings: Settings) -> None:
    wayback.install(simweb)
    memento_sim.install_archive_today(simweb)
    tweet = gone_tweet(simweb, 68)

    entry, _ = archived(settings.with_updates(wayback=False, memento_timemap=AGGREGATOR), tweet)

    assert entry["outcome"] == "gone"
    hosts = {r.host for r in simweb.requests}
    assert not hosts & {"web.archive.org", "archive.org", "archive.ph", "timetravel.example"}


def test_archive_that_cannot_answer_leaves_the_tweet_for_a_later_run(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    sim.rate_limit(times=None, endpoint="cdx", retry_after="900")
    tweet = gone_tweet(simweb, 69)

    entry, _ = archived(settings.with_updates(retries=0), tweet)

    assert entry["outcome"] == "failed"
    assert entry["retry_after"] == "900"


# --- hostile archives


@pytest.fixture
def net(settings: Settings) -> Iterator[Net]:
    with Net(settings) as client:
        yield client


def test_timemap_pointing_at_a_private_address_is_refused_unasked(
    simweb: SimWeb, settings: Settings, loopback_server: LoopbackServer
) -> None:
    wayback.install(simweb)
    aggregator = memento_sim.install_aggregator(simweb, AGGREGATOR)
    tweet = gone_tweet(simweb, 70)
    inside = f"http://127.0.0.1:{loopback_server.port}/status.html"
    aggregator.timemap(
        tweet.status_url, f'<{inside}>; rel="memento"; datetime="Tue, 04 Jan 2022 10:12:44 GMT"'
    )

    entry, _ = archived(settings.with_updates(memento_timemap=AGGREGATOR), tweet)

    assert entry["outcome"] == "gone"
    assert "refused" in entry["reason"]
    assert loopback_server.hits == []


def test_archive_today_memento_on_another_host_is_not_followed(simweb: SimWeb, net: Net) -> None:
    [source] = memento.sources(None)
    body = (
        '<https://archive.ph/20220104101244/https://t.example/a>; rel="memento"; '
        'datetime="Tue, 04 Jan 2022 10:12:44 GMT",\n'
        '<https://evil.example/20220105000000/https://t.example/a>; rel="last memento"; '
        'datetime="Wed, 05 Jan 2022 00:00:00 GMT"'
    )

    found = memento.parse_timemap(body, "https://archive.ph/timemap/https://t.example/a", source)

    assert [m.uri for m in found] == ["https://archive.ph/20220104101244/https://t.example/a"]


def test_huge_timemap_is_read_only_up_to_its_cap(simweb: SimWeb, net: Net) -> None:
    aggregator = memento_sim.install_aggregator(simweb, AGGREGATOR)
    entry = (
        '<https://arquivo.example/wayback/{n:08d}/https://t.example/a>; rel="memento"; '
        'datetime="Tue, 04 Jan 2022 10:12:44 GMT",\n'
    )
    count = 3 * memento.MAX_TIMEMAP_BYTES // len(entry.format(n=0))
    aggregator.timemap("https://t.example/a", "".join(entry.format(n=n) for n in range(count)))
    source = memento.TimeMapSource(memento.AGGREGATOR, AGGREGATOR)

    found = memento.timemap(net, source, "https://t.example/a")

    assert 0 < len(found) <= memento.MAX_ENTRIES < count


def test_malformed_link_format_gives_the_entries_that_parse() -> None:
    source = memento.TimeMapSource(memento.AGGREGATOR, AGGREGATOR)
    body = (
        'garbage without brackets, <https://a.example/1>; rel="memento"; '
        'title="commas, and; semicolons"; datetime="Tue, 04 Jan 2022 10:12:44 GMT",\n'
        '<https://a.example/2>; rel="first last memento"; datetime="Wed, 05 Jan 2022 00:00:00 GMT",'
        '<https://a.example/3>; rel="memento"; datetime="not a date",'
        '<https://a.example/4>; rel=memento; datetime="Thu, 06 Jan 2022 00:00:00 GMT" junk,'
        '<https://a.example/5>; rel="timegate",'
        '<javascript:alert(1)>; rel="memento"; datetime="Fri, 07 Jan 2022 00:00:00 GMT",'
        '<https://a.example/6>; rel="memento"; datetime="Sat, 08 Jan 2022 00:00'  # cut off
    )

    found = memento.parse_timemap(body, AGGREGATOR, source)

    assert [m.uri for m in found] == ["https://a.example/2", "https://a.example/1"]
    assert found[1].captured_at == "2022-01-04T10:12:44Z"


@pytest.mark.parametrize(
    "body",
    ["", ",,,", "<", '<https://a.example/>; rel="', "<>;;;,", '\x00<\ud800>; rel="memento"'],
)
def test_link_format_parser_never_raises(body: str) -> None:
    source = memento.TimeMapSource(memento.AGGREGATOR, AGGREGATOR)
    assert memento.parse_timemap(body, AGGREGATOR, source) == []


def test_memento_timemap_setting_must_be_a_web_url(tmp_path: Any) -> None:
    env = {"EMBEDARC_ARCHIVE": str(tmp_path), "EMBEDARC_MEMENTO_TIMEMAP": "file:///etc/"}
    with pytest.raises(ConfigError, match="memento_timemap"):
        load_settings(env=env)
    env["EMBEDARC_MEMENTO_TIMEMAP"] = AGGREGATOR
    assert load_settings(env=env).memento_timemap == AGGREGATOR
