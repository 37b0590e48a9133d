"""What a platform may offer besides looking its posts up, and the stages that ask for it.

Each hook is asked through the registry, so a stage never names a site: a site's captures in
web archives, its link shorteners, settings once named for it, and how `doctor` checks it.
A made-up site here shows the stages work for any platform that offers a hook, not only X.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from PIL import Image
from selectolax.lexbor import LexborNode

from embedarc import platforms
from embedarc.config import Settings, load_settings
from embedarc.footage import ytdlp
from embedarc.footage.archives import PostArchives
from embedarc.footage.collect import Collector
from embedarc.job.doctor import diagnose
from embedarc.keeping import sidecar
from embedarc.keeping.store import Store
from embedarc.model import Evidence, LinkKind, MediaKind, Outcome, PostRef
from embedarc.network.net import Net
from embedarc.platforms import (
    ArchivedForms,
    ArchivedPost,
    CaptureTarget,
    Platform,
    Post,
    PostAnswer,
    Probe,
    ServiceCheck,
    Session,
    WantedMedia,
)
from embedarc.platforms.x import PROBE_TWEET
from tests.helpers import embedarc, make_tweet, sidecar_of, text_input
from tests.helpers import run as run_articles
from tests.simweb import SimWeb, Video, wayback

ANSWER = "https://social.example/api/posts/7"
PHOTO = "https://media.social.example/7/photo.jpg"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def read_answer(body: bytes, content_type: str, archive: str) -> ArchivedPost | None:
    """The made-up site's API answer: {"id", "text", "photo"}."""
    data = json.loads(body)
    if data.get("id") != "7":
        return None
    post = Post("example", "7", "https://social.example/p/7", "@ann", None, data["text"], None)
    wanted = (WantedMedia(MediaKind.PHOTO, data["photo"], data["photo"], "image/.*"),)
    return ArchivedPost(post, wanted, "API answer", Evidence("7.archived.json", body))


@dataclass
class Example(Platform):
    """A site no stage knows, offering every optional hook."""

    site: str = "example"
    embed_selector: str = ""
    short_links: Mapping[str, LinkKind] = field(
        default_factory=lambda: MappingProxyType({"youtu.be": LinkKind.URL})
    )
    asked: list[str] = field(default_factory=list)

    probe: Probe | None = None

    def __post_init__(self) -> None:
        def ask(net: Net, ref: PostRef) -> PostAnswer:
            self.asked.append(ref.key)
            got = net.fetch(ANSWER)
            return PostAnswer(None, Outcome.for_http_status(got.status), "not there")

        self.probe = Probe(
            PostRef("example", "7", "https://social.example/p/7"),
            (ServiceCheck("example API", ask), ServiceCheck("example mirror", ask, True)),
            (("example CDN", "https://media.social.example/"),),
        )

    def claims(self, url: str) -> PostRef | None:
        return None

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        return None

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        return PostAnswer(None, Outcome.GONE, "never asked in these tests")

    def alive(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        return self.look_up(net, ref, session)

    def archived_forms(self, ref: PostRef) -> ArchivedForms:
        return ArchivedForms((CaptureTarget(ANSWER, read_answer, "application/json"),), ())

    def upgrade_sidecar(self, schema: int, data: dict[str, Any]) -> dict[str, Any]:
        """Schema 1 of this made-up site kept its posts in `example_posts`."""
        if schema != 1 or "example_posts" not in data:
            return data
        data = dict(data)
        posts = [
            {"key": f"example:{p['id']}", "site": "example", "id": p["id"], "text": p["said"]}
            for p in data.pop("example_posts")
        ]
        return {**data, "posts": [*data.get("posts", []), *posts]}


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Example]:
    """The made-up site registered beside the real ones, for one test."""
    site = Example()
    monkeypatch.setattr(platforms, "PLATFORMS", (*platforms.PLATFORMS, site))
    ytdlp.short_hosts.cache_clear()
    ytdlp.has_dedicated_extractor.cache_clear()
    yield site
    ytdlp.short_hosts.cache_clear()
    ytdlp.has_dedicated_extractor.cache_clear()


# --- archived_forms: what web archives hold of a gone post


def test_a_gone_post_of_any_site_is_read_back_from_its_capture_with_its_media(
    simweb: SimWeb, settings: Settings, example: Example
) -> None:
    sim = wayback.install(simweb)
    body = json.dumps({"id": "7", "text": "gone now", "photo": PHOTO}).encode()
    # Captured with a parameter of its own: found by prefix.
    sim.capture(f"{ANSWER}?lang=en", body, "application/json")
    sim.capture(PHOTO, jpeg(), "image/jpeg")
    simweb.fail(PHOTO, 404)
    forms = platforms.archived_forms(PostRef("example", "7", "https://social.example/p/7"))
    assert forms is not None
    store = Store(settings.archive_dir)
    store.ensure()
    with Net(settings) as net:
        collector = Collector(net, store, settings)
        archives = PostArchives(
            net, store, [], lambda url, make: make(), collector.media, 10**8, 10**8
        )
        got = archives.recover(forms)

    assert got.post is not None and got.post.text == "gone now"
    assert got.evidence is not None and got.evidence.data == body
    [photo] = got.files
    assert (photo.archive, photo.post, photo.author) == ("Wayback Machine", "example:7", "@ann")
    assert photo.original_url == PHOTO
    assert any("API answer as captured by Wayback Machine" in note for note in got.notes)


def test_only_a_site_whose_captures_are_worth_reading_offers_archived_forms() -> None:
    forms = platforms.archived_forms(PostRef("x", "20", "https://twitter.com/a/status/20"))
    bluesky = PostRef("bluesky", "3k", "https://bsky.app/profile/a.bsky.social/post/3k")

    assert platforms.archived_forms(bluesky) is None
    assert forms is not None
    # X: its API answers and page in the Wayback Machine, its pages first in TimeMaps.
    assert forms.wayback[0].url == "https://cdn.syndication.twimg.com/tweet-result?id=20"
    assert forms.wayback[-1].mimetype == "text/html"
    assert [t.url for t in forms.timemaps[:2]] == [
        "https://twitter.com/a/status/20",
        "https://x.com/a/status/20",
    ]


def test_x_reads_a_captured_status_page_into_the_files_it_names() -> None:
    forms = platforms.archived_forms(PostRef("x", "20", "https://twitter.com/a/status/20"))
    assert forms is not None
    page = (
        '<meta property="og:image" content="https://pbs.twimg.com/media/AbC.jpg:large">'
        '<meta property="og:image" content="https://pbs.twimg.com/ext_tw_video_thumb/55/pu/img/t.jpg">'
        '<meta property="og:description" content="“hello”">'
    ).encode()

    got = forms.wayback[-1].read(page, "text/html", "Wayback Machine")

    assert got is not None and got.post.key == "x:20" and got.post.text == "hello"
    photo, video = got.wanted
    assert photo.prefix == "https://pbs.twimg.com/media/AbC"
    assert photo.variants[0] == "https://pbs.twimg.com/media/AbC.jpg?name=orig"
    assert photo.rank("https://pbs.twimg.com/media/AbC.jpg?name=orig") > photo.rank(
        "https://pbs.twimg.com/media/AbC.jpg:large"
    )
    assert not photo.keep("https://pbs.twimg.com/media/AbCd.jpg")
    assert (video.url, video.prefix) == ("", "https://video.twimg.com/ext_tw_video/55/")
    big, small = "https://video.twimg.com/ext_tw_video/55/pu/vid/1280x720/a.mp4", "/320x180/"
    assert video.rank(big) > video.rank(small)


# --- upgrade_sidecar: what earlier sidecars kept of a site's posts in a shape of their own


def test_each_platform_reads_its_own_shapes_of_an_earlier_sidecar(example: Example) -> None:
    old = {
        "schema": 1,
        "article": {"id": "a1", "title": "Old"},
        "tweets": [{"id": "20", "screen_name": "ann", "text": "a tweet"}],
        "example_posts": [{"id": "7", "said": "a post"}],
        "links": [{"url": "https://twitter.com/ann/status/20", "tweet_id": "20"}],
    }

    data = sidecar.upgrade(old)

    assert data["schema"] == sidecar.SCHEMA and next(iter(data)) == "schema"
    assert [(p["key"], p["text"]) for p in data["posts"]] == [
        ("x:20", "a tweet"),
        ("example:7", "a post"),
    ]
    assert data["links"][0]["post"] == "x:20" and "tweet_id" not in data["links"][0]
    assert "tweets" in old and "example_posts" in old  # what was read is left as it was
    # A sidecar with nothing of any platform's is the same object: nothing to upgrade.
    plain = {"schema": 1, "article": {"id": "a2"}, "links": []}
    assert sidecar.upgrade(plain) is plain


# --- short_link_hosts: links that only lead elsewhere


def test_the_sites_link_shorteners_are_never_asked_of_yt_dlp() -> None:
    assert {"t.co", "pic.twitter.com"} <= platforms.short_link_hosts()
    assert not ytdlp.has_dedicated_extractor("https://t.co/AbCdE")
    assert not ytdlp.has_dedicated_extractor("https://ift.tt/3FYxYO2")


def test_a_platform_declaring_a_shortener_keeps_yt_dlp_away_from_it(example: Example) -> None:
    assert "youtu.be" in platforms.short_link_hosts()
    assert not ytdlp.has_dedicated_extractor("https://youtu.be/dQw4w9WgXcQ")
    assert ytdlp.has_dedicated_extractor("https://www.youtube.com/watch?v=dQw4w9WgXcQ")


# --- renamed_settings: former names keep their effect


def write_config(archive_dir: Path, text: str) -> None:
    archive_dir.mkdir(parents=True, exist_ok=True)
    (archive_dir / "embedarc.toml").write_text(text)


def test_former_config_key_is_read_as_the_current_setting(
    archive_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert platforms.renamed_settings() == {"fxtwitter": "third_parties"}
    write_config(archive_dir, "fxtwitter = false\n")

    with caplog.at_level(logging.WARNING, logger="embedarc.config"):
        settings = load_settings({"archive_dir": archive_dir}, env={})

    assert settings.third_parties is False
    assert "'fxtwitter' is now called 'third_parties'" in caplog.text


def test_the_current_name_wins_over_the_former_in_one_file(archive_dir: Path) -> None:
    write_config(archive_dir, "fxtwitter = false\nthird_parties = true\n")

    assert load_settings({"archive_dir": archive_dir}, env={}).third_parties is True


def test_former_variable_is_read_and_yields_to_the_flags(archive_dir: Path) -> None:
    env = {"EMBEDARC_FXTWITTER": "0"}
    assert load_settings({"archive_dir": archive_dir}, env=env).third_parties is False
    write_config(archive_dir, "third_parties = false\n")
    env = {"EMBEDARC_FXTWITTER": "1"}  # the environment beats the file, as for any setting
    assert load_settings({"archive_dir": archive_dir}, env=env).third_parties is True


@pytest.mark.parametrize("option", ["--no-third-parties", "--no-fxtwitter"])
def test_no_third_parties_and_its_former_option_never_ask_fxtwitter(
    simweb: SimWeb, archive_dir: Path, tmp_path: Path, option: str
) -> None:
    tweet = make_tweet(simweb, 23, [Video(320, 180)], syndication="missing")
    (tmp_path / "a.txt").write_text(f"t\n{tweet.status_url}\n")

    done = embedarc(archive_dir, "archive", option, str(tmp_path / "a.txt"))

    assert done.exit_code == 0, done.output
    assert simweb.requests_to("api.fxtwitter.com") == []
    deprecated = f"{option} is deprecated, use --no-third-parties"
    assert (deprecated in done.output) is (option == "--no-fxtwitter")


def test_third_parties_are_asked_by_default(simweb: SimWeb, settings: Settings) -> None:
    tweet = make_tweet(simweb, 24, [Video(320, 180)], syndication="missing")
    [report] = run_articles(settings, text_input(f"t\n{tweet.status_url}\n"))

    assert simweb.requests_to("api.fxtwitter.com") != []
    assert sidecar_of(settings.archive_dir, report)["posts"][0]["source"] == "fxtwitter"


# --- probe: how `doctor` checks a site


def test_doctor_asks_every_platform_that_offers_a_probe(
    simweb: SimWeb, settings: Settings, example: Example
) -> None:
    wayback.install(simweb)
    simweb.fail(ANSWER, 404)

    findings = {f.name: f for f in diagnose(settings)}

    assert example.asked == ["example:7", "example:7"]
    assert not findings["example API"].ok
    assert (
        "no answer for https://social.example/p/7, which exists" in findings["example API"].detail
    )
    assert "example CDN" in findings
    # X's probe: its services know the tweet that exists, its hosts are reachable.
    assert findings["syndication API"].ok and findings["fxtwitter"].ok and findings["t.co"].ok
    asked = [r.url for r in simweb.requests_to("cdn.syndication.twimg.com")]
    assert any(PROBE_TWEET in url for url in asked)


def test_doctor_asks_no_third_party_when_they_may_not_be_asked(
    simweb: SimWeb, settings: Settings, example: Example
) -> None:
    wayback.install(simweb)

    findings = {f.name for f in diagnose(settings.with_updates(third_parties=False))}

    assert example.asked == ["example:7"]
    assert {"syndication API", "example API"} <= findings
    assert not findings & {"fxtwitter", "example mirror"}
    assert simweb.requests_to("api.fxtwitter.com") == []


def test_a_service_trickling_its_answer_holds_doctor_for_the_timeout_at_most(
    simweb: SimWeb, settings: Settings
) -> None:
    """An answer sent a byte at a time, each byte well inside --timeout, is cut off once the
    whole exchange has taken --timeout, not --max-download-time (an hour by default)."""
    from embedarc.footage.wayback import AVAILABILITY_URL

    wayback.install(simweb)
    simweb.fault(AVAILABILITY_URL, "trickle", chunk=1, interval=0.1, limit=60)

    findings = {f.name: f for f in diagnose(settings.with_updates(timeout=1.0))}

    assert not findings["Wayback Machine"].ok
    assert "--max-download-time" in findings["Wayback Machine"].detail
