"""Each distinct link is resolved once per run, however many articles of the run carry it."""

from __future__ import annotations

from embedarc.config import Settings
from tests.helpers import link_entry, run, sidecar_of, text_input
from tests.simweb import SimWeb
from tests.simweb import mastodon as sim
from tests.simweb.mastodon import Attachment
from tests.simweb.media import make_jpeg


def test_a_short_link_shared_by_articles_is_asked_once(simweb: SimWeb, settings: Settings) -> None:
    simweb.file("https://media.example/clip.jpg", make_jpeg(64, 48, 5), "image/jpeg")
    short = simweb.ift_tt("clip1", "https://media.example/clip.jpg")
    articles = [text_input(f"Story {n}\n\nFootage: {short}\n", f"story{n}.txt") for n in range(4)]

    reports = run(settings, *articles)

    assert len(simweb.requests_to("ift.tt")) == 1
    for report in reports:
        assert link_entry(sidecar_of(settings.archive_dir, report), short)["outcome"] == "archived"


def test_a_post_link_shared_by_articles_is_followed_once(
    simweb: SimWeb, settings: Settings
) -> None:
    world = sim.install(simweb)
    world.instance("social.example")
    post = world.status("social.example", "alice", [Attachment("image", 64, 48)])
    short = simweb.ift_tt("post1", post.url)
    first = text_input(f"Story one\n\nSeen here: {short}\n", "one.txt")
    second = text_input(f"Story two\n\nAlso: {short}\n", "two.txt")

    one, two = run(settings, first, second)

    assert len(simweb.requests_to("ift.tt")) == 1
    for report in (one, two):
        entry = link_entry(sidecar_of(settings.archive_dir, report), short)
        assert entry["outcome"] == "archived" and entry["post"] == post.key


def test_a_link_that_failed_is_asked_again_within_the_run(
    simweb: SimWeb, settings: Settings
) -> None:
    simweb.file("https://media.example/clip.jpg", make_jpeg(64, 48, 5), "image/jpeg")
    short = simweb.ift_tt("flaky", "https://media.example/clip.jpg")
    simweb.fail(short, 503, times=1)

    [report] = run(settings, text_input(f"Story\n\nFootage: {short}\n"))

    assert len(simweb.requests_to("ift.tt")) == 2  # the failure was not remembered
    assert link_entry(sidecar_of(settings.archive_dir, report), short)["outcome"] == "archived"
