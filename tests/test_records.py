"""The unit of work travels: a link and everything that happened to it, as JSON and back."""

from __future__ import annotations

import json

from embedarc import records
from embedarc.model import (
    Evidence,
    Hop,
    Link,
    LinkKind,
    LinkResult,
    MediaFile,
    MediaKind,
    Outcome,
    Post,
    PostMedia,
    Resolution,
    Stop,
    Via,
)


def rich_result() -> LinkResult:
    original = Post(
        site="x",
        id="8",
        url="https://twitter.com/b/status/8",
        author="@b",
        author_name="B",
        text="orig \u2603",
        created_at="2024-03-01T12:00:00Z",
        media=(PostMedia("https://pbs.twimg.com/media/a.jpg", MediaKind.PHOTO, 640, 480),),
        quoted=Post("x", "7", "https://twitter.com/c/status/7", None, None, "", None),
    )
    post = Post(
        site="x",
        id="9",
        url="https://twitter.com/a/status/9",
        author="@a",
        author_name="A",
        text="rt",
        created_at=None,
        reposted=original,
        source="graphql",
        card="summary",
    )
    media = MediaFile(
        sha256="ab" * 32,
        size=10,
        mime="video/mp4",
        path="media/ab/" + "ab" * 32 + ".mp4",
        source_url="https://video.twimg.com/v.mp4",
        fetched_at="2024-03-01T12:00:01Z",
        width=640,
        height=360,
        duration=2.0,
        headers={"content-type": "video/mp4"},
        post="x:8",
        kind=MediaKind.VIDEO,
    )
    return LinkResult(
        link=Link("https://t.co/abc", LinkKind.TCO, raw="t.co/abc", post=None),
        outcome=Outcome.ARCHIVED,
        resolution=Resolution(
            url="https://t.co/abc",
            hops=(
                Hop("https://t.co/abc", 301, "https://twitter.com/a/status/9", "t", via=Via.HTTP),
            ),
            final_url="https://twitter.com/a/status/9",
            stop=Stop.POST,
            status=301,
        ),
        reason=None,
        media=(media,),
        evidence=(Evidence("9.x.json", b"\x00\xff{binary}"),),
        extra={"retry_after": "120"},
        post=post,
    )


def test_a_link_result_survives_json_whole() -> None:
    result = rich_result()

    raw = records.dumps(result)
    back = records.loads(LinkResult, raw)

    assert json.loads(raw)["resolution"]["stop"] == "post"  # plain JSON: enums as values
    assert back == result
    assert back.extra == result.extra and back.media[0].headers == result.media[0].headers
    assert isinstance(back.outcome, Outcome) and isinstance(back.resolution.stop, Stop)  # type: ignore[union-attr]
    assert back.post is not None and back.post.reposted is not None
    assert back.post.reposted.quoted == result.post.reposted.quoted  # type: ignore[union-attr]
    assert isinstance(back.media, tuple) and isinstance(back.post.reposted.media, tuple)
    assert back.evidence[0].data == b"\x00\xff{binary}"


def test_a_bare_failure_survives_json() -> None:
    result = LinkResult(Link("https://example.org/a", LinkKind.URL), Outcome.FAILED, reason="x")

    assert records.loads(LinkResult, records.dumps(result)) == result


def test_a_failure_says_its_kind_where_it_happened_not_in_its_text() -> None:
    from embedarc.errors import FetchFailed, NetworkError
    from embedarc.footage.collect import failure_kind
    from embedarc.model import Failure

    assert failure_kind(FetchFailed("HTTP 503 (it says 429)", status=503)) is Failure.SERVER_ERROR
    assert failure_kind(FetchFailed("slow down", status=429)) is Failure.RATE_LIMITED
    assert failure_kind(FetchFailed("a web page where media was expected")) is Failure.BAD_ANSWER
    assert failure_kind(NetworkError("HTTP 429 in a message")) is Failure.NETWORK
    assert Failure.for_status(403) is Failure.HTTP_ERROR
