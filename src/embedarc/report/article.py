"""One article's page, read from its sidecar (the truth about its folder)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..thumbs import thumb_relative
from .outcomes import label, tone
from .safe import local_href, web_href

# The proof an article folder holds besides its sidecar and evidence, shown when present: the
# record of every exchange, the manifests and their RFC 3161 tokens. (Exports, WACZ and bags,
# are made on demand outside the archive.)
CAPTURE_RECORD = "capture/exchanges.jsonl"
TIMESTAMPS = "timestamps"
QUOTE_DEPTH = 4  # quoted posts shown inside a card, at most this deep


@dataclass(frozen=True)
class Url:
    """A URL shown as text, and as a link only when it is http(s)."""

    text: str
    href: str | None

    @classmethod
    def of(cls, value: object) -> Url | None:
        if not isinstance(value, str) or not value:
            return None
        return cls(value, web_href(value))


@dataclass(frozen=True)
class Footage:
    sha256: str
    href: str | None  # the file in the article's media/ folder
    kind: str  # video, image, audio, other
    mime: str
    size: int | None
    width: int | None
    height: int | None
    duration: float | None
    source: Url | None
    fetched_at: str | None
    method: str | None
    poster: str | None  # the thumbnail, relative to the page
    capture: dict[str, Any] = field(default_factory=dict)  # from a web archive: which, when
    first: bool = True  # shown in full here; later links citing it point back to this one


@dataclass(frozen=True)
class Card:
    site: str
    author: str | None
    author_name: str | None
    text: str | None
    created_at: str | None
    url: Url | None
    quoted: Card | None
    reposted_by: str | None = None


@dataclass(frozen=True)
class LinkView:
    url: Url
    raw: str | None
    kind: str
    found_in: str | None
    attribution: str | None
    outcome: str
    label: str
    tone: str
    reason: str | None
    resolved_at: str | None
    hops: list[dict[str, Any]]
    final_url: Url | None
    card: Card | None
    footage: list[Footage]
    evidence: list[tuple[str, str]]  # (name, href)


@dataclass(frozen=True)
class ArticleView:
    id: str
    folder: str
    title: str
    source: Url | None
    canonical: Url | None
    published: str | None
    archived_at: str | None
    first_archived: str | None
    origin_name: str | None
    origin: Url | None
    original: str | None  # href of the article's original bytes
    origin_page: str | None
    links: list[LinkView]
    exports: list[tuple[str, str]]
    outcomes: dict[str, int]
    footage_count: int


def _list(value: object) -> list[Any]:
    """A sidecar's list, or none: a sidecar edited by hand may hold anything anywhere."""
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _kind(mime: str) -> str:
    for prefix in ("video", "image", "audio"):
        if mime.startswith(prefix + "/"):
            return prefix
    return "other"


def _footage(entry: dict[str, Any], folder: str, thumbs: set[str]) -> Footage:
    sha = str(entry.get("sha256") or "")
    mime = str(entry.get("mime") or "application/octet-stream")
    path = entry.get("article_path") or entry.get("path")
    capture = {
        key: entry[key]
        for key in ("archive", "captured_at", "capture_url", "original_url")
        if isinstance(entry.get(key), str)
    }
    return Footage(
        sha256=sha,
        href=local_href(folder, path),
        kind=_kind(mime),
        mime=mime,
        size=_int(entry.get("size")),
        width=_int(entry.get("width")),
        height=_int(entry.get("height")),
        duration=_float(entry.get("duration")),
        source=Url.of(entry.get("source_url")),
        fetched_at=_text(entry.get("fetched_at")),
        method=_text(entry.get("method")),
        poster=local_href(folder, thumb_relative(sha)) if sha in thumbs else None,
        capture=capture,
    )


def _card(posts: dict[str, dict[str, Any]], key: object, depth: int = 0) -> Card | None:
    post = posts.get(key) if isinstance(key, str) else None
    if post is None or depth > QUOTE_DEPTH:
        return None
    reposted_key = post.get("reposted")
    if (
        isinstance(reposted_key, str) and reposted_key in posts
    ):  # a repost: the card is the original, said to be reposted
        card = _card(posts, post.get("reposted"), depth + 1)
        if card is not None:
            by = _text(post.get("author"))
            return Card(**{**card.__dict__, "reposted_by": by})
    return Card(
        site=str(post.get("site") or ""),
        author=_text(post.get("author")),
        author_name=_text(post.get("author_name")),
        text=_text(post.get("text")),
        created_at=_text(post.get("created_at")),
        url=Url.of(post.get("url")),
        quoted=_card(posts, post.get("quoted"), depth + 1),
    )


def _hops(resolution: object) -> list[dict[str, Any]]:
    hops = resolution.get("hops") if isinstance(resolution, dict) else None
    return [
        {
            "url": Url.of(hop.get("url")),
            "status": _int(hop.get("status")),
            "location": Url.of(hop.get("location")),
            "time": _text(hop.get("time")),
            "via": _text(hop.get("via")),
        }
        for hop in _list(hops)
        if isinstance(hop, dict)
    ]


def _exports(path: Path, folder: str) -> list[tuple[str, str]]:
    """(name, link) of the capture record and of each manifest and token the folder holds."""
    names = [CAPTURE_RECORD] if (path / CAPTURE_RECORD).is_file() else []
    try:
        stamps = sorted((path / TIMESTAMPS).iterdir())
    except OSError:
        stamps = []
    names += [
        f"{TIMESTAMPS}/{entry.name}"
        for entry in stamps
        if entry.name.endswith((".txt", ".tsr")) and entry.is_file()
    ]
    found: list[tuple[str, str]] = []
    for name in names:
        href = local_href(folder, f"{folder}/{name}")
        if href is not None:
            found.append((name, href))
    return found


def article_view(
    data: dict[str, Any],
    folder_path: Path,
    *,
    folder: str,
    thumbs: set[str],
    first_archived: str | None,
) -> ArticleView:
    """The page of one article, written in `folder` (relative to the archive); `thumbs` are
    the sha256s that have a thumbnail.

    Links are made relative to where the page is, never to the folder the sidecar names: a
    sidecar edited to name a deeper one would send every `../` of the page out of the archive.
    """
    article = data.get("article") or {}
    folder = posixpath.normpath(folder)
    media = {
        m["sha256"]: m
        for m in _list(data.get("media"))
        if isinstance(m, dict) and isinstance(m.get("sha256"), str)
    }
    posts = {
        p["key"]: p
        for p in _list(data.get("posts"))
        if isinstance(p, dict) and isinstance(p.get("key"), str)
    }
    links: list[LinkView] = []
    outcomes: dict[str, int] = {}
    shown: set[str] = set()
    for entry in _list(data.get("links")):
        if not isinstance(entry, dict):
            continue
        outcome = str(entry.get("outcome") or "")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        refs = [
            r["sha256"]
            for r in _list(entry.get("media"))
            if isinstance(r, dict) and isinstance(r.get("sha256"), str)
        ]
        footage = []
        for sha in dict.fromkeys(refs):
            if sha in media:
                footage.append(
                    replace(_footage(media[sha], folder, thumbs), first=sha not in shown)
                )
                shown.add(sha)
        resolution = entry.get("resolution")
        evidence = [
            (posixpath.basename(name), href)
            for name in _list(entry.get("evidence"))
            if isinstance(name, str)
            for href in [local_href(folder, f"{folder}/{name}")]
            if href is not None
        ]
        links.append(
            LinkView(
                url=Url.of(entry.get("url")) or Url("", None),
                raw=_text(entry.get("raw")),
                kind=str(entry.get("kind") or ""),
                found_in=_text(entry.get("found_in")),
                attribution=_text(entry.get("attribution")),
                outcome=outcome,
                label=label(outcome),
                tone=tone(outcome),
                reason=_text(entry.get("reason")),
                resolved_at=_text(entry.get("resolved_at")),
                hops=_hops(resolution),
                final_url=Url.of(resolution.get("final_url"))
                if isinstance(resolution, dict)
                else None,
                card=_card(posts, entry.get("post")),
                footage=footage,
                evidence=evidence,
            )
        )

    def own(name: object) -> str | None:
        return local_href(folder, f"{folder}/{name}") if _text(name) else None

    return ArticleView(
        id=str(article.get("id") or ""),
        folder=folder,
        title=_text(article.get("title")) or "(untitled)",
        source=Url.of(article.get("source")),
        canonical=Url.of(article.get("canonical_url")),
        published=_text(article.get("published")),
        archived_at=_text(article.get("archived_at")),
        first_archived=first_archived,
        origin_name=_text(article.get("origin_name")),
        origin=Url.of(article.get("origin_url")),
        original=own(article.get("original")),
        origin_page=own(article.get("origin_page")),
        links=links,
        exports=_exports(folder_path, folder),
        outcomes=outcomes,
        footage_count=len(shown),
    )
