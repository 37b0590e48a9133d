"""Tweets from X's own GraphQL API (TweetResultByRestId), read by embedarc itself.

yt-dlp reads the same API but keeps only videos; photos, and the reason a tweet cannot be
seen, are only in the answer itself. The request is the one X's web client (and yt-dlp)
sends: a guest token, or the reader's own session cookies when --cookies gives them.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ...model import Evidence, Failure, Outcome
from ...network.net import Net, NetworkError, load_json, retry_hint
from .services import (
    MAX_QUOTE_DEPTH,
    Answer,
    _iso,
    json_answer,
    media_items,
    tombstone_verdict,
)
from .tweet import Tweet, TweetMedia

log = logging.getLogger(__name__)

# The public bearer token of X's web client: the same for every visitor (yt-dlp's _AUTH).
BEARER = (
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D"
    "1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
)
GUEST_URL = "https://api.x.com/1.1/guest/activate.json"
QUERY_ID = "2ICDjqPd81tulZcYrtpTuQ"  # as yt-dlp 2026.10.26 sends it
ENDPOINT = f"https://x.com/i/api/graphql/{QUERY_ID}/TweetResultByRestId"
FEATURES = {
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "tweetypie_unmention_optimization_enabled": True,
    "responsive_web_edit_tweet_api_enabled": True,
    "graphql_is_translatable_rweb_tweet_is_translatable_enabled": True,
    "view_counts_everywhere_api_enabled": True,
    "longform_notetweets_consumption_enabled": True,
    "responsive_web_twitter_article_tweet_consumption_enabled": False,
    "tweet_awards_web_tipping_enabled": False,
    "freedom_of_speech_not_reach_fetch_enabled": True,
    "standardized_nudges_misinfo": True,
    "tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled": True,
    "longform_notetweets_rich_text_read_enabled": True,
    "longform_notetweets_inline_media_enabled": True,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "verified_phone_label_enabled": False,
    "responsive_web_media_download_video_enabled": False,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
    "responsive_web_enhance_cards_enabled": False,
}
_COMPACT = (",", ":")

# TweetUnavailable reasons: who may see the tweet, or why nobody can.
LOGIN_REASONS = frozenset(
    {"Protected", "NsfwLoggedOut", "NsfwViewerHasNoStatedAge", "AgeRestricted"}
)
GONE_REASONS = {"Suspended": "the account is suspended"}


def query_url(tweet_id: str) -> str:
    variables = {
        "tweetId": tweet_id,
        "withCommunity": False,
        "includePromotedContent": False,
        "withVoice": False,
    }
    params = {
        "variables": json.dumps(variables, separators=_COMPACT),
        "features": json.dumps(FEATURES, separators=_COMPACT),
        "fieldToggles": json.dumps({"withArticleRichContentState": False}, separators=_COMPACT),
    }
    return f"{ENDPOINT}?{urlencode(params)}"


def session_cookies(path: Path | None) -> dict[str, str] | None:
    """auth_token and ct0 for x.com from a Netscape cookies.txt, or None when not both there."""
    if path is None:
        return None
    jar = http.cookiejar.MozillaCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, http.cookiejar.LoadError) as e:
        log.warning("cookies file %s not readable: %s", path.name, type(e).__name__)
        return None
    found: dict[str, str] = {}
    for cookie in jar:
        domain = cookie.domain.lstrip(".").lower()
        if domain in ("x.com", "twitter.com") and cookie.name in ("auth_token", "ct0"):
            found.setdefault(cookie.name, cookie.value or "")
    return found if found.get("auth_token") and found.get("ct0") else None


class GraphQL:
    """Asks TweetResultByRestId; one guest token shared by all lookups of a run."""

    def __init__(self, net: Net, cookies: Path | None = None) -> None:
        self.net = net
        self.session = session_cookies(cookies)
        self._token: str | None = None
        self._lock = threading.Lock()

    def _guest_token(self, fresh: bool = False) -> str:
        with self._lock:
            if self._token is None or fresh:
                got = self.net.fetch(
                    GUEST_URL, method="POST", headers={"Authorization": f"Bearer {BEARER}"}
                )
                token = None
                if got.status == 200:
                    try:
                        token = load_json(got.content).get("guest_token")
                    except (ValueError, AttributeError):
                        token = None
                if not isinstance(token, str) or not token:
                    raise _NoToken(f"graphql: no guest token (HTTP {got.status})", got.headers)
                self._token = token
            return self._token

    def _headers(self, fresh: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {BEARER}", "x-twitter-client-language": "en"}
        if self.session is not None:
            # The reader's own session, as the web client sends it; never logged or kept.
            ct0 = self.session["ct0"]
            headers |= {
                "Cookie": f"auth_token={self.session['auth_token']}; ct0={ct0}",
                "x-csrf-token": ct0,
                "x-twitter-auth-type": "OAuth2Session",
                "x-twitter-active-user": "yes",
            }
        else:
            headers["x-guest-token"] = self._guest_token(fresh)
        return headers

    def ask(self, tweet_id: str) -> Answer:
        """What TweetResultByRestId says about a tweet (kept as evidence, whatever it said)."""
        try:
            got = self.net.fetch(query_url(tweet_id), headers=self._headers(fresh=False))
            if got.status in (401, 403) and self.session is None:
                # Guest tokens expire: one fresh token, one more try.
                got = self.net.fetch(query_url(tweet_id), headers=self._headers(fresh=True))
        except _NoToken as e:
            return Answer("graphql", verdict=Outcome.FAILED, reason=str(e), retry_after=e.hint)
        except NetworkError as e:
            return Answer(
                "graphql", verdict=Outcome.FAILED, reason=f"graphql: {e}", failure=Failure.NETWORK
            )
        evidence = Evidence(f"{tweet_id}.graphql.json", got.content)
        # A 404 here is a stale query id, not a missing tweet: only the answer's body speaks of
        # the tweet.
        detail = _errors(got.content) if got.status != 200 else ""
        data, failed = json_answer("graphql", got, evidence, detail=detail)
        return failed if failed is not None else read_answer(data, evidence)


class _NoToken(Exception):
    def __init__(self, message: str, headers: Any) -> None:
        super().__init__(message)
        self.hint = retry_hint(headers)


def _errors(content: bytes) -> str:
    try:
        errors = load_json(content).get("errors") or []
        if not isinstance(errors, list):
            return ""
        messages = [str(e.get("message")) for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError):
        return ""
    return f" ({'; '.join(messages)})" if messages else ""


def read_answer(data: Any, evidence: Evidence | None = None) -> Answer:
    """The verdict or the tweet in a TweetResultByRestId answer."""

    def verdict(outcome: Outcome, reason: str, *, final: bool = False) -> Answer:
        return Answer("graphql", verdict=outcome, reason=reason, evidence=evidence, final=final)

    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return verdict(Outcome.FAILED, f"graphql: no data{_errors(json.dumps(data).encode())}")
    holder = data["data"].get("tweetResult")
    if not isinstance(holder, dict):
        return verdict(Outcome.FAILED, "graphql: no tweetResult in the answer")
    result = holder.get("result")
    if not result:
        # What X answers for a deleted tweet (and for an id that never was one).
        return verdict(Outcome.GONE, "graphql: no such tweet (empty tweetResult)")
    if not isinstance(result, dict):
        return verdict(Outcome.FAILED, "graphql: unexpected tweetResult")
    kind = result.get("__typename")
    if kind == "TweetUnavailable":
        reason = str(result.get("reason") or "unavailable")
        if reason in LOGIN_REASONS:
            return verdict(Outcome.LOGIN_REQUIRED, f"graphql: TweetUnavailable ({reason})")
        if reason in GONE_REASONS:
            why = f"graphql: TweetUnavailable ({reason}: {GONE_REASONS[reason]})"
            return verdict(Outcome.GONE, why, final=True)
        return verdict(Outcome.FAILED, f"graphql: TweetUnavailable ({reason})")
    if kind == "TweetTombstone" or "tombstone" in result:
        outcome, reason, final = tombstone_verdict(result.get("tombstone"))
        return verdict(outcome, f"graphql: {reason}", final=final)
    if kind in ("Tweet", "TweetWithVisibilityResults", None):
        try:
            tweet = parse_graphql(result)
        except (AttributeError, TypeError, ValueError, KeyError) as e:
            return verdict(Outcome.FAILED, f"graphql: unexpected answer ({type(e).__name__}: {e})")
        return Answer("graphql", tweet=tweet, evidence=evidence)
    return verdict(Outcome.FAILED, f"graphql: unknown result type {kind!r}")


def _user(result: dict[str, Any]) -> tuple[str | None, str | None]:
    """(screen name, name): under `legacy` in older answers, under `core` in newer ones."""
    user = ((result.get("core") or {}).get("user_results") or {}).get("result") or {}
    legacy, core = user.get("legacy") or {}, user.get("core") or {}
    return (
        legacy.get("screen_name") or core.get("screen_name"),
        legacy.get("name") or core.get("name"),
    )


def _card(result: dict[str, Any]) -> tuple[str | None, list[TweetMedia]]:
    """The card's name, and the media a unified card carries (its own media entities)."""
    card = (result.get("card") or {}).get("legacy") or {}
    name = card.get("name")
    media: list[TweetMedia] = []
    for binding in card.get("binding_values") or []:
        if binding.get("key") != "unified_card":
            continue
        try:
            unified = load_json((binding.get("value") or {}).get("string_value") or "{}")
        except ValueError:
            continue
        entities = (unified.get("media_entities") or {}).values()
        media.extend(media_items([e for e in entities if isinstance(e, dict)]))
    return (str(name) if name else None), media


def parse_graphql(result: dict[str, Any], depth: int = 0) -> Tweet:
    """A Tweet from `tweetResult.result` (or any tweet result of the same shape)."""
    if result.get("__typename") == "TweetWithVisibilityResults":
        result = result["tweet"]
    legacy = result.get("legacy") or {}
    screen_name, name = _user(result)
    media = media_items((legacy.get("extended_entities") or {}).get("media") or [])
    card, card_media = _card(result)
    if not media:
        media = card_media
    text = legacy.get("full_text") or ""
    note = ((result.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {}
    if note.get("text"):
        text = note["text"]  # a long tweet: full_text is cut short
    quoted = (result.get("quoted_status_result") or {}).get("result")
    retweeted = (legacy.get("retweeted_status_result") or {}).get("result")
    return Tweet(
        id=str(result.get("rest_id") or legacy.get("id_str") or ""),
        screen_name=screen_name,
        name=name,
        text=text,
        created_at=_iso(legacy.get("created_at")),
        media=tuple(media),
        quoted=_nested(quoted, depth),
        source="graphql",
        retweeted=_nested(retweeted, depth),
        card=card,
    )


def _nested(result: Any, depth: int) -> Tweet | None:
    """A quoted or retweeted tweet, when the answer includes a visible one."""
    if depth >= MAX_QUOTE_DEPTH:
        return None
    if not isinstance(result, dict) or result.get("__typename") not in (
        "Tweet",
        "TweetWithVisibilityResults",
        None,
    ):
        return None
    if "legacy" not in result and "tweet" not in result:
        return None
    return parse_graphql(result, depth + 1)
