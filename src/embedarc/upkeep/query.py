"""`list` and `show`: what the archive kept, article by article.

`list` reads the index alone (it answers quickly on a large archive); `show` reads the
article's sidecar, the truth about its folder, and adds what only the index knows: what
`check` found about each link since, and when a link that failed is tried again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..clock import iso, utcnow
from ..errors import ArchiveError, UsageError
from ..keeping.index import Index, batches, like_escape
from ..units import parse_duration
from .maintenance import find_article

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_moment(value: str, *, end: bool = False, now: datetime | None = None) -> str:
    """A time as the index records it, from a day (`2024-03-01`: its start, or with `end` the
    start of the next day), an ISO time (`2024-03-01T12:00:00Z`) or an age (`7d`: so long ago).

    Always to the millisecond: the index holds both `...:05Z` and `...:05.250Z`, and only a
    bound written with its milliseconds compares with both as text in the order of time."""
    text = value.strip()
    if _DAY.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{value!r} is not a day (YYYY-MM-DD)") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return iso(start + timedelta(days=1) if end else start, ms=True)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    else:
        return iso(moment, ms=True)
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise UsageError(
            f"{value!r} is neither a day (2024-03-01), a time (2024-03-01T12:00:00Z)"
            " nor an age (7d, 12h)"
        ) from None
    return iso((now or utcnow()) - timedelta(seconds=seconds), ms=True)


@dataclass(frozen=True)
class Filters:
    """Which articles `list` shows; empty fields filter nothing."""

    outcomes: tuple[str, ...] = ()  # articles with a link that ended so
    site: str | None = None  # citing a post on this platform, or on this host
    since: str | None = None  # first archived at or after (UTC, ISO 8601)
    until: str | None = None  # first archived before
    limit: int = 100  # 0: all


@dataclass(frozen=True)
class ArticleRow:
    id: str
    folder: str
    title: str | None
    canonical_url: str | None
    published: str | None
    archived: str | None  # when first archived
    last_archived: str | None
    links: int
    media: int
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _on_site(url: object, site: object) -> int:
    """Whether `url` is on host `site` or under it (www.example.org is on example.org)."""
    if not isinstance(url, str) or not isinstance(site, str):
        return 0
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return 0
    site = site.lower().rstrip(".")
    return int(host == site or host.endswith(f".{site}"))


def _where(filters: Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.outcomes:
        marks = ", ".join("?" for _ in filters.outcomes)
        # Sets computed once, not a lookup per article, which SQLite would answer through the
        # outcome index by scanning every link of that outcome for each article.
        clauses.append(f"a.id in (select article_id from links where outcome in ({marks}))")
        params += list(filters.outcomes)
    if filters.site:
        site = filters.site.lower()
        escaped = like_escape(site)
        clauses.append(
            "(a.id in (select article_id from links where post like ? escape '\\')"
            " or embedarc_on_site(a.canonical_url, ?) or embedarc_on_site(a.source, ?))"
        )
        params += [f"{escaped}:%", site, site]
    if filters.since:
        clauses.append("a.first_archived >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("a.first_archived < ?")
        params.append(filters.until)
    return (" where " + " and ".join(clauses)) if clauses else "", params


def list_articles(index: Index, filters: Filters = Filters()) -> list[ArticleRow]:
    """The articles that pass `filters`, newest first, with their links, files and outcomes."""
    db = index.db
    db.conn.create_function("embedarc_on_site", 2, _on_site, deterministic=True)
    where, params = _where(filters)
    limit = f" limit {int(filters.limit)}" if filters.limit > 0 else ""
    chosen = (
        "select a.id, a.folder, a.title, a.canonical_url, a.published, a.first_archived,"
        f" a.last_archived from articles a{where}"
        f" order by a.first_archived desc, a.id{limit}"
    )
    rows = db.execute(chosen, params).fetchall()
    if not rows:
        return []
    # Counted for the chosen articles only, a few hundred at a time in grouped queries: not one
    # query per article, and not a subquery of the filter, which SQLite may run once per link.
    chosen_ids = [row[0] for row in rows]
    outcomes: dict[str, dict[str, int]] = {}
    media: dict[str, int] = {}
    for batch in batches(chosen_ids):
        marks = ", ".join("?" for _ in batch)
        for article_id, outcome, n in db.execute(
            f"select article_id, outcome, count(*) from links where article_id in ({marks})"
            " group by article_id, outcome order by article_id, outcome",
            batch,
        ):
            outcomes.setdefault(article_id, {})[outcome] = n
        media.update(
            db.execute(
                "select l.article_id, count(distinct lm.sha256) from link_media lm"
                f" join links l on l.id = lm.link_id where l.article_id in ({marks})"
                " group by l.article_id",
                batch,
            ).fetchall()
        )
    return [
        ArticleRow(
            id=row[0],
            folder=row[1],
            title=row[2],
            canonical_url=row[3],
            published=row[4],
            archived=row[5],
            last_archived=row[6],
            links=sum(outcomes.get(row[0], {}).values()),
            media=media.get(row[0], 0),
            outcomes=outcomes.get(row[0], {}),
        )
        for row in rows
    ]


# -- show --------------------------------------------------------------------------------------


def _pick(entry: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: entry.get(key) for key in keys}


# What `show` prints of each record, as the sidecar holds it (a value kept as a hand wrote it
# too: `show` says what the file says).
_LINK_KEYS = (
    "url", "raw", "kind", "found_in", "attribution", "outcome", "reason", "post",
    "resolved_at",
)  # fmt: skip
_HOP_KEYS = ("url", "status", "location", "time", "via")
_POST_KEYS = (
    "key", "site", "id", "url", "author", "author_name", "text", "created_at", "source",
    "origin_url", "quoted", "reposted",
)  # fmt: skip
_MEDIA_KEYS = (
    "sha256", "size", "mime", "width", "height", "duration", "path", "article_path",
    "source_url", "fetched_at", "method", "post", "author", "kind", "archive", "captured_at",
    "capture_url", "original_url",
)  # fmt: skip


def show_article(root: Path, index: Index, article: str) -> dict[str, Any]:
    """Everything needed to find an article's files and judge its links, as plain data.

    `article` names it as `remove` takes it: its id, the 8 characters that end its folder
    name, its folder name, or its canonical URL. Paths are relative to the archive.
    """
    found = find_article(root, article)
    folder = found.folder.relative_to(root).as_posix()
    if found.data is None:
        raise ArchiveError(f"{folder}/article.json cannot be read: try `embedarc verify`")
    data = found.data
    about = data.article.to_json()
    article_id = data.article.id
    indexed = index.find_article_by_id(article_id) or {}
    checks = _by_link(index, "link_checks", article_id)
    retries = _by_link(index, "retries", article_id)

    links = []
    for entry in data.links:
        resolution = entry.resolution
        check = checks.get(entry.id)
        retry = retries.get(entry.id)
        links.append(
            {
                **_pick(entry.to_json(), _LINK_KEYS),
                "final_url": resolution.to_json().get("final_url") if resolution else None,
                "hops": [_pick(hop.to_json(), _HOP_KEYS) for hop in resolution.hops]
                if resolution
                else [],
                "media": [m.to_json().get("sha256") for m in entry.media],
                "evidence": list(entry.evidence),
                "check": _pick(check, ("alive", "last_checked", "last_alive", "first_dead"))
                if check
                else None,
                "retry": _pick(retry, ("state", "attempts", "next_attempt", "last_reason"))
                if retry
                else None,
            }
        )
    original = about.get("original")
    origin_page = about.get("origin_page")
    return {
        "id": article_id,
        "folder": folder,
        "title": about.get("title"),
        "source": about.get("source"),
        "canonical_url": about.get("canonical_url"),
        "published": about.get("published"),
        "origin_name": about.get("origin_name"),
        "origin_url": about.get("origin_url"),
        "first_archived": indexed.get("first_archived"),
        "archived_at": about.get("archived_at"),
        "original": f"{folder}/{original}" if isinstance(original, str) else None,
        "origin_page": f"{folder}/{origin_page}" if isinstance(origin_page, str) else None,
        "links_skipped": about.get("links_skipped") or 0,
        "links": links,
        "posts": [_pick(post.to_json(), _POST_KEYS) for post in data.posts],
        "media": [_pick(media.to_json(), _MEDIA_KEYS) for media in data.media],
    }


def _by_link(index: Index, table: str, article_id: str) -> dict[str, dict[str, Any]]:
    if not index.db.table(table).exists():
        return {}
    rows = index.db.table(table).rows_where("article_id = ?", [article_id])
    return {str(row["link_id"]): row for row in rows}
