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
# 2: every post is in `posts`, named by `post` (`site:id`) on links and files; schema 1 kept
# one site's apart (see `upgrade`)
SCHEMA = 2
# Far deeper than any sidecar embedarc writes (about 5 levels): a value nested deeper was put
# there by a hand, and reading or writing it back would recurse past Python's limit.
MAX_DEPTH = 100


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
            content_sha256=article.content_sha256,
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
    except RecursionError:
        return None, f"{SIDECAR} is not valid JSON: nested too deep"
    try:
        return parse(data), None
    except SidecarError as e:
        return None, f"{SIDECAR} {e}"


def parse(data: object) -> Sidecar:
    """The sidecar JSON gave `data` for, of any schema embedarc wrote; SidecarError when it is
    none (no article object, a media list that is not a list of objects)."""
    if not isinstance(data, dict):
        raise SidecarError("has no article")
    if not _within_depth(data, MAX_DEPTH):
        raise SidecarError(f"is nested deeper than {MAX_DEPTH} levels")
    return Sidecar.from_json(upgrade(data))


def _within_depth(data: object, limit: int) -> bool:
    """Whether no list or object in `data` lies more than `limit` levels deep (no recursion)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, list):
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in value)
    return True


def read(folder: Path) -> Sidecar | None:
    """The folder's sidecar in the current schema, or None when there is none or it is unusable."""
    return load(folder)[0]


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A sidecar of an earlier schema as the current one says it, nothing lost; the file on
    disk is left as it was written (rewritten only when the article is archived again).

    Schema 1 (releases up to 0.1.0) kept one site's posts in a shape of their own: the site's
    platform reads them back as posts (`Platform.upgrade_sidecar`).
    """
    schema = data.get("schema", 1)
    if schema != 1:
        return data
    upgraded = platforms.upgrade_sidecar(schema, data)
    if upgraded is data:
        return data
    return {**upgraded, "schema": SCHEMA}


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
