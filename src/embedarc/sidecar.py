"""article.json: everything known about an article folder, enough to understand it alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from . import __version__, platforms
from .model import Article, Failure, LinkResult, MediaFile, Outcome, Stop
from .platforms import Post

SIDECAR = "article.json"
# 2: tweets are posts of the site "x" (the `tweets` list and `tweet_id` keys are gone)
SCHEMA = 2
TWEETS_SITE = "x"  # the site the tweets of schema 1 sidecars are posts of


def short_hash(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def media_entry(media: MediaFile) -> dict[str, Any]:
    return dataclasses.asdict(media)


def post_entries(post: Post | None) -> list[dict[str, Any]]:
    """A platform's post and the posts it quotes or reposts, flat, media described by URL."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    todo = [post]
    while todo:
        current = todo.pop(0)
        if current is None or current.key in seen:
            continue
        seen.add(current.key)
        entries.append(
            {
                "key": current.key,
                "site": current.site,
                "id": current.id,
                "url": current.url,
                "author": current.author,
                "author_name": current.author_name,
                "text": current.text,
                "created_at": current.created_at,
                "source": current.source,
                "origin_url": current.origin_url,
                "quoted": current.quoted.key if current.quoted else None,
                "reposted": current.reposted.key if current.reposted else None,
                "media": [dataclasses.asdict(m) for m in current.media],
            }
        )
        todo += [current.reposted, current.quoted]
    return entries


def _post_key(result: LinkResult) -> str | None:
    if result.post is not None:
        return str(result.post.key)
    resolution = result.resolution
    if resolution is not None and resolution.stop is Stop.POST:
        ref = platforms.claims(resolution.final_url)
        return ref.key if ref is not None else None
    return None


def link_entry(result: LinkResult, *, article_id: str, resolved_at: str) -> dict[str, Any]:
    link = result.link
    resolution = None
    if result.resolution is not None:
        resolution = dataclasses.asdict(result.resolution)
        resolution.pop("url", None)
    return {
        "id": short_hash(article_id, link.url),
        "url": link.url,
        "raw": link.raw,
        "kind": str(link.kind),
        "found_in": link.found_in,
        "attribution": link.attribution,
        # A link that failed before it was followed names its post by its URL alone.
        "post": _post_key(result) if result.resolution is not None else link.post,
        "outcome": str(result.outcome),
        "reason": result.reason,
        "resolved_at": resolved_at,
        "resolution": resolution,
        "media": [
            {
                "sha256": m.sha256,
                "post": m.post,
                "kind": m.kind,
                "source_url": m.source_url,
            }
            for m in result.media
        ],
        "evidence": [f"evidence/{e.name}" for e in result.evidence],
        **({"retry_after": result.extra["retry_after"]} if result.extra.get("retry_after") else {}),
        # What kind of failure, told where it happened (see model.Failure).
        **(
            {"failure": str(result.failure or Failure.OTHER)}
            if result.outcome is Outcome.FAILED
            else {}
        ),
    }


def build(
    article: Article,
    *,
    article_id: str,
    identity: str,
    folder: str,
    original: str,
    origin_page: str | None,
    archived_at: str,
    earlier_originals: list[dict[str, str]] | None = None,
    links: list[dict[str, Any]],
    media: list[dict[str, Any]],
    ytdlp_version: str | None,
    posts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "embedarc": __version__,
        "yt_dlp": ytdlp_version,
        "article": {
            "id": article_id,
            "identity": identity,
            "folder": folder,
            "source": article.source,
            "title": article.title,
            "canonical_url": article.canonical_url,
            "published": article.published,
            "origin_name": article.origin_name,
            "origin_url": article.origin_url,
            "media_type": article.media_type,
            "content_sha256": hashlib.sha256(article.raw).hexdigest(),
            "original": original,
            # The article read another way before (a saved page, then its text): those bytes
            # stay in the folder under their own name.
            "earlier_originals": earlier_originals or [],
            "origin_page": origin_page,
            "archived_at": archived_at,
            "links_skipped": article.links_skipped,  # over --max-links: neither kept nor followed
        },
        "links": links,
        "posts": posts or [],
        "media": media,
    }


def dumps(sidecar: dict[str, Any]) -> bytes:
    return (json.dumps(sidecar, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def load(folder: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(the folder's sidecar in the current schema, None), or (None, why it cannot be used)."""
    try:
        data = json.loads((folder / SIDECAR).read_bytes())
    except FileNotFoundError:
        return None, f"no {SIDECAR}"
    except OSError as e:
        return None, f"{SIDECAR} cannot be read: {e.strerror}"
    except ValueError as e:
        return None, f"{SIDECAR} is not valid JSON: {e}"
    if not isinstance(data, dict) or not isinstance(data.get("article"), dict):
        return None, f"{SIDECAR} has no article"
    if not isinstance(data.get("media", []), list) or not all(
        isinstance(m, dict) for m in data.get("media", [])
    ):
        return None, f"{SIDECAR} has a malformed media list"
    return upgrade(data), None


def read(folder: Path) -> dict[str, Any] | None:
    """The folder's sidecar in the current schema, or None when there is none or it is unusable."""
    return load(folder)[0]


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A sidecar of an earlier schema as the current one says it, nothing lost; the file on
    disk is left as it was written (rewritten only when the article is archived again).

    Schema 1 kept tweets apart: a `tweets` list (screen_name, name, quoted_id, retweeted_id)
    and `tweet_id` keys on links and media. They become posts of the site "x" and `post` keys.
    """
    if data.get("schema", 1) != 1 or "tweets" not in data:
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
    data["schema"] = SCHEMA
    return data


def _key(tweet_id: str) -> str:
    return f"{TWEETS_SITE}:{tweet_id}"


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
        "site": TWEETS_SITE,
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


def earlier_originals(previous: dict[str, Any] | None, original: str) -> list[dict[str, str]]:
    """The originals an earlier sidecar names that `original` does not replace."""
    known = (previous or {}).get("article", {})
    found = [e for e in known.get("earlier_originals") or [] if isinstance(e, dict)]
    if known.get("original") and known.get("content_sha256"):
        found.append({"name": known["original"], "content_sha256": known["content_sha256"]})
    kept: dict[str, dict[str, str]] = {}
    for entry in found:
        name = entry.get("name")
        if isinstance(name, str) and name != original and Path(name).name == name:
            kept[name] = {"name": name, "content_sha256": str(entry.get("content_sha256") or "")}
    return list(kept.values())
