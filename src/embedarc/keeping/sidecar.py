"""article.json: everything known about an article folder, enough to understand it alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__, platforms
from ..model import Article, Failure, LinkResult, MediaFile, Outcome, Resolution, Stop
from ..platforms import Post
from .sidecar_record import (
    EarlierOriginal,
    Sidecar,
    SidecarArticle,
    SidecarError,
    SidecarHop,
    SidecarLink,
    SidecarMedia,
    SidecarMediaRef,
    SidecarPost,
    SidecarPostMedia,
    SidecarResolution,
)

SIDECAR = "article.json"
# 2: tweets are posts of the site "x" (the `tweets` list and `tweet_id` keys are gone)
SCHEMA = 2
TWEETS_SITE = "x"  # the site the tweets of schema 1 sidecars are posts of


def short_hash(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def media_entry(media: MediaFile) -> SidecarMedia:
    return SidecarMedia(**{f.name: getattr(media, f.name) for f in dataclasses.fields(media)})


def post_entries(post: Post | None) -> list[SidecarPost]:
    """A platform's post and the posts it quotes or reposts, flat, media described by URL."""
    entries: list[SidecarPost] = []
    seen: set[str] = set()
    todo = [post]
    while todo:
        current = todo.pop(0)
        if current is None or current.key in seen:
            continue
        seen.add(current.key)
        entries.append(
            SidecarPost(
                key=current.key,
                site=current.site,
                id=current.id,
                url=current.url,
                author=current.author,
                author_name=current.author_name,
                text=current.text,
                created_at=current.created_at,
                source=current.source,
                origin_url=current.origin_url,
                quoted=current.quoted.key if current.quoted else None,
                reposted=current.reposted.key if current.reposted else None,
                media=tuple(
                    SidecarPostMedia(**{f.name: getattr(m, f.name) for f in dataclasses.fields(m)})
                    for m in current.media
                ),
            )
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


def _resolution(resolution: Resolution) -> SidecarResolution:
    """A link's resolution as the sidecar holds it: without its URL, the link's own."""
    return SidecarResolution(
        hops=tuple(
            SidecarHop(url=h.url, status=h.status, location=h.location, time=h.time, via=h.via)
            for h in resolution.hops
        ),
        final_url=resolution.final_url,
        stop=resolution.stop,
        status=resolution.status,
        content_type=resolution.content_type,
        error=resolution.error,
        retry_after=resolution.retry_after,
    )


def link_entry(result: LinkResult, *, article_id: str, resolved_at: str) -> SidecarLink:
    link = result.link
    return SidecarLink(
        id=short_hash(article_id, link.url),
        url=link.url,
        raw=link.raw,
        kind=link.kind,
        found_in=link.found_in,
        attribution=link.attribution,
        # A link that failed before it was followed names its post by its URL alone.
        post=_post_key(result) if result.resolution is not None else link.post,
        outcome=result.outcome,
        reason=result.reason,
        resolved_at=resolved_at,
        resolution=_resolution(result.resolution) if result.resolution is not None else None,
        media=tuple(
            SidecarMediaRef(sha256=m.sha256, post=m.post, kind=m.kind, source_url=m.source_url)
            for m in result.media
        ),
        evidence=tuple(f"evidence/{e.name}" for e in result.evidence),
        retry_after=result.extra.get("retry_after") or None,
        # What kind of failure, told where it happened (see model.Failure).
        failure=(result.failure or Failure.OTHER) if result.outcome is Outcome.FAILED else None,
    )


def build(
    article: Article,
    *,
    article_id: str,
    identity: str,
    folder: str,
    original: str,
    origin_page: str | None,
    archived_at: str,
    earlier_originals: Sequence[EarlierOriginal] = (),
    links: Sequence[SidecarLink],
    media: Sequence[SidecarMedia],
    ytdlp_version: str | None,
    posts: Sequence[SidecarPost] = (),
    previous: Sidecar | None = None,
) -> Sidecar:
    """The article's sidecar; what `previous` (the folder's sidecar before) holds that this
    release does not know is carried on, so a later release's keys survive archiving again."""
    return Sidecar(
        extra=previous.unknown() if previous else {},
        schema=SCHEMA,
        embedarc=__version__,
        yt_dlp=ytdlp_version,
        article=SidecarArticle(
            extra=previous.article.unknown() if previous else {},
            id=article_id,
            identity=identity,
            folder=folder,
            source=article.source,
            title=article.title,
            canonical_url=article.canonical_url,
            published=article.published,
            origin_name=article.origin_name,
            origin_url=article.origin_url,
            media_type=article.media_type,
            content_sha256=hashlib.sha256(article.raw).hexdigest(),
            original=original,
            # The article read another way before (a saved page, then its text): those bytes
            # stay in the folder under their own name.
            earlier_originals=tuple(earlier_originals),
            origin_page=origin_page,
            archived_at=archived_at,
            links_skipped=article.links_skipped,  # over --max-links: neither kept nor followed
        ),
        links=tuple(links),
        posts=tuple(posts),
        media=tuple(media),
    )


def dumps(sidecar: Sidecar) -> bytes:
    return (
        json.dumps(sidecar.to_json(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    ).encode()


def load(folder: Path) -> tuple[Sidecar | None, str | None]:
    """(the folder's sidecar in the current schema, None), or (None, why it cannot be used)."""
    try:
        data = json.loads((folder / SIDECAR).read_bytes())
    except FileNotFoundError:
        return None, f"no {SIDECAR}"
    except OSError as e:
        return None, f"{SIDECAR} cannot be read: {e.strerror}"
    except ValueError as e:
        return None, f"{SIDECAR} is not valid JSON: {e}"
    try:
        return parse(data), None
    except SidecarError as e:
        return None, f"{SIDECAR} {e}"


def parse(data: object) -> Sidecar:
    """The sidecar JSON gave `data` for, of any schema embedarc wrote; SidecarError when it is
    none (no article object, a media list that is not a list of objects)."""
    if not isinstance(data, dict):
        raise SidecarError("has no article")
    return Sidecar.from_json(upgrade(data))


def read(folder: Path) -> Sidecar | None:
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


def earlier_originals(previous: Sidecar | None, original: str) -> list[EarlierOriginal]:
    """The originals an earlier sidecar names that `original` does not replace."""
    if previous is None:
        return []
    known = previous.article
    found = list(known.earlier_originals)
    if known.original and known.content_sha256:
        found.append(EarlierOriginal(name=known.original, content_sha256=known.content_sha256))
    kept: dict[str, EarlierOriginal] = {}
    for entry in found:
        name = entry.name
        if name and name != original and Path(name).name == name:
            kept[name] = EarlierOriginal(name=name, content_sha256=entry.content_sha256)
    return list(kept.values())
