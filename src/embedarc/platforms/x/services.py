"""Tweets without login: the syndication API, then fxtwitter (then X's GraphQL API, graphql.py;
yt-dlp is the last resort).

Each answer is kept as evidence, whatever it said.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...clock import from_epoch, iso
from ...errors import NetworkError
from ...model import Evidence, Failure, MediaKind, Outcome
from .tweet import Tweet, TweetMedia
from .urls import media_url, on_media_host

if TYPE_CHECKING:
    from ...network.net import Fetched, Net

SYNDICATION_URL = "https://cdn.syndication.twimg.com/tweet-result"
FXTWITTER_URL = "https://api.fxtwitter.com"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def syndication_token(tweet_id: str) -> str:
    """JavaScript's `((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')`."""
    value = (int(tweet_id) / 1e15) * math.pi
    whole = int(value)
    frac = value - whole
    # As V8's DoubleToRadixCString: emit digits only while they are significant.
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    digits: list[int] = []
    if frac >= delta:
        while True:
            frac *= 36
            delta *= 36
            digit = int(frac)
            digits.append(digit)
            frac -= digit
            if (frac > 0.5 or (frac == 0.5 and digit & 1)) and frac + delta > 1:
                # Round up, carrying into earlier digits.
                i = len(digits) - 1
                while True:
                    if i < 0:
                        whole += 1
                        break
                    digits[i] += 1
                    if digits[i] < 36:
                        break
                    digits.pop()
                    i -= 1
                break
            if frac < delta:
                break
    head = ""
    while whole:
        whole, digit = divmod(whole, 36)
        head = _DIGITS[digit] + head
    tail = "".join(_DIGITS[d] for d in digits)
    return re.sub(r"0+|\.", "", (head or "0") + ("." + tail if tail else ""))


@dataclass(frozen=True)
class Answer:
    """What one service said about one tweet."""

    service: str
    tweet: Tweet | None = None
    verdict: Outcome | None = None  # GONE / LOGIN_REQUIRED / FAILED when no tweet
    reason: str | None = None
    evidence: Evidence | None = None
    retry_after: str | None = None
    final: bool = False  # the verdict is X's own word (deleted, suspended): no one else to ask
    failure: Failure | None = None  # what kind, for a `failed` verdict (else a bad answer)

    @property
    def kind(self) -> Failure | None:
        """What kind of failure a `failed` verdict is; None for any other."""
        if self.verdict is not Outcome.FAILED:
            return None
        return self.failure or Failure.BAD_ANSWER


def _dims(url: str) -> tuple[int, int]:
    m = re.search(r"/(\d+)x(\d+)/", url)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def best_variant(variants: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(best progressive mp4 URL, HLS master URL): largest W×H in the path, then bitrate."""
    progressive: list[tuple[int, int, str]] = []
    hls = None
    for v in variants:
        url = v.get("url") or v.get("src")
        ctype = (v.get("content_type") or v.get("type") or v.get("container") or "").lower()
        if not url:
            continue
        if "mpegurl" in ctype or ".m3u8" in url:
            hls = hls or url
            continue
        w, h = _dims(url)
        progressive.append((w * h, int(v.get("bitrate") or v.get("bit_rate") or 0), url))
    best = max(progressive)[2] if progressive else None
    return best, hls


def _iso(created: str | None) -> str | None:
    if not created:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%a %b %d %H:%M:%S %z %Y"):
        try:
            parsed = datetime.strptime(created, fmt)
        except ValueError:
            continue
        return iso(parsed)
    return created


def media_items(entries: list[dict[str, Any]]) -> list[TweetMedia]:
    """Photos at name=orig, the best progressive file of each video and GIF.

    The syndication API's `mediaDetails` and GraphQL's `extended_entities.media` list media
    in the same shape.
    """
    media: list[TweetMedia] = []
    for item in entries:
        kind = item.get("type")
        info = item.get("original_info") or {}
        w, h = info.get("width"), info.get("height")
        if kind == "photo" and item.get("media_url_https"):
            media.append(TweetMedia(MediaKind.PHOTO, media_url(item["media_url_https"]), w, h))
        elif kind in ("video", "animated_gif"):
            video = item.get("video_info") or {}
            best, hls = best_variant(video.get("variants") or [])
            millis = video.get("duration_millis")
            if best or hls:
                media.append(
                    TweetMedia(
                        MediaKind.GIF if kind == "animated_gif" else MediaKind.VIDEO,
                        best or hls or "",
                        w,
                        h,
                        millis / 1000 if millis else None,
                        hls_url=hls,
                    )
                )
    return media


# Quotes of quotes kept: a real tweet quotes one that may quote one more; an answer nesting
# hundreds of them is hostile, and reading it must not run out of stack.
MAX_QUOTE_DEPTH = 4


def parse_syndication(data: dict[str, Any], depth: int = 0) -> Tweet:
    media = media_items(data.get("mediaDetails") or [])
    user = data.get("user") or {}
    quoted = data.get("quoted_tweet") if depth < MAX_QUOTE_DEPTH else None
    return Tweet(
        id=str(data.get("id_str") or ""),
        screen_name=user.get("screen_name"),
        name=user.get("name"),
        text=data.get("text") or data.get("full_text") or "",
        created_at=_iso(data.get("created_at")),
        media=tuple(media),
        quoted=parse_syndication(quoted, depth + 1)
        if isinstance(quoted, dict) and quoted.get("id_str")
        else None,
        source="syndication",
    )


def parse_fxtwitter(data: dict[str, Any], depth: int = 0) -> Tweet:
    """A tweet as fxtwitter tells it. fxtwitter is a third party: of the media it names, only
    files on X's own media hosts are taken (any other host would be asked, told who archives
    the tweet, and what it served kept as the tweet's footage)."""
    media: list[TweetMedia] = []
    found = data.get("media") or {}
    for photo in found.get("photos") or []:
        if isinstance(photo.get("url"), str) and on_media_host(photo["url"]):
            media.append(
                TweetMedia(
                    MediaKind.PHOTO,
                    media_url(photo["url"]),
                    photo.get("width"),
                    photo.get("height"),
                )
            )
    for video in found.get("videos") or []:
        best, hls = best_variant(video.get("variants") or [])
        url = best or video.get("url")
        if hls is not None and not on_media_host(hls):
            hls = None
        if isinstance(url, str) and on_media_host(url):
            media.append(
                TweetMedia(
                    MediaKind.GIF if video.get("type") == "gif" else MediaKind.VIDEO,
                    url,
                    video.get("width"),
                    video.get("height"),
                    video.get("duration"),
                    hls_url=hls,
                )
            )
    author = data.get("author") or {}
    created = data.get("created_at")
    if data.get("created_timestamp"):
        created = from_epoch(int(data["created_timestamp"]))
    quoted = data.get("quote") if depth < MAX_QUOTE_DEPTH else None
    return Tweet(
        id=str(data.get("id") or ""),
        screen_name=author.get("screen_name"),
        name=author.get("name"),
        text=data.get("text") or "",
        created_at=_iso(created),
        media=tuple(media),
        quoted=parse_fxtwitter(quoted, depth + 1)
        if isinstance(quoted, dict) and quoted.get("id")
        else None,
        source="fxtwitter",
    )


def _parsed(
    service: str,
    parse: Callable[[dict[str, Any]], Tweet],
    data: dict[str, Any],
    evidence: Evidence,
) -> Answer:
    """A tweet from a service's answer; an answer of an unexpected shape is a failure to retry."""
    try:
        return Answer(service, tweet=parse(data), evidence=evidence)
    except (AttributeError, TypeError, ValueError, KeyError) as e:
        reason = f"{service}: unexpected answer ({type(e).__name__}: {e})"
        return Answer(service, verdict=Outcome.FAILED, reason=reason, evidence=evidence)


def json_answer(
    service: str, got: Fetched, evidence: Evidence, *, detail: str = ""
) -> tuple[Any, Answer | None]:
    """(the JSON of a 200 answer, None), or (None, the failure for now that any other status
    or a body that is not JSON is: the service's own trouble, not a word about the tweet)."""
    from ...network.net import load_json, retry_hint

    if got.status != 200:
        reason = f"{service}: HTTP {got.status}{detail}"
        failed = Answer(
            service,
            verdict=Outcome.FAILED,
            reason=reason,
            evidence=evidence,
            retry_after=retry_hint(got.headers),
            failure=Failure.for_status(got.status),
        )
        return None, failed
    try:
        return load_json(got.content), None
    except ValueError:
        not_json = f"{service}: not JSON"
        return None, Answer(service, verdict=Outcome.FAILED, reason=not_json, evidence=evidence)


def ask_syndication(net: Net, tweet_id: str) -> Answer:
    url = f"{SYNDICATION_URL}?id={tweet_id}&token={syndication_token(tweet_id)}"
    try:
        got = net.fetch(url)
    except NetworkError as e:
        return Answer("syndication", verdict=Outcome.FAILED, reason=str(e), failure=Failure.NETWORK)
    evidence = Evidence(f"{tweet_id}.syndication.json", got.content)
    if got.status == 404:
        return Answer(
            "syndication", verdict=Outcome.GONE, reason="syndication: 404", evidence=evidence
        )
    # Only a 404 speaks of the tweet; any other status is the service's own trouble.
    data, failed = json_answer("syndication", got, evidence)
    if failed is not None:
        return failed
    if not isinstance(data, dict) or not data:
        return Answer(
            "syndication",
            verdict=Outcome.GONE,
            reason="syndication: empty answer",
            evidence=evidence,
        )
    if data.get("__typename") == "TweetTombstone" or "tombstone" in data:
        outcome, text, final = tombstone_verdict(data.get("tombstone"))
        return Answer(
            "syndication",
            verdict=outcome,
            reason=f"syndication: {text}",
            evidence=evidence,
            final=final,
        )
    return _parsed("syndication", parse_syndication, data, evidence)


def ask_fxtwitter(net: Net, tweet_id: str, screen_name: str | None) -> Answer:
    from ...network.net import load_json, retry_hint

    url = (
        f"{FXTWITTER_URL}/{screen_name}/status/{tweet_id}"
        if screen_name
        else f"{FXTWITTER_URL}/status/{tweet_id}"
    )
    try:
        got = net.fetch(url)
    except NetworkError as e:
        return Answer("fxtwitter", verdict=Outcome.FAILED, reason=str(e), failure=Failure.NETWORK)
    evidence = Evidence(f"{tweet_id}.fxtwitter.json", got.content)
    try:
        data = load_json(got.content)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = data.get("code", got.status)
    if got.status == 200 and code == 200 and isinstance(data.get("tweet"), dict):
        return _parsed("fxtwitter", parse_fxtwitter, data["tweet"], evidence)
    if got.status == 404 or code == 404:
        return Answer(
            "fxtwitter", verdict=Outcome.GONE, reason="fxtwitter: NOT_FOUND", evidence=evidence
        )
    if code == 401 or got.status == 401:
        return Answer(
            "fxtwitter",
            verdict=Outcome.LOGIN_REQUIRED,
            reason="fxtwitter: private",
            evidence=evidence,
        )
    return Answer(
        "fxtwitter",
        verdict=Outcome.FAILED,
        reason=f"fxtwitter: HTTP {got.status} {data.get('message') or ''}".strip(),
        evidence=evidence,
        retry_after=retry_hint(got.headers),
        failure=Failure.for_status(got.status) if got.status != 200 else None,
    )


# Tombstone texts that say the tweet is there for readers who log in.
_LOGIN_WORDS = ("log in", "age-restricted", "limits who can view")
# Tombstone texts that say the tweet is gone for good.
_GONE_WORDS = ("deleted", "suspended", "no longer exists")


def tombstone_verdict(tombstone: Any) -> tuple[Outcome, str, bool]:
    """(outcome, text, final) for a tombstone: gone unless its text asks for a login; final
    when the text says the tweet was deleted or its account is gone."""
    text = ""
    if isinstance(tombstone, dict):
        inner = tombstone.get("text")
        # {"text": {"text": "…"}} as answered; a plain string from a server that simplifies
        text = str((inner.get("text") if isinstance(inner, dict) else inner) or "")
    text = text.strip().removesuffix("Learn more").strip() or "tombstone"
    lowered = text.lower()
    if any(word in lowered for word in _LOGIN_WORDS):
        return Outcome.LOGIN_REQUIRED, text, False
    return Outcome.GONE, text, any(word in lowered for word in _GONE_WORDS)


def combine(answers: list[Answer]) -> tuple[Outcome, str]:
    """The outcome for a tweet no service could show.

    Login required when any service says so; gone when X itself says the tweet was deleted
    (or its account suspended), or when every service asked says it is not there; otherwise
    a failure to retry. yt-dlp's "no video" is no such answer: it never sees photos.
    """
    verdicts = [a.verdict for a in answers if a.verdict is not None]
    reasons = "; ".join(a.reason for a in answers if a.reason)
    if Outcome.LOGIN_REQUIRED in verdicts:
        return Outcome.LOGIN_REQUIRED, reasons
    if any(a.final and a.verdict is Outcome.GONE for a in answers):
        return Outcome.GONE, reasons
    if verdicts and all(v is Outcome.GONE for v in verdicts):
        return Outcome.GONE, reasons
    return Outcome.FAILED, reasons
