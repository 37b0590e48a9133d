"""X's GraphQL API read by embedarc itself: recorded real answers, and the outcome rules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from embedarc.config import Settings
from embedarc.model import MediaKind, Outcome
from embedarc.platforms.x import Tweet
from embedarc.platforms.x.graphql import ENDPOINT, read_answer
from embedarc.platforms.x.services import tombstone_verdict
from tests.helpers import link_entry, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, Request, Response, SimWeb, Video, wayback
from tests.simweb.media import make_jpeg, make_mp4
from tests.simweb.messages import file_response

FIXTURES = Path(__file__).parent / "fixtures" / "twitter"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def parsed(name: str) -> Tweet:
    answer = read_answer(recorded(name))
    assert answer.tweet is not None, answer.reason
    return answer.tweet


def photo(key: str) -> str:
    return f"https://pbs.twimg.com/media/{key}?format=jpg&name=orig"


# -- recorded answers, labelled by reading them ---------------------------------------------


def test_recorded_photo_and_video_tweet_gives_both() -> None:
    tweet = parsed("graphql_photo_and_video.json")

    assert (tweet.id, tweet.screen_name, tweet.name) == (
        "1780600897959346531",
        "TrollFootball",
        "Troll Football",
    )
    assert tweet.created_at == "2024-04-17T14:15:10Z"
    assert [(m.kind, m.url) for m in tweet.media] == [
        (
            MediaKind.VIDEO,
            "https://video.twimg.com/ext_tw_video/1780600297586319360/pu/vid/avc1/720x1226/"
            "t6W5Mhnyyj-zZK06.mp4?tag=12",
        ),
        (MediaKind.PHOTO, photo("GLX2i2CW0AAn1o_")),
    ]
    assert tweet.media[0].hls_url is not None and ".m3u8" in tweet.media[0].hls_url


def test_recorded_answer_with_the_newer_user_shape_keeps_order_and_the_largest_video() -> None:
    tweet = parsed("graphql_photos_and_video_newer_user.json")

    assert tweet.screen_name == "niccruzpatane"  # under core.user_results.result.core
    assert [(m.kind, m.url) for m in tweet.media] == [
        (MediaKind.PHOTO, photo("HMvEu7HW4AEWIRY")),
        (
            MediaKind.VIDEO,
            "https://video.twimg.com/amplify_video/2074968363781042176/vid/avc1/3840x2160/"
            "kjzb_SzM6hkpFxw5.mp4?tag=28",
        ),
        (MediaKind.PHOTO, photo("HMvEu7IXoAAXWzB")),
    ]
    assert (tweet.media[0].width, tweet.media[0].height) == (2784, 1086)
    assert tweet.text.startswith("The @Tesla Cybercab")


def test_recorded_quote_gives_the_quoted_tweets_photo_with_its_author() -> None:
    tweet = parsed("graphql_quoted_photo.json")

    assert tweet.screen_name == "morenoagosto" and tweet.media == ()
    assert tweet.quoted is not None and tweet.quoted.screen_name == "SisuMisu3"
    [(owner, item)] = tweet.all_media()
    assert owner.id == "1658407192859492355"
    assert (item.kind, item.url) == (MediaKind.PHOTO, photo("FwPYjaBWAAETpRI"))


def test_recorded_retweet_gives_the_originals_video() -> None:
    tweet = parsed("graphql_retweet_of_video.json")

    assert tweet.screen_name == "_AVICINTL" and tweet.media == ()
    assert tweet.retweeted is not None and tweet.retweeted.screen_name == "ChinaDaily"
    [(owner, item)] = tweet.all_media()
    assert owner.id == "1665863576060575744"
    assert item.url == (
        "https://video.twimg.com/ext_tw_video/1665861064259686400/pu/vid/296x640/"
        "qQVrB3CenvchQsuP.mp4?tag=12"
    )


def test_recorded_visibility_results_wrapper_is_opened_and_the_best_variant_chosen() -> None:
    tweet = parsed("graphql_visibility_results_video.json")

    assert (tweet.id, tweet.screen_name) == ("1667220696295178240", "tordosweet_co")
    [video] = tweet.media
    # the variants come 832k, HLS, 1280k, 432k: the 640x640 one is the best
    assert video.url == (
        "https://video.twimg.com/amplify_video/1667108665588080640/vid/640x640/"
        "EgYM1PGigEWl-QHg.mp4?tag=16"
    )


def test_recorded_gif_gives_its_mp4() -> None:
    tweet = parsed("graphql_gif.json")

    assert tweet.screen_name == "ashevat"
    [gif] = tweet.media
    assert (gif.kind, gif.url) == (
        MediaKind.GIF,
        "https://video.twimg.com/tweet_video/FuNcOVrXoAIGi0f.mp4",
    )


def test_recorded_card_only_tweet_has_no_media_and_names_its_card() -> None:
    tweet = parsed("graphql_card_only.json")

    assert tweet.screen_name == "XDevelopers"
    assert tweet.media == () and tweet.card == "summary"


def test_recorded_unified_card_gives_the_cards_own_video() -> None:
    tweet = parsed("graphql_unified_card_video.json")

    assert tweet.screen_name == "FortniteGame" and tweet.card == "unified_card"
    [video] = tweet.media  # no extended_entities: the video is the card's media entity
    assert (video.kind, video.url) == (
        MediaKind.VIDEO,
        "https://video.twimg.com/amplify_video/1696919248436670464/vid/1280x720/"
        "JzyWcPQpTP-56i4V.mp4?tag=14",
    )


def test_recorded_unavailable_answers_say_why() -> None:
    deleted = read_answer(recorded("graphql_deleted.json"))
    suspended = read_answer(recorded("graphql_suspended.json"))
    nsfw = read_answer(recorded("graphql_nsfw_logged_out.json"))

    assert deleted.verdict is Outcome.GONE
    assert suspended.verdict is Outcome.GONE and suspended.final
    assert suspended.reason is not None and "suspended" in suspended.reason
    assert nsfw.verdict is Outcome.LOGIN_REQUIRED


def test_deleted_tombstone_is_final() -> None:
    tombstone = recorded("syndication_deleted_tombstone.json")["tombstone"]

    assert tombstone_verdict(tombstone) == (
        Outcome.GONE,
        "This Post was deleted by the Post author.",
        True,
    )


# -- through the simulated web ----------------------------------------------------------------


def test_photo_tweet_only_graphql_can_answer_keeps_the_photo_at_original_size(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 90, [Photo(300, 200)], syndication="error", fxtwitter="error")

    [report] = run(settings, text_input(f"Photo\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, tweet.status_url)
    assert entry["outcome"] == "archived", entry["reason"]
    [media] = data["media"]
    assert media["sha256"] == tweet.files[0].sha256
    assert media["source_url"].endswith("name=orig")
    assert data["posts"][0]["source"] == "graphql"
    assert f"{tweet.id}.graphql.json" in {Path(e).name for e in entry["evidence"]}


def test_photo_and_video_tweet_from_graphql_keeps_both(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(
        simweb, 91, [Video(320, 180), Photo(300, 200)], syndication="error", fxtwitter="missing"
    )

    [report] = run(settings, text_input(f"Both\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "archived"
    assert {m["sha256"] for m in data["media"]} == {f.sha256 for f in tweet.files}
    assert {m["kind"] for m in data["media"]} == {"video", "photo"}


def test_recorded_photo_and_video_answer_is_archived_whole(
    simweb: SimWeb, settings: Settings
) -> None:
    answer = recorded("graphql_photo_and_video.json")
    simweb.twitter.recorded["1780600897959346531"] = answer
    jpeg = make_jpeg(1164, 1252, 3, cache_dir=simweb.media_dir)
    clip = make_mp4(72, 122, 0.5, 4, cache_dir=simweb.media_dir)

    def pbs(req: Request) -> Response:
        # only the original is the file the tweet carries; other sizes are other bytes
        data = jpeg if req.params.get("name") == "orig" else b"\xff\xd8 downscaled"
        return file_response(req, data, "image/jpeg")

    simweb.route("https://pbs.twimg.com/media/GLX2i2CW0AAn1o_", pbs)
    simweb.file(
        "https://video.twimg.com/ext_tw_video/1780600297586319360/pu/vid/avc1/720x1226/"
        "t6W5Mhnyyj-zZK06.mp4",
        clip,
        "video/mp4",
    )
    url = "https://x.com/TrollFootball/status/1780600897959346531"

    [report] = run(settings, text_input(f"Recorded\n{url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, "https://twitter.com/TrollFootball/status/1780600897959346531")
    assert entry["outcome"] == "archived", entry["reason"]
    assert {m["sha256"] for m in data["media"]} == {
        hashlib.sha256(jpeg).hexdigest(),
        hashlib.sha256(clip).hexdigest(),
    }
    assert {m["author"] for m in data["media"]} == {"@TrollFootball"}


def test_deleted_tweet_is_gone_and_its_capture_is_looked_for(
    simweb: SimWeb, settings: Settings
) -> None:
    wayback.install(simweb)
    tweet = make_tweet(
        simweb, 92, [Photo()], syndication="missing", fxtwitter="missing", graphql="deleted"
    )

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "gone", entry["reason"]
    assert "graphql: no such tweet" in entry["reason"]
    assert simweb.requests_to("archive.org") or simweb.requests_to("web.archive.org")
    assert not any(Path(e).name.endswith(".ytdlp.info.json") for e in entry["evidence"])


def test_deleted_tweet_whose_captured_page_shows_no_footage_stays_gone(
    simweb: SimWeb, settings: Settings
) -> None:
    # A capture of the page is not footage: only what it shows (og:image and the like) is.
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb, 93, [Photo()], syndication="missing", fxtwitter="missing", graphql="deleted"
    )
    page = b"<html><title>user93 on X</title><p>tweet 93</p></html>"
    sim.capture(tweet.status_url, page, "text/html")

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "gone"
    assert data["media"] == []


def test_syndication_tombstone_saying_deleted_is_gone_without_asking_further(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 94, [Photo()], syndication="deleted", fxtwitter="error")

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "gone"
    assert "deleted by the Post author" in entry["reason"]
    assert simweb.requests_to("api.fxtwitter.com") == []
    assert not any("TweetResultByRestId" in r.path for r in simweb.requests)


def test_nsfw_tweet_for_guests_is_login_required(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(
        simweb, 95, [Photo()], syndication="missing", fxtwitter="missing", graphql="nsfw"
    )

    [report] = run(settings, text_input(f"NSFW\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "login_required"
    assert "NsfwLoggedOut" in entry["reason"]


def test_tweet_of_a_suspended_account_is_gone_and_says_so(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(
        simweb, 96, [Photo()], syndication="missing", fxtwitter="missing", graphql="suspended"
    )

    [report] = run(settings, text_input(f"Suspended\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "gone"
    assert "suspended" in entry["reason"]


def test_cookies_let_graphql_show_an_nsfw_photo(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    tweet = make_tweet(
        simweb, 97, [Photo(300, 200)], syndication="missing", fxtwitter="missing", graphql="nsfw"
    )
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        ".x.com\tTRUE\t/\tTRUE\t2147483647\tauth_token\tauth-value-97\n"
        ".x.com\tTRUE\t/\tTRUE\t2147483647\tct0\tcsrf-value-97\n"
    )

    [report] = run(settings.with_updates(cookies=cookies), text_input(f"c\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "archived"
    assert [m["sha256"] for m in data["media"]] == [tweet.files[0].sha256]
    [asked] = [r for r in simweb.requests if "TweetResultByRestId" in r.path]
    assert asked.headers.get("x-csrf-token") == "csrf-value-97"
    assert "x-guest-token" not in asked.headers
    assert simweb.requests_to("api.x.com") == []  # no guest token needed


def test_ytdlp_is_the_last_resort_when_graphql_cannot_answer_now(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 98, [Video(320, 180)], syndication="error", fxtwitter="error")
    simweb.fail(ENDPOINT, 503, times=1)  # embedarc's own request; yt-dlp's comes later

    [report] = run(settings, text_input(f"Fallback\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, tweet.status_url)
    assert entry["outcome"] == "archived"
    assert "photos may be missing" in entry["reason"]
    [video] = data["media"]
    assert video["sha256"] == tweet.files[0].sha256 and video["tool"].startswith("yt-dlp")


def test_recorded_card_only_tweet_is_no_media_and_says_card_only(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.twitter.recorded["1649191522485817345"] = recorded("graphql_card_only.json")
    url = "https://x.com/XDevelopers/status/1649191522485817345"

    [report] = run(settings, text_input(f"Card\n{url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, "https://twitter.com/XDevelopers/status/1649191522485817345")
    assert entry["outcome"] == "no_media"
    assert entry["reason"].startswith("card only (summary)")
    assert data["media"] == []
