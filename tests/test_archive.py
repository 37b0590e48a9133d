"""`archive` end to end, in-process: real files, real SQLite, real yt-dlp, the simulated web."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from embedarc.config import Settings
from embedarc.job.pipeline import Input
from embedarc.keeping.index import MIGRATIONS
from embedarc.reading.articles import read_text
from tests.helpers import (
    html_input,
    link_entry,
    make_tweet,
    media_requests,
    run,
    sidecar_of,
    stored_hashes,
    text_input,
)
from tests.simweb import Gif, Photo, SimWeb, Video, scenarios
from tests.simweb.media import make_mp4

WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


# -- the bundled example ---------------------------------------------------------------------


def test_example_article_archives_video_tweet_and_origin_page(
    simweb: SimWeb, settings: Settings
) -> None:
    world = scenarios.example(simweb)
    article = read_text(world["text_file"].read_bytes(), source="example.txt")
    [report] = run(settings, Input("example.txt", article=article))

    assert report.error is None and not report.failed
    data = sidecar_of(settings.archive_dir, report)
    assert data["article"]["canonical_url"] == world["article_url"]
    assert data["article"]["published"].startswith("2022-01-04")
    folder = settings.archive_dir / report.folder  # type: ignore[operator]
    assert (folder / "article.txt").read_bytes() == world["text_file"].read_bytes()
    assert b"<article>" in (folder / "origin.html").read_bytes()
    wanted = {f.sha256 for f in world["aurora"].files + world["second"].files}
    assert wanted <= {m["sha256"] for m in data["media"]}
    assert wanted <= stored_hashes(settings.archive_dir)


def test_example_article_records_every_hop_of_the_origin_link(
    simweb: SimWeb, settings: Settings
) -> None:
    world = scenarios.example(simweb)
    article = read_text(world["text_file"].read_bytes(), source="example.txt")
    [report] = run(settings, Input("example.txt", article=article))

    origin = link_entry(sidecar_of(settings.archive_dir, report), "https://ift.tt/3FYxYO2")
    assert origin["kind"] == "origin"
    assert origin["outcome"] == "archived"
    hops = origin["resolution"]["hops"]
    assert [h["status"] for h in hops] == [301, 200]
    assert hops[0]["location"] == world["article_url"]
    assert all(h["time"].endswith("Z") for h in hops)


def test_pic_twitter_link_keeps_tweet_attribution_and_evidence(
    simweb: SimWeb, settings: Settings
) -> None:
    world = scenarios.example(simweb)
    article = read_text(world["text_file"].read_bytes(), source="example.txt")
    [report] = run(settings, Input("example.txt", article=article))

    data = sidecar_of(settings.archive_dir, report)
    pic = link_entry(data, "https://pic.twitter.com/8xGo7BYVO3")
    assert pic["attribution"] == "— Aurora Intel (@AuroraIntel) January 4, 2022"
    assert pic["post"] == f"x:{world['aurora'].id}"
    assert pic["outcome"] == "archived"
    evidence = settings.archive_dir / report.folder / pic["evidence"][0]  # type: ignore[operator]
    assert json.loads(evidence.read_bytes())["id_str"] == world["aurora"].id
    [video] = [m for m in data["media"] if m["post"] == f"x:{world['aurora'].id}"]
    assert video["author"] == "@AuroraIntel"
    assert (video["width"], video["height"]) == (640, 360)
    assert video["duration"] > 0.5


def test_best_progressive_variant_is_downloaded_and_no_hls(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 1, [Video(640, 360)])
    [report] = run(settings, text_input(f"Title\n{tweet.status_url}\n"))

    assert report.outcomes == {"archived": 1}
    fetched = media_requests(simweb)
    assert fetched == [tweet.files[0].url]
    assert not any(".m3u8" in url or url.endswith(".ts") for url in fetched)


def test_photo_tweet_keeps_both_photos_at_original_size(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 2, [Photo(800, 600), Photo(600, 800)])
    page = (
        "<html><head><title>Two photos</title></head><body><article><p>Look:</p>"
        '<blockquote class="twitter-tweet"><p>tweet 2 '
        f'<a href="{tweet.tco_url}">{tweet.pic_text}</a></p>&mdash; User 2 (@user2) '
        f'<a href="{tweet.status_url}?ref_src=twsrc%5Etfw">March 1, 2024</a>'
        "</blockquote></article></body></html>"
    )
    [report] = run(settings, html_input(page))

    data = sidecar_of(settings.archive_dir, report)
    photos = {m["sha256"]: m for m in data["media"]}
    assert set(photos) == {f.sha256 for f in tweet.files}
    assert sorted((m["width"], m["height"]) for m in photos.values()) == [(600, 800), (800, 600)]
    assert all("name=orig" in m["source_url"] for m in photos.values())
    assert all("name=orig" in url for url in media_requests(simweb))


def test_same_tweet_behind_two_links_is_looked_up_once(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 3, [Photo(400, 300)])
    [report] = run(
        settings, text_input(f"Title\n{tweet.status_url} and https://{tweet.pic_text}\n")
    )

    assert report.outcomes == {"archived": 2} and report.media == 1
    lookups = [r for r in simweb.requests if r.host == "cdn.syndication.twimg.com"]
    assert len(lookups) == 1


def test_gif_tweet_behind_tco(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 4, [Gif()])
    [report] = run(settings, text_input(f"A GIF\nsee {tweet.tco_url}.\n"))

    data = sidecar_of(settings.archive_dir, report)
    entry = link_entry(data, tweet.tco_url)
    assert entry["outcome"] == "archived"
    assert entry["resolution"]["hops"][0]["status"] == 301
    [gif] = data["media"]
    assert gif["kind"] == "gif" and gif["mime"] == "video/mp4"
    assert gif["sha256"] == tweet.files[0].sha256


def test_quoted_tweets_media_is_archived_too(simweb: SimWeb, settings: Settings) -> None:
    inner = make_tweet(simweb, 5, [Photo(300, 200)])
    outer = make_tweet(simweb, 6, [Video(320, 180)], quoted=inner)
    [report] = run(settings, text_input(f"Quote\n{outer.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert {m["sha256"] for m in data["media"]} == {inner.files[0].sha256, outer.files[0].sha256}
    assert {t["id"] for t in data["posts"]} == {inner.id, outer.id}


def test_video_embed_is_downloaded_directly(simweb: SimWeb, settings: Settings) -> None:
    clip = make_mp4(320, 240, 1.0, 77, cache_dir=simweb.media_dir)
    simweb.file("https://media.example.org/clips/strike.mp4", clip, "video/mp4")
    page = (
        '<html><head><title>Clip</title><link rel="canonical" href="https://news.example.org/clip"></head>'
        '<body><article><video controls src="https://media.example.org/clips/strike.mp4"></video>'
        "</article></body></html>"
    )
    [report] = run(settings, html_input(page))

    data = sidecar_of(settings.archive_dir, report)
    [media] = data["media"]
    assert media["sha256"] == hashlib.sha256(clip).hexdigest()
    assert media["headers"]["content-type"] == "video/mp4"
    assert media_requests(simweb) == ["https://media.example.org/clips/strike.mp4"]


def test_deleted_tweet_is_gone_only_after_every_source_says_so(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(
        simweb, 7, [Photo()], syndication="missing", fxtwitter="missing", graphql="tombstone"
    )
    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "gone"
    assert (
        "syndication" in entry["reason"]
        and "fxtwitter" in entry["reason"]
        and "graphql" in entry["reason"]
    )
    assert not report.failed


def test_tweet_syndication_and_fxtwitter_fail_so_graphql_fetches_it(
    simweb: SimWeb, settings: Settings
) -> None:
    tweet = make_tweet(simweb, 8, [Video(320, 180)], syndication="error", fxtwitter="error")
    [report] = run(settings, text_input(f"Fallback\n{tweet.status_url}\n"))

    data = sidecar_of(settings.archive_dir, report)
    assert link_entry(data, tweet.status_url)["outcome"] == "archived"
    [video] = data["media"]
    assert video["sha256"] == tweet.files[0].sha256
    assert video["method"] == "http"  # the progressive file itself, not through yt-dlp
    assert any("TweetResultByRestId" in r.path for r in simweb.requests)
    assert data["posts"][0]["source"] == "graphql"


def test_redirect_loop_is_recorded_not_followed_forever(simweb: SimWeb, settings: Settings) -> None:
    simweb.redirect("https://loop.example.org/a", "https://loop.example.org/b")
    simweb.redirect("https://loop.example.org/b", "https://loop.example.org/a")
    [report] = run(settings, text_input("Loop\nhttps://loop.example.org/a\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://loop.example.org/a")
    assert entry["outcome"] == "gone"
    assert entry["resolution"]["stop"] == "loop"
    assert len(entry["resolution"]["hops"]) == 2


def test_plain_web_page_link_is_resolved_and_recorded_without_media(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.page("https://news.example.org/other", "<html><title>Other</title><p>words</p></html>")
    [report] = run(settings, text_input("Page\nhttps://news.example.org/other\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), "https://news.example.org/other")
    assert entry["outcome"] == "no_media"
    assert report.media == 0


def test_server_error_is_a_transient_failure(simweb: SimWeb, settings: Settings) -> None:
    simweb.fail("https://media.example.org/busy.mp4", 503)
    [report] = run(settings, text_input("Busy\nhttps://media.example.org/busy.mp4\n"))

    assert report.failed
    entry = link_entry(
        sidecar_of(settings.archive_dir, report), "https://media.example.org/busy.mp4"
    )
    assert entry["outcome"] == "failed"


def test_second_run_downloads_nothing_and_duplicates_no_rows(
    simweb: SimWeb, settings: Settings
) -> None:
    world = scenarios.example(simweb)
    article = read_text(world["text_file"].read_bytes(), source="example.txt")
    [first] = run(settings, Input("example.txt", article=article))
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    counts = {
        name: db[name].count
        for name in ("articles", "links", "hops", "media", "link_media", "posts")
    }
    simweb.clear_requests()

    [second] = run(settings, Input("example.txt", article=article))

    assert media_requests(simweb) == []
    assert second.folder == first.folder and second.new_media == 0 and second.media == first.media
    assert {name: db[name].count for name in counts} == counts
    db.close()


def test_same_footage_in_two_articles_is_stored_once(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 9, [Photo(320, 240)])
    reports = run(
        settings,
        text_input(f"One\n{tweet.status_url}\n", "one.txt"),
        text_input(f"Two\nhttps://{tweet.pic_text}\n", "two.txt"),
    )

    assert [r.media for r in reports] == [1, 1]
    assert stored_hashes(settings.archive_dir) == {tweet.files[0].sha256}
    assert len(media_requests(simweb)) == 1
    for report in reports:
        folder = settings.archive_dir / report.folder  # type: ignore[operator]
        [linked] = list((folder / "media").iterdir())
        assert hashlib.sha256(linked.read_bytes()).hexdigest() == tweet.files[0].sha256


def test_article_url_is_fetched_and_its_embeds_archived(simweb: SimWeb, settings: Settings) -> None:
    world = scenarios.example(simweb)
    [report] = run(settings, Input(world["article_url"], url=world["article_url"]))

    data = sidecar_of(settings.archive_dir, report)
    assert data["article"]["media_type"] == "text/html"
    assert data["article"]["canonical_url"] == world["article_url"]
    assert {f.sha256 for f in world["second"].files} <= {m["sha256"] for m in data["media"]}
    assert not any("zerohedge.com/markets" in e["url"] for e in data["links"])


def test_article_url_answering_503_fails_transiently(simweb: SimWeb, settings: Settings) -> None:
    simweb.fail("https://news.example.org/down", 503)
    [report] = run(
        settings, Input("https://news.example.org/down", url="https://news.example.org/down")
    )

    assert report.failed and "503" in (report.error or "")


def test_index_tables_hold_the_article(simweb: SimWeb, settings: Settings) -> None:
    world = scenarios.example(simweb)
    article = read_text(world["text_file"].read_bytes(), source="example.txt")
    [report] = run(settings, Input("example.txt", article=article))

    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    [row] = list(db["articles"].rows)
    assert row["folder"] == report.folder and row["canonical_url"] == world["article_url"]
    assert db.table("posts").get(f"x:{world['aurora'].id}")["author"] == "@AuroraIntel"
    hops = list(
        db.query("select h.* from hops h join links l on l.id = h.link_id where l.kind = 'origin'")
    )
    assert [h["status"] for h in hops] == [301, 200]
    media_paths = [m["path"] for m in db["media"].rows]
    assert all(
        not Path(p).is_absolute() and (settings.archive_dir / p).is_file() for p in media_paths
    )
    assert [r["name"] for r in db["_migrations"].rows] == [m.__name__ for m in MIGRATIONS]
    db.close()


def test_folder_name_from_a_tampered_index_is_not_trusted(
    simweb: SimWeb, settings: Settings
) -> None:
    [first] = run(settings, text_input("Plain\nno links\n"))
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    db.table("articles").update(first.article_id or "", {"folder": "../../escaped"})
    db.close()

    [second] = run(settings, text_input("Plain\nno links\n"))

    assert second.folder == first.folder
    assert not (settings.archive_dir.parent.parent / "escaped").exists()


def test_article_keeps_its_id_when_its_canonical_url_is_found_later(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.page("https://news.example.org/original", "<html><title>Original</title></html>")
    simweb.fail("https://ift.tt/later01", 503, times=4)  # the first run, retries and all, fails
    text = "Later\nvia News https://ift.tt/later01\n"
    simweb.ift_tt("later01", "https://news.example.org/original")

    [first] = run(settings, text_input(text))
    [second] = run(settings, text_input(text))

    assert (
        first.canonical_url is None and second.canonical_url == "https://news.example.org/original"
    )
    assert second.article_id == first.article_id and second.folder == first.folder
    db = sqlite_utils.Database(settings.archive_dir / "index.db")
    assert db["articles"].count == 1
    db.close()


def test_media_lost_from_the_store_is_fetched_again(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 12, [Photo(100, 80)])
    run(settings, text_input(f"One\n{tweet.status_url}\n", "one.txt"))
    [stored] = [p for p in (settings.archive_dir / "media").rglob("*") if p.is_file()]
    stored.unlink()

    [second] = run(settings, text_input(f"Two\n{tweet.status_url}\n", "two.txt"))

    assert second.outcomes == {"archived": 1} and second.error is None
    assert stored.is_file()
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == tweet.files[0].sha256


def test_article_url_answering_503_once_is_tried_again_within_the_run(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.page("https://news.example.org/flaky", "<html><title>Flaky</title></html>")
    simweb.fail("https://news.example.org/flaky", 503, times=1)

    [report] = run(settings, Input("flaky", url="https://news.example.org/flaky"))

    assert report.error is None and report.title == "Flaky"
    assert [r.status for r in simweb.requests_to("news.example.org")] == [503, 200]
