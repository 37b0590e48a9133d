"""A capture of a gone tweet's answer is a stranger's bytes: read as hostile, never a crash."""

from __future__ import annotations

from embedarc.config import Settings
from tests.helpers import link_entry, make_tweet, run, sidecar_of, text_input
from tests.simweb import Photo, SimWeb, wayback


def test_a_captured_answer_nested_past_the_recursion_limit_is_no_answer(
    simweb: SimWeb, settings: Settings
) -> None:
    sim = wayback.install(simweb)
    tweet = make_tweet(
        simweb, 63, [Photo(90, 60)], syndication="missing", fxtwitter="missing", graphql="tombstone"
    )
    deep = b"[" * 200_000 + b"]" * 200_000
    sim.capture(
        f"https://cdn.syndication.twimg.com/tweet-result?id={tweet.id}&token=x",
        deep,
        "application/json",
    )

    [report] = run(settings, text_input(f"Deleted\n{tweet.status_url}\n"))

    entry = link_entry(sidecar_of(settings.archive_dir, report), tweet.status_url)
    assert entry["outcome"] == "gone"
