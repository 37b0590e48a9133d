"""What sidecars of schema 1 (releases up to 0.1.0) kept of tweets, read as posts of `x`.

Schema 1 kept tweets apart: a `tweets` list (screen_name, name, quoted_id, retweeted_id) and
`tweet_id` keys on links and media. They become posts of the site "x" and `post` keys.
"""

from __future__ import annotations

from typing import Any

SITE = "x"


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its tweets as posts and `tweet_id` keys as `post` keys; `data` itself (the
    same object) when it holds no tweets list."""
    if "tweets" not in data:
        return data
    data = dict(data)
    tweets = data.pop("tweets")
    given = data.get("posts")
    posts = [p for p in given if isinstance(p, dict)] if isinstance(given, list) else []
    known = {p["key"] for p in posts if isinstance(p.get("key"), str)}
    for tweet in tweets if isinstance(tweets, list) else []:
        tweet_id = _tweet_id(tweet.get("id")) if isinstance(tweet, dict) else None
        if tweet_id is not None and _key(tweet_id) not in known:
            posts.append(_tweet_as_post(tweet, tweet_id))
            known.add(_key(tweet_id))
    data["posts"] = posts
    for name in ("links", "media"):
        if isinstance(data.get(name), list):
            data[name] = [_with_post(entry) for entry in data[name]]
    return data


def _key(tweet_id: str) -> str:
    return f"{SITE}:{tweet_id}"


def _tweet_id(value: object) -> str | None:
    """A tweet id as schema 1 wrote it (digits, or a number), else None: a dict or a list
    there was never an id, and must not become a post's key."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value.isdigit() and value.isascii() else None


def _tweet_key(value: object) -> str | None:
    tweet_id = _tweet_id(value)
    return _key(tweet_id) if tweet_id is not None else None


def _tweet_as_post(tweet: dict[str, Any], tweet_id: str) -> dict[str, Any]:
    name = tweet.get("screen_name")
    return {
        "key": _key(tweet_id),
        "site": SITE,
        "id": tweet_id,
        "url": tweet.get("url"),
        "author": f"@{name}" if name else None,
        "author_name": tweet.get("name"),
        "text": tweet.get("text"),
        "created_at": tweet.get("created_at"),
        "source": tweet.get("source"),
        "origin_url": None,
        "quoted": _tweet_key(tweet.get("quoted_id")),
        "reposted": _tweet_key(tweet.get("retweeted_id")),
        "media": tweet.get("media") or [],
    }


def _with_post(entry: Any) -> Any:
    """A link or media entry with `post` for its `tweet_id` (its media entries too)."""
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    key = _tweet_key(entry.pop("tweet_id", None))
    if key is not None and not entry.get("post"):
        entry["post"] = key
    if isinstance(entry.get("media"), list):
        entry["media"] = [_with_post(m) for m in entry["media"]]
    return entry
