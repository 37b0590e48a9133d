"""The archive's page: every article newest first, what needs attention, and the charts.

Read from the index, not from 10,000 sidecars: one query per table, grouped in Python.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..keeping.index import Index
from ..keeping.thumbs import existing, thumb_relative
from .charts import Curve, Series, daily_series, rot_curve
from .outcomes import ORDER, label, tone
from .safe import local_href, web_href

STRIP = 4  # thumbnails per article in the list
ATTENTION_DAYS = 30  # originals first seen dead within this many days are "newly dead"
ATTENTION_ROWS = 200  # an archive where everything fails lists the first ones, and the count
LOCAL = "local file"


@dataclass(frozen=True)
class Row:
    title: str
    href: str | None
    when: str
    site: str
    site_class: str
    outcomes: list[tuple[str, str, str, int]]  # (outcome, label, tone, count)
    outcome_classes: str
    media: int
    thumbs: list[str]  # thumbnail hrefs


@dataclass(frozen=True)
class Attention:
    kind: str
    title: str
    href: str | None
    url: str
    url_href: str | None
    detail: str


@dataclass(frozen=True)
class Overview:
    articles: int
    links: int
    media: int
    media_bytes: int
    rows: list[Row]
    outcome_filters: list[tuple[str, str, str, int]]  # (outcome, label, tone, count)
    site_filters: list[tuple[str, str, int]]  # (class, site, count)
    attention: list[Attention]
    attention_more: int
    per_day: Series
    rot: Curve
    generated: str


def site_of(url: object) -> str:
    """An article's site: the host of its canonical URL, without `www.`."""
    if not isinstance(url, str) or web_href(url) is None:
        return LOCAL
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host or LOCAL


def overview(index: Index, root: Path, *, now: datetime | None = None) -> Overview:
    now = now or datetime.now(UTC)
    db = index.db
    articles = list(
        db.query(
            "select id, title, folder, canonical_url, source, published, first_archived"
            " from articles order by coalesce(first_archived, '') desc, id"
        )
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in db.query("select article_id, outcome, count(*) n from links group by 1, 2"):
        counts[row["article_id"]][row["outcome"]] = row["n"]
    media_of: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in db.query(
        "select l.article_id, m.sha256, m.mime, m.path from link_media lm"
        " join links l on l.id = lm.link_id join media m on m.sha256 = lm.sha256"
        " order by l.article_id, l.rowid"
    ):
        media_of[row["article_id"]].setdefault(row["sha256"], (row["mime"] or "", row["path"]))
    attention = _attention(index, now)
    totals = next(db.query("select count(*) n, coalesce(sum(size), 0) bytes from media"))

    site_by_id = {a["id"]: site_of(a["canonical_url"]) for a in articles}
    sites = Counter(site_by_id.values())
    site_classes = {site: f"s{n}" for n, (site, _) in enumerate(sites.most_common())}
    have_thumb = existing(root)
    outcome_totals: Counter[str] = Counter()
    rows: list[Row] = []
    for article in articles:
        mine = counts.get(article["id"], Counter())
        outcome_totals.update({o: 1 for o in mine})  # articles with a link of each outcome
        files = media_of.get(article["id"], {})
        folder = str(article["folder"] or "")
        strip = [thumb_relative(sha) for sha in files if sha in have_thumb][:STRIP]
        site = site_by_id[article["id"]]
        rows.append(
            Row(
                title=str(article["title"] or "(untitled)"),
                href=local_href("", f"{folder}/index.html") if folder else None,
                when=str(article["published"] or article["first_archived"] or "")[:16],
                site=site,
                site_class=site_classes[site],
                outcomes=[(o, label(o), tone(o), mine[o]) for o in ORDER if mine.get(o)],
                outcome_classes=" ".join(f"o-{o}" for o in ORDER if mine.get(o)),
                media=len(files),
                thumbs=strip,
            )
        )
    return Overview(
        articles=len(articles),
        links=sum(sum(c.values()) for c in counts.values()),
        media=int(totals["n"]),
        media_bytes=int(totals["bytes"]),
        rows=rows,
        outcome_filters=[
            (o, label(o), tone(o), outcome_totals[o]) for o in ORDER if outcome_totals[o]
        ],
        site_filters=[(site_classes[s], s, n) for s, n in sites.most_common()],
        attention=attention[:ATTENTION_ROWS],
        attention_more=max(len(attention) - ATTENTION_ROWS, 0),
        per_day=daily_series(index, now),
        rot=rot_curve(index, now),
        generated=now.strftime("%Y-%m-%d %H:%M UTC"),
    )


def _attention(index: Index, now: datetime) -> list[Attention]:
    """Failed for now, failed permanently, and originals newly found dead by `check`."""
    since = (now - timedelta(days=ATTENTION_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found: list[Attention] = []

    def add(kind: str, row: dict[str, Any], detail: str) -> None:
        folder = str(row.get("folder") or "")
        found.append(
            Attention(
                kind=kind,
                title=str(row.get("title") or folder or "(removed)"),
                href=local_href("", f"{folder}/index.html") if folder else None,
                url=str(row.get("url") or ""),
                url_href=web_href(row.get("url")),
                detail=detail,
            )
        )

    for row in index.db.query(
        "select l.url, l.outcome, l.reason, a.title, a.folder, r.next_attempt from links l"
        " join articles a on a.id = l.article_id left join retries r on r.link_id = l.id"
        " where l.outcome in ('failed', 'failed_permanently')"
        " order by l.outcome, coalesce(r.next_attempt, ''), l.url"
    ):
        when = f"; next try {row['next_attempt']}" if row["next_attempt"] else ""
        kind = label(row["outcome"])
        add(kind, row, f"{row['reason'] or ''}{when if row['outcome'] == 'failed' else ''}")
    for row in index.db.query(
        "select c.url, c.first_dead, c.last_alive, a.title, a.folder from link_checks c"
        " join articles a on a.id = c.article_id where c.alive = 0 and c.first_dead >= ?"
        " order by c.first_dead desc",
        [since],
    ):
        alive = f", last seen alive {row['last_alive']}" if row["last_alive"] else ""
        add("newly dead original", row, f"first seen dead {row['first_dead']}{alive}")
    return found
