"""The unit of work travels: a link and everything that happened to it, as JSON and back."""

from __future__ import annotations

import json

from embedarc import records
from embedarc.model import (
    Link,
    LinkKind,
    LinkResult,
    Outcome,
    Stop,
)
from tests.helpers import rich_result


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
