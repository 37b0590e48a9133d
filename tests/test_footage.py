"""Where footage comes from: syndication, fxtwitter, yt-dlp (GraphQL, HLS, other sites)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from embedarc.config import Settings
from tests.helpers import link_entry, make_tweet, run, sidecar_of, syndication_answer, text_input
from tests.simweb import Photo, SimWeb, Video
from tests.simweb.media import make_mp4


def test_video_with_only_an_hls_stream_is_fetched_from_the_stream(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 20, [Video(320, 180)])
    answer = syndication_answer(simweb, tweet.id)
    for item in answer["mediaDetails"]:
        variants = item["video_info"]["variants"]
        item["video_info"]["variants"] = [v for v in variants if "mpegURL" in v["content_type"]]
    simweb.json("https://cdn.syndication.twimg.com/tweet-result", answer)

    [report] = run(settings, text_input(f"HLS\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    [video] = data["media"]
    assert video["method"] == "hls" and video["tool"].startswith("yt-dlp")
    assert video["source_url"].split("?")[0].endswith(".m3u8")
    assert not any(r.path.endswith(".mp4") for r in simweb.requests_to("video.twimg.com"))


def test_fxtwitter_answers_when_syndication_fails(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 21, [Photo(300, 200)], syndication="error")
    [report] = run(settings, text_input(f"fx\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert data["posts"][0]["source"] == "fxtwitter"
    assert {m["sha256"] for m in data["media"]} == {tweet.files[0].sha256}
    assert {Path(e).name for e in link_entry(data, tweet.status_url)["evidence"]} == {
        f"{tweet.id}.syndication.json",
        f"{tweet.id}.fxtwitter.json",
    }


def test_no_fxtwitter_never_asks_fxtwitter(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 22, [Video(320, 180)], syndication="missing")
    [report] = run(
        settings.with_updates(third_parties=False), text_input(f"t\n{tweet.status_url}\n")
    )

    assert simweb.requests_to("api.fxtwitter.com") == []
    data = sidecar_of(settings.archive_dir, report)
    assert data["media"][0]["sha256"] == tweet.files[0].sha256  # yt-dlp found it instead


def test_protected_tweet_is_login_required(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(
        simweb,
        23,
        [Video(320, 180)],
        syndication="missing",
        fxtwitter="missing",
        graphql="protected",
    )
    [report] = run(settings, text_input(f"p\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "login_required"
    assert not report.failed


def test_cookies_let_ytdlp_see_a_protected_tweet(
    simweb: SimWeb, settings: Settings, tmp_path: Path
) -> None:
    tweet = make_tweet(
        simweb,
        24,
        [Video(320, 180)],
        syndication="missing",
        fxtwitter="missing",
        graphql="protected",
    )
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        ".x.com\tTRUE\t/\tTRUE\t2147483647\tauth_token\tsecret-auth-value\n"
        ".x.com\tTRUE\t/\tTRUE\t2147483647\tct0\tcsrf-value\n"
    )
    [report] = run(settings.with_updates(cookies=cookies), text_input(f"c\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "archived"
    folder = settings.archive_dir / data["article"]["folder"]
    written = b"".join(p.read_bytes() for p in folder.rglob("*.json"))
    assert b"secret-auth-value" not in written


def test_site_with_a_dedicated_ytdlp_extractor_goes_through_ytdlp(
    simweb: SimWeb, settings: Settings
) -> None:
    clip = make_mp4(320, 240, 0.5, 91, cache_dir=simweb.media_dir)
    file_url = "https://cdn-cf-east.streamable.com/video/mp4/abc123.mp4"
    simweb.file(file_url, clip, "video/mp4")
    simweb.json(
        "https://ajax.streamable.com/videos/abc123",
        {
            "status": 2,
            "title": "Launch site",
            "files": {"mp4": {"url": file_url, "width": 320, "height": 240}},
        },
    )
    simweb.redirect("https://bit.ly/clip1", "https://streamable.com/abc123")

    [report] = run(settings, text_input("Clip\nhttps://bit.ly/clip1\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, "https://bit.ly/clip1")
    assert entry["outcome"] == "archived"
    assert entry["resolution"]["stop"] == "extractor"
    assert entry["resolution"]["final_url"] == "https://streamable.com/abc123"
    [media] = data["media"]
    assert media["sha256"] == hashlib.sha256(clip).hexdigest()
    evidence = settings.archive_dir / data["article"]["folder"] / entry["evidence"][0]
    assert json.loads(evidence.read_text())["title"] == "Launch site"
    # yt-dlp was stopped at the site page: the page itself was never fetched by us
    assert [r.host for r in simweb.requests if r.host == "streamable.com"] == []


def test_ift_tt_meta_refresh_page_is_followed(simweb: SimWeb, settings: Settings) -> None:
    simweb.page("https://news.example.org/story", "<html><title>Story</title></html>")
    simweb.ift_tt("metaone", "https://news.example.org/story", style="meta")
    [report] = run(settings, text_input("m\nhttps://ift.tt/metaone\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://ift.tt/metaone")
    hops = entry["resolution"]["hops"]
    assert [(h["status"], h["via"]) for h in hops] == [(200, "meta"), (200, "http")]
    assert entry["resolution"]["final_url"] == "https://news.example.org/story"


def test_pic_twitter_meta_refresh_page_leads_to_the_tweet(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 25, [Photo(200, 100)], pic_style="meta")
    [report] = run(settings, text_input(f"m\n{tweet.pic_text}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), f"https://{tweet.pic_text}")
    assert entry["outcome"] == "archived" and entry["post"] == f"x:{tweet.id}"
    assert entry["resolution"]["hops"][0]["via"] == "meta"


def test_tco_browser_page_is_understood(simweb: SimWeb, settings: Settings) -> None:
    from tests.simweb.web import tco_response

    target = "https://news.example.org/browser"
    simweb.page(target, "<html><title>B</title></html>")
    # Answer as t.co answers browsers, whatever the client says it is.
    as_browser = {"user-agent": "Mozilla/5.0"}
    simweb.route(
        "https://t.co/browserpg",
        lambda req: tco_response(dataclasses.replace(req, headers=as_browser), target),
    )
    [report] = run(settings, text_input("b\nhttps://t.co/browserpg\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://t.co/browserpg")
    assert entry["resolution"]["final_url"] == target
    assert entry["resolution"]["hops"][0]["via"] == "meta"


def test_unsafe_link_warning_is_unwrapped(simweb: SimWeb, settings: Settings) -> None:
    target = "https://news.example.org/unsafe"
    simweb.page(target, "<html><title>U</title></html>")
    simweb.tco("unsafe1234", target, unsafe_wrap=True)
    [report] = run(settings, text_input("u\nhttps://t.co/unsafe1234\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://t.co/unsafe1234")
    assert entry["resolution"]["final_url"] == target
    assert [h["via"] for h in entry["resolution"]["hops"]] == ["http", "unwrap", "http"]


def test_long_redirect_chain_stops_at_the_hop_limit(simweb: SimWeb, settings: Settings) -> None:
    for n in range(50):
        simweb.redirect(f"https://chain.example.org/{n}", f"https://chain.example.org/{n + 1}")
    [report] = run(
        settings.with_updates(max_hops=5), text_input("c\nhttps://chain.example.org/0\n")
    )

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://chain.example.org/0")
    assert entry["resolution"]["stop"] == "hop_limit"
    assert len(entry["resolution"]["hops"]) == 5
    assert len(simweb.requests_to("chain.example.org")) == 5


def test_direct_hls_playlist_link_is_fetched_by_ytdlp_and_not_stored_itself(
    simweb: SimWeb, settings: Settings
) -> None:
    from embedarc.upkeep.verify import verify

    tweet = make_tweet(simweb, 26, [Video(320, 180)])
    [master] = [f.url for f in tweet.all_files if f.role == "hls" and "master.m3u8" in f.url]
    [report] = run(settings, text_input(f"Stream\n{master}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, master)["outcome"] == "archived"
    [media] = data["media"]
    assert media["method"] == "hls" and media["mime"].startswith("video/")
    assert verify(settings.archive_dir).sound


def test_syndication_answer_of_an_unexpected_shape_falls_back_to_fxtwitter(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 27, [Photo(120, 80)])
    simweb.json("https://cdn.syndication.twimg.com/tweet-result", {"id_str": tweet.id, "user": "x"})

    [report] = run(settings, text_input(f"Odd\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "archived"
    assert data["posts"][0]["source"] == "fxtwitter"


def test_a_bug_in_one_link_costs_that_link_not_the_batch(
    simweb: SimWeb, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedarc.footage.collect import Collector

    simweb.page("https://news.example.org/fine", "<html><title>Fine</title></html>")
    real = Collector.link

    def broken(self: Collector, link: Any) -> Any:  # a fault no server can cause
        if "boom" in link.url:
            raise RuntimeError("unexpected")
        return real(self, link)

    monkeypatch.setattr(Collector, "link", broken)
    [report] = run(
        settings, text_input("x\nhttps://news.example.org/boom\nhttps://news.example.org/fine\n")
    )

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, "https://news.example.org/boom")["reason"].startswith("internal error")
    assert link_entry(data, "https://news.example.org/fine")["outcome"] == "no_media"


def test_a_web_page_where_tweet_media_was_expected_is_retried_not_gone(
    simweb: SimWeb, settings: Settings
) -> None:
    from embedarc.reading.links import normalise

    tweet = make_tweet(simweb, 28, [Photo(120, 80)])
    simweb.fault(normalise(tweet.files[0].url), "html_instead")

    [report] = run(settings.with_updates(retries=0), text_input(f"Wall\n{tweet.status_url}\n"))

    assert report.outcomes == {"failed": 1}
