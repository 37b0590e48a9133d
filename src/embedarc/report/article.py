"""One article's page, read from its sidecar (the truth about its folder)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..evidence.timestamps import FOLDER as TIMESTAMPS
from ..keeping.sidecar_record import Sidecar, SidecarMedia, SidecarPost, SidecarResolution
from ..keeping.thumbs import thumb_relative
from ..network.capture_record import RECORD as CAPTURE_RECORD
from .outcomes import label, tone
from .safe import local_href, web_href

# The proof an article folder holds besides its sidecar and evidence, shown when present: the
# record of every exchange, the manifests and their RFC 3161 tokens. (Exports, WACZ and bags,
# are made on demand outside the archive.)
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
    capture: dict[str, str] = field(default_factory=dict)  # from a web archive: which, when
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
class HopView:
    url: Url | None
    status: int | None
    location: Url | None
    time: str | None
    via: str | None


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
    hops: list[HopView]
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


def _text(value: str | None) -> str | None:
    return value or None


def _kind(mime: str) -> str:
    for prefix in ("video", "image", "audio"):
        if mime.startswith(prefix + "/"):
            return prefix
    return "other"


def _footage(entry: SidecarMedia, folder: str, thumbs: set[str]) -> Footage:
    sha = entry.sha256
    mime = entry.mime or "application/octet-stream"
    path = entry.article_path or entry.path
    capture = {
        key: value
        for key, value in (
            ("archive", entry.archive),
            ("captured_at", entry.captured_at),
            ("capture_url", entry.capture_url),
            ("original_url", entry.original_url),
        )
        if value is not None
    }
    return Footage(
        sha256=sha,
        href=local_href(folder, path),
        kind=_kind(mime),
        mime=mime,
        size=entry.size,
        width=entry.width,
        height=entry.height,
        duration=entry.duration,
        source=Url.of(entry.source_url),
        fetched_at=_text(entry.fetched_at),
        method=_text(str(entry.method)),
        poster=local_href(folder, thumb_relative(sha)) if sha in thumbs else None,
        capture=capture,
    )


def _card(posts: dict[str, SidecarPost], key: str | None, depth: int = 0) -> Card | None:
    post = posts.get(key) if key else None
    if post is None or depth > QUOTE_DEPTH:
        return None
    if (
        post.reposted and post.reposted in posts
    ):  # a repost: the card is the original, said to be reposted
        card = _card(posts, post.reposted, depth + 1)
        if card is not None:
            return replace(card, reposted_by=_text(post.author))
    return Card(
        site=post.site,
        author=_text(post.author),
        author_name=_text(post.author_name),
        text=_text(post.text),
        created_at=_text(post.created_at),
        url=Url.of(post.url),
        quoted=_card(posts, post.quoted, depth + 1),
    )


def _hops(resolution: SidecarResolution | None) -> list[HopView]:
    return [
        HopView(
            url=Url.of(hop.url),
            status=hop.status,
            location=Url.of(hop.location),
            time=_text(hop.time),
            via=_text(str(hop.via)),
        )
        for hop in (resolution.hops if resolution else ())
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
    data: Sidecar,
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
    article = data.article
    folder = posixpath.normpath(folder)
    media = {m.sha256: m for m in data.media if m.sha256}
    posts = {p.key: p for p in data.posts if p.key}
    links: list[LinkView] = []
    outcomes: dict[str, int] = {}
    shown: set[str] = set()
    for entry in data.links:
        outcome = str(entry.outcome)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        footage = []
        for sha in dict.fromkeys(r.sha256 for r in entry.media if r.sha256):
            if sha in media:
                footage.append(
                    replace(_footage(media[sha], folder, thumbs), first=sha not in shown)
                )
                shown.add(sha)
        resolution = entry.resolution
        evidence = [
            (posixpath.basename(name), href)
            for name in entry.evidence
            for href in [local_href(folder, f"{folder}/{name}")]
            if href is not None
        ]
        links.append(
            LinkView(
                url=Url.of(entry.url) or Url("", None),
                raw=_text(entry.raw),
                kind=str(entry.kind),
                found_in=_text(str(entry.found_in)),
                attribution=_text(entry.attribution),
                outcome=outcome,
                label=label(outcome),
                tone=tone(outcome),
                reason=_text(entry.reason),
                resolved_at=_text(entry.resolved_at),
                hops=_hops(resolution),
                final_url=Url.of(resolution.final_url) if resolution else None,
                card=_card(posts, entry.post),
                footage=footage,
                evidence=evidence,
            )
        )

    def own(name: str | None) -> str | None:
        return local_href(folder, f"{folder}/{name}") if name else None

    return ArticleView(
        id=article.id,
        folder=folder,
        title=_text(article.title) or "(untitled)",
        source=Url.of(article.source),
        canonical=Url.of(article.canonical_url),
        published=_text(article.published),
        archived_at=_text(article.archived_at),
        first_archived=first_archived,
        origin_name=_text(article.origin_name),
        origin=Url.of(article.origin_url),
        original=own(article.original),
        origin_page=own(article.origin_page),
        links=links,
        exports=_exports(folder_path, folder),
        outcomes=outcomes,
        footage_count=len(shown),
    )
