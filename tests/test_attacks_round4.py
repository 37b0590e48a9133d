"""Attacks on what changed with the platform interface and the typed sidecar: the registry's
reading hooks, web archives' captured answers, renamed settings, doctor's probes, the typed
sidecar record, manifests and TSA roots, as a hostile stranger would mount them: the author
of an article, a server a look-up asks, or a hand that edited a file of the archive.

Every attack that first got through is closed and stays here as a regression test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization

from embedarc.config import Settings
from embedarc.evidence import timestamps
from embedarc.model import LinkKind
from embedarc.platforms.x import embeds
from embedarc.platforms.x.urls import is_status_url
from embedarc.reading import content
from embedarc.reading.articles import read_html
from embedarc.reading.links import html_links
from tests.helpers import (
    archive_text,
    article_folder,
    embedarc,
    html_input,
    link_entry,
    make_tweet,
    run,
    run_cpu_limited,
    sidecar_of,
    text_input,
)
from tests.simweb import Photo, SimWeb, Video, wayback
from tests.simweb import mastodon as masto
from tests.simweb.twitter_json import fxtwitter_json, syndication_json


@pytest.fixture
def plain_article(archive_dir: Path, tmp_path: Path) -> Path:
    """An article without links (nothing is fetched): its folder."""
    archive_text(archive_dir, tmp_path, "a.txt", "Plain story\nno links in it\n")
    return article_folder(archive_dir, "Plain story")


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


# -- the registry's reading hooks -----------------------------------------------------------


def test_nested_tweet_blockquotes_cost_work_in_proportion_to_their_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each blockquote read every link beneath it, its nested ones' too: 300 nested quotes
    # over 300 links were 45,000 checks, and a 20 MB page could keep a core busy for hours.
    checked = 0

    def counting(url: str) -> bool:
        nonlocal checked
        checked += 1
        return is_status_url(url)

    monkeypatch.setattr(embeds, "is_status_url", counting)
    depth = 300
    quote = '<blockquote class="twitter-tweet"><p>text</p>— Name (@name{n}) <a href="{url}">x</a>'
    page = "<html><body><article><p>" + "words " * 50 + "</p>"
    for n in range(depth):
        page += quote.format(n=n, url=f"https://twitter.com/name{n}/status/{n + 1}")
    page += "</blockquote>" * depth + "</article></body></html>"

    found = html_links(page, base_url="https://news.example/a")

    assert checked <= 4 * depth, checked  # linear in the page, not quadratic
    assert len(found.links) == depth
    first = found.links[0]
    assert first.url == "https://twitter.com/name0/status/1"
    # Each quote is its own tweet's embed, with its own byline.
    assert first.attribution == "— Name (@name0) x"
    assert {link.kind for link in found.links} == {LinkKind.TWEET_EMBED}


def test_nested_asides_beside_embeds_cost_work_in_proportion_to_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An <aside> in the article is kept when it holds an embed: each nested one searched its
    # whole subtree again, asking every element the embed selectors match (here 2,000 that
    # name no post) whether it embeds one: 100 asides took a minute, 500 would take hours.
    asked = 0
    real = content.is_embed

    def counting(node: Any) -> bool:
        nonlocal asked
        asked += 1
        return real(node)

    monkeypatch.setattr(content, "is_embed", counting)
    depth, decoys = 100, 2000
    tweet = '<blockquote class="twitter-tweet"><p>t</p><a href="https://x.com/a/status/7">l</a>'
    page = "<html><body><article><p>" + "words " * 80 + "</p>" + "<aside>" * depth
    page += '<span data-tweet-id="none">x</span>' * decoys + tweet + "</blockquote>"
    page += "</aside>" * depth + "</article></body></html>"

    article = read_html(page.encode(), source="p.html")

    assert [link.url for link in article.links] == ["https://twitter.com/a/status/7"]
    assert asked <= 20 * decoys, asked  # linear in the page, not in its size times its depth


def test_a_long_line_after_a_byline_dash_costs_linear_time() -> None:
    # A hang guard, not a measure of speed: the byline pattern backtracked over blanks in the
    # square of the line's length (40,000 blanks: 3.6 s; this line: about 40 minutes); the
    # CPU limit sits far from both.
    script = (
        "from embedarc.reading.articles import read_text\n"
        "dash, blanks = '\u2014', ' ' * 1_000_000\n"
        "lines = ['Story', 'https://twitter.com/name/status/5', dash + ' (@name)' + blanks + 'x',\n"
        "         'https://twitter.com/other/status/6', dash + blanks + 'no handle']\n"
        "article = read_text('\\n'.join(lines).encode(), source='a.txt')\n"
        "print([(link.attribution or '').endswith('(@name) x') for link in article.links])\n"
    )

    done = run_cpu_limited(script)

    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert done.stdout.strip() == "[True, False]"


def test_a_nodeinfo_schema_version_of_absurd_length_is_no_internal_error(
    simweb: SimWeb, settings: Settings
) -> None:
    # The nodeinfo index's schema versions are compared as numbers: one of 5,000 digits is more
    # than int() takes, and the ValueError made the post's look-up an internal error.
    sim = masto.install(simweb)
    host = sim.instance("huge.example.net")
    status = sim.status(host, "alice", [masto.Attachment("image", 64, 48)])
    rel = "http://nodeinfo.diaspora.software/ns/schema/2." + "9" * 5000
    index = {"links": [{"rel": rel, "href": f"https://{host}/nodeinfo/huge"}]}
    simweb.json(f"https://{host}/.well-known/nodeinfo", index)

    [report] = run(settings, text_input(f"Toot\n{status.url}\n"))
    entry = link_entry(sidecar_of(settings.archive_dir, report), status.url)

    assert "internal error" not in str(entry.get("reason")), entry
    assert entry["outcome"] == "archived", entry


def test_interstitials_nested_past_the_hop_limit_end_at_it(
    simweb: SimWeb, settings: Settings
) -> None:
    # Each interstitial unwrapped is a hop made without a request, and none counted against
    # the hop limit: a link of 340 nested ones (20 KB) recorded 340 hops, each with its URL,
    # so a 1 MB link would hold gigabytes in memory and in article.json.
    interstitial = "https://twitter.com/safety/unsafe_link_warning?unsafe_link="
    url = interstitial * 340 + "https://media.example.org/clip.mp4"
    body = f'<html><body><article><p>Story</p><a href="{url}">clip</a></article></body></html>'

    [report] = run(settings, html_input(body))
    sidecar = sidecar_of(settings.archive_dir, report)

    [entry] = sidecar["links"]
    assert len(entry["resolution"]["hops"]) <= settings.max_hops + 1, len(
        entry["resolution"]["hops"]
    )
    assert entry["resolution"]["stop"] == "hop_limit", entry["resolution"]["stop"]
    assert simweb.requests_to("media.example.org") == []


# -- web archives' captures ----------------------------------------------------------------


def test_a_captured_answer_naming_a_whole_host_as_a_video_takes_no_other_video(
    simweb: SimWeb, settings: Settings
) -> None:
    # A gone tweet's captured answer names "https://video.twimg.com/" as its video: every
    # capture under that prefix was taken, and another tweet's video recorded as this one's.
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb, 401, [Video(hls=False)], syndication="missing", fxtwitter="missing",
        graphql="tombstone",
    )  # fmt: skip
    other = make_tweet(simweb, 402, [Video(hls=False)])
    answer = syndication_json(tweet)
    for variant in answer["mediaDetails"][0]["video_info"]["variants"]:
        variant["url"] = "https://video.twimg.com/"
    sim.capture(
        f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}&token=x",
        json.dumps(answer).encode(),
        "application/json",
    )
    elsewhere = other.files[0]
    sim.capture(elsewhere.url, elsewhere.data, "video/mp4")
    simweb.fail(elsewhere.url, 404)

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))
    sidecar = sidecar_of(settings.archive_dir, report)

    assert elsewhere.sha256 not in {m["sha256"] for m in sidecar["media"]}
    entry = link_entry(sidecar, tweet.status_url)
    assert urlsplit(elsewhere.url).path not in json.dumps(entry)


def test_a_capture_whose_url_names_absurd_dimensions_is_ranked_not_a_crash(
    simweb: SimWeb, settings: Settings
) -> None:
    # Captures of a video are ranked by the size in their URL: a number longer than Python
    # turns into an int (4,300 digits) made the whole look-up an internal error.
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb, 404, [Video(hls=False)], syndication="missing", fxtwitter="missing",
        graphql="tombstone",
    )  # fmt: skip
    video_id = "1763534561473490999"
    page = (
        '<html><head><meta property="og:image" content="https://pbs.twimg.com/'
        f'ext_tw_video_thumb/{video_id}/pu/img/a.jpg"></head><body></body></html>'
    )
    sim.capture(tweet.status_url, page.encode(), "text/html")
    folder = f"https://video.twimg.com/ext_tw_video/{video_id}/pu/vid"
    mp4 = tweet.files[0]
    sim.capture(f"{folder}/{'9' * 5000}x1/absurd.mp4", mp4.data, "video/mp4")
    sim.capture(f"{folder}/640x360/sane.mp4", mp4.data, "video/mp4", "20220104101300")

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))
    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)

    assert "internal error" not in str(entry.get("reason")), entry
    assert entry["outcome"] == "archived_from_wayback", entry


def test_a_captured_answer_naming_media_off_x_is_not_fetched(
    simweb: SimWeb, settings: Settings
) -> None:
    # A memento of a gone tweet's answer (an archive's copy, from any TimeMap source) named
    # a photo on another host: it was fetched live, telling that host who archives the tweet,
    # and whatever it served recorded as the tweet's photo.
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb, 405, [Photo(64, 48)], syndication="missing", fxtwitter="missing",
        graphql="tombstone",
    )  # fmt: skip
    answer = syndication_json(tweet)
    answer["mediaDetails"][0]["media_url_https"] = "https://tracker.example/beacon.jpg"
    sim.capture(
        f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}&token=x",
        json.dumps(answer).encode(),
        "application/json",
    )
    simweb.file("https://tracker.example/beacon.jpg", tweet.files[0].data, "image/jpeg")

    run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    assert simweb.requests_to("tracker.example") == []


@pytest.mark.parametrize("where", ["live", "captured"])
def test_a_tweet_naming_thousands_of_photos_has_its_media_capped(
    simweb: SimWeb, settings: Settings, where: str
) -> None:
    # An answer may list any number of media (X allows 4 a tweet): each was asked for, live
    # and then in every web archive, as Bluesky, Mastodon and Telegram posts no longer are.
    sim = wayback.install(simweb)
    gone = {"syndication": "missing", "fxtwitter": "missing", "graphql": "tombstone"}
    tweet = make_tweet(simweb, 403, [Photo(64, 48)], **(gone if where == "captured" else {}))
    answer = syndication_json(tweet)
    photo = answer["mediaDetails"][0]
    answer["mediaDetails"] = [
        {**photo, "media_url_https": f"https://pbs.twimg.com/media/Many{n:05d}.jpg"}
        for n in range(1000)
    ]
    if where == "live":
        simweb.json(f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}", answer)
    else:
        sim.capture(
            f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}&token=x",
            json.dumps(answer).encode(),
            "application/json",
        )
        # Still on the CDN: each photo is one request, not a search of every archive.
        for n in range(1000):
            for path in (f"Many{n:05d}", f"Many{n:05d}.jpg"):
                simweb.file(
                    f"https://pbs.twimg.com/media/{path}", tweet.files[0].data, "image/jpeg"
                )

    [report] = run(settings, text_input(f"Many\n{tweet.status_url}\n"))

    assert report.error is None, report.error
    asked = {r.path for r in simweb.requests_to("pbs.twimg.com") if "/media/Many" in r.path}
    assert 0 < len(asked) <= 64, len(asked)  # the cap every platform keeps


# -- the typed sidecar record ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["show"], ["verify"], ["report"], ["rebuild-index"], ["export", "--wacz"]]
)
def test_a_sidecar_nested_past_the_recursion_limit_is_unreadable_not_a_traceback(
    archive_dir: Path, tmp_path: Path, plain_article: Path, command: list[str]
) -> None:
    sidecar = plain_article / "article.json"
    text = sidecar.read_text()
    sidecar.write_text(text[:-2] + ', "later": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    args = [*command]
    if command == ["show"]:
        args.append(plain_article.name)
    if command[0] == "export":
        args += [plain_article.name, "-o", str(tmp_path / "out.wacz")]

    done = embedarc(archive_dir, *args)  # catch_exceptions=False: a traceback fails here

    assert "Traceback" not in done.output
    assert "RecursionError" not in done.output


def test_archiving_again_over_a_sidecar_with_a_deeply_nested_key_is_no_internal_error(
    archive_dir: Path, tmp_path: Path, plain_article: Path
) -> None:
    # Deep enough that writing it back recurses past Python's limit, shallow enough to parse.
    sidecar = plain_article / "article.json"
    data = json.loads(sidecar.read_text())
    data["later"] = _nested(900)
    sidecar.write_text(json.dumps(data))

    done = embedarc(archive_dir, "archive", str(tmp_path / "a.txt"))

    assert done.exit_code == 0, done.output
    assert "internal error" not in done.output
    assert json.loads(sidecar.read_text())["article"]["title"] == "Plain story"


def test_show_reads_a_schema_1_sidecar_with_deeply_nested_media_without_a_traceback(
    archive_dir: Path, plain_article: Path
) -> None:
    sidecar = plain_article / "article.json"
    data = json.loads(sidecar.read_text())
    entry: dict[str, Any] = {"sha256": "ab"}
    for _ in range(450):
        entry = {"media": [entry]}
    entry.update(url="https://a.example/x", outcome="gone", tweet_id="5")
    data.update(schema=1, tweets=[], links=[entry])
    sidecar.write_text(json.dumps(data))

    done = embedarc(archive_dir, "show", plain_article.name)

    assert "Traceback" not in done.output


# -- manifests and TSA roots ----------------------------------------------------------------


def test_a_broken_certificate_block_does_not_swallow_the_next_tsa_root(tmp_path: Path) -> None:
    # A block that lost its END line ran on to the next certificate's: the good certificate
    # after it was read as part of the broken one and left out. Such blocks were also read in
    # the square of their number (20,000 of them, 660 KB: 40 s of CPU).
    import certifi

    bundle = Path(certifi.where()).read_bytes()
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    good = bundle[bundle.index(begin) : bundle.index(end) + len(end)]
    path = tmp_path / "roots.pem"
    path.write_bytes(begin + b"\nMIIB\n" + good + b"\n")

    [root] = timestamps.load_roots(path)

    assert root.public_bytes(serialization.Encoding.PEM).strip() == good.strip()


def test_media_a_third_party_names_off_xs_hosts_is_not_fetched(
    simweb: SimWeb, settings: Settings
) -> None:
    # fxtwitter is asked when X's syndication API has no answer; what it says a tweet holds
    # was fetched whatever the host: a photo on another host would be asked (told who archives
    # the tweet) and kept as the tweet's footage.
    tweet = make_tweet(simweb, 406, [Photo(64, 48)], syndication="missing")
    answer = fxtwitter_json(tweet)
    real = answer["tweet"]["media"]["photos"][0]
    answer["tweet"]["media"]["photos"] = [
        {**real, "url": "https://tracker.example/beacon.jpg"},
        real,
    ]
    simweb.json(f"https://api.fxtwitter.com/{tweet.screen_name}/status/{tweet.id}", answer)
    simweb.file("https://tracker.example/beacon.jpg", tweet.files[0].data, "image/jpeg")

    [report] = run(settings, text_input(f"Third party\n{tweet.status_url}\n"))

    assert simweb.requests_to("tracker.example") == []
    assert [r.path for r in simweb.requests_to("api.fxtwitter.com")]  # it was asked
    data = sidecar_of(settings.archive_dir, report)
    [kept] = data["media"]  # the photo on X's own host, not the other
    assert kept["sha256"] == tweet.files[0].sha256
    assert kept["source_url"].startswith("https://pbs.twimg.com/media/")
