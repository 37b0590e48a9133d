"""An archive made by the previous release (0.1.0) opens with this one, losing nothing.

`tests/fixtures/archive-0.1.0/` was made by that release from the bundled example; here a copy
is read, migrated, verified, rebuilt and archived into again by the current code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from embedarc.keeping.sidecar import upgrade
from embedarc.upkeep.verify import verify
from tests.helpers import PREVIOUS_RELEASE, embedarc
from tests.simweb import SimWeb, scenarios

DERIVED = ("articles", "links", "hops", "posts", "media", "media_sources", "link_media")
# The tables 0.1.0 wrote, less the columns the migrations turn into others (tweet_id -> post).
KEPT = ("articles", "links", "hops", "media", "media_sources", "link_media")


def rows(archive: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(archive / "index.db") as db:
        columns = [c[1] for c in db.execute(f"pragma table_info([{table}])")]
        old = [c for c in columns if c not in ("post", "tweet_id")]
        return sorted(db.execute(f"select {', '.join(old)} from [{table}]"))


def query(archive: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(archive / "index.db") as db:
        return sorted(db.execute(sql))


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(PREVIOUS_RELEASE, archive, ignore=shutil.ignore_patterns("PROVENANCE.md"))
    return archive


def sidecar(archive: Path) -> dict[str, Any]:
    [path] = (archive / "articles").glob("*/article.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_previous_releases_archive_is_migrated_keeping_every_row(old_archive: Path) -> None:
    before = {table: rows(old_archive, table) for table in KEPT}
    tweets = query(
        old_archive, "select id, screen_name, name, text, created_at, source, quoted_id from tweets"
    )
    link_tweets = query(old_archive, "select id, tweet_id from links where tweet_id is not null")
    media_tweets = query(
        old_archive, "select link_id, sha256, tweet_id from link_media where tweet_id is not null"
    )
    assert tweets and link_tweets and media_tweets

    done = embedarc(old_archive, "status", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["articles"] == 1 and report["links"] == {"archived": 5}
    assert {table: rows(old_archive, table) for table in KEPT} == before
    # Tweets became posts of the site x, every field kept; links and files name them as posts.
    posts = query(
        old_archive,
        "select id, author, author_name, text, created_at, source, quoted, site, key, url"
        " from posts",
    )
    assert posts == [
        (i, f"@{sn}", name, text, at, src, f"x:{q}" if q else None, "x", f"x:{i}",
         f"https://twitter.com/{sn}/status/{i}")
        for i, sn, name, text, at, src, q in tweets
    ]  # fmt: skip
    assert query(old_archive, "select id, post from links where post is not null") == [
        (link, f"x:{tweet}") for link, tweet in link_tweets
    ]
    assert query(
        old_archive, "select link_id, sha256, post from link_media where post is not null"
    ) == [(link, sha, f"x:{tweet}") for link, sha, tweet in media_tweets]
    with sqlite3.connect(old_archive / "index.db") as db:
        applied = {name for (name,) in db.execute("select name from _migrations")}
        tables = {name for (name,) in db.execute("select name from sqlite_master")}
    assert {"m003_source_item_retries", "m004_posts", "m005_tweets_as_posts"} <= applied
    assert "tweets" not in tables


def test_the_previous_releases_archive_is_sound_and_rebuilds_to_the_same_rows(
    old_archive: Path,
) -> None:
    assert verify(old_archive).sound
    embedarc(old_archive, "status")  # migrated
    before = {table: rows(old_archive, table) for table in DERIVED}

    done = embedarc(old_archive, "rebuild-index")

    assert done.exit_code == 0, done.output
    assert {table: rows(old_archive, table) for table in DERIVED} == before
    assert verify(old_archive).sound


def test_archiving_the_same_article_again_asks_nothing_and_loses_nothing(
    simweb: SimWeb, old_archive: Path, tmp_path: Path
) -> None:
    world = scenarios.example(simweb)
    old = sidecar(old_archive)
    simweb.clear_requests()

    done = embedarc(old_archive, "archive", str(world["text_file"]))

    assert done.exit_code == 0, done.output
    media_hosts = {"pbs.twimg.com", "video.twimg.com", "cdn.syndication.twimg.com"}
    assert [r.url for r in simweb.requests if r.host in media_hosts] == []
    new = sidecar(old_archive)
    assert [e["url"] for e in new["links"]] == [e["url"] for e in old["links"]]
    assert {m["sha256"] for m in new["media"]} == {m["sha256"] for m in old["media"]}
    assert verify(old_archive).sound


def test_archiving_an_old_article_again_writes_its_tweets_as_posts(
    simweb: SimWeb, old_archive: Path
) -> None:
    world = scenarios.example(simweb)
    old = sidecar(old_archive)
    assert old["schema"] == 1 and old["tweets"]

    assert embedarc(old_archive, "archive", str(world["text_file"])).exit_code == 0

    new = sidecar(old_archive)
    assert new["schema"] == 2 and "tweets" not in new
    assert {p["key"] for p in new["posts"]} >= {f"x:{t['id']}" for t in old["tweets"]}
    assert all("tweet_id" not in e for e in new["links"] + new["media"])
    cited = {e["tweet_id"] for e in old["links"] if e.get("tweet_id")}
    assert {e["post"] for e in new["links"] if e.get("post")} == {f"x:{t}" for t in cited}


def test_a_schema_1_sidecar_reads_as_posts_losing_nothing() -> None:
    old = {
        "schema": 1,
        "article": {"id": "a"},
        "links": [{"id": "l", "tweet_id": "9", "media": [{"sha256": "s", "tweet_id": "8"}]}],
        "media": [{"sha256": "s", "tweet_id": "8", "author": "@b"}],
        "tweets": [
            {"id": "9", "screen_name": "a", "name": "A", "text": "rt", "created_at": "t",
             "source": "syndication", "quoted_id": None, "media": [], "retweeted_id": "8",
             "url": "https://twitter.com/a/status/9"},
            {"id": "8", "screen_name": "b", "name": "B", "text": "orig", "created_at": "u",
             "source": "syndication", "quoted_id": "7", "media": [{"kind": "photo", "url": "p"}],
             "url": "https://twitter.com/b/status/8"},
        ],
    }  # fmt: skip

    new = upgrade(old)

    assert new["schema"] == 2 and "tweets" not in new and old["tweets"]  # the input is kept
    assert new["links"] == [{"id": "l", "post": "x:9", "media": [{"sha256": "s", "post": "x:8"}]}]
    assert new["media"] == [{"sha256": "s", "author": "@b", "post": "x:8"}]
    retweet, original = new["posts"]
    assert (retweet["key"], retweet["author"], retweet["reposted"]) == ("x:9", "@a", "x:8")
    assert (original["quoted"], original["media"]) == ("x:7", [{"kind": "photo", "url": "p"}])
    assert upgrade(new) == new
