"""article.json: everything known about an article folder, enough to understand it alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from . import __version__, platforms
from .model import Article, LinkResult, MediaFile, Stop, Tweet
from .platforms import Post

SIDECAR = "article.json"
SCHEMA = 1


def short_hash(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def media_entry(media: MediaFile) -> dict[str, Any]:
    return dataclasses.asdict(media)


def tweet_entries(tweet: Tweet | None) -> list[dict[str, Any]]:
    """The tweet, the original it retweets and the tweet it quotes, flat, media described by URL."""
    entries: list[dict[str, Any]] = []
    while tweet is not None:
        if tweet.retweeted is not None:
            entries.append(
                {
                    **tweet_entries(dataclasses.replace(tweet, retweeted=None, quoted=None))[0],
                    "retweeted_id": tweet.retweeted.id,
                }
            )
            tweet = tweet.retweeted
            continue
        entries.append(
            {
                "id": tweet.id,
                "url": tweet.url,
                "screen_name": tweet.screen_name,
                "name": tweet.name,
                "text": tweet.text,
                "created_at": tweet.created_at,
                "source": tweet.source,
                "quoted_id": tweet.quoted.id if tweet.quoted else None,
                "media": [dataclasses.asdict(m) for m in tweet.media],
            }
        )
        tweet = tweet.quoted
    return entries


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
        "post": _post_key(result),
        "tweet_id": (result.tweet.id if result.tweet else None)
        or link.tweet_id
        or (result.resolution.tweet_id if result.resolution else None),
        "outcome": str(result.outcome),
        "reason": result.reason,
        "resolved_at": resolved_at,
        "resolution": resolution,
        "media": [
            {
                "sha256": m.sha256,
                "tweet_id": m.tweet_id,
                "post": m.post,
                "kind": m.kind,
                "source_url": m.source_url,
            }
            for m in result.media
        ],
        "evidence": [f"evidence/{e.name}" for e in result.evidence],
        **({"retry_after": result.extra["retry_after"]} if result.extra.get("retry_after") else {}),
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
    tweets: list[dict[str, Any]],
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
        "tweets": tweets,
        "posts": posts or [],
        "media": media,
    }


def dumps(sidecar: dict[str, Any]) -> bytes:
    return (json.dumps(sidecar, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def read(folder: Path) -> dict[str, Any] | None:
    """The folder's sidecar, or None when there is none or it cannot be parsed."""
    try:
        data = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
