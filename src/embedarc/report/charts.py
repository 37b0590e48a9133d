"""The numbers behind the charts, and their geometry: the page draws them as inline SVG.

The link-rot curve comes from `check`'s record of each archived link (`link_checks`): when it
was last seen alive and first seen dead. For N days after a link was archived, the link counts
only when `check` looked at it N days or more after archiving it, and when its state on day N
is known from that record: alive if it was seen alive on or after day N, dead if it was seen
dead from before day N onwards (a link seen alive again loses its first_dead). The share is
alive / (alive + dead) among those; days with no such link have no point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..keeping.index import Index

DAYS = 60  # the daily chart's span, ending today
WIDTH, HEIGHT = 600, 160
PAD = 28
ROT_DAYS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365, 540, 730)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str
    value: int


@dataclass(frozen=True)
class Series:
    """Articles and media archived per day, as two rows of bars."""

    articles: list[Bar]
    media: list[Bar]
    max_articles: int
    max_media: int
    first: str
    last: str


@dataclass(frozen=True)
class Point:
    days: int
    share: float  # alive / known, 0..1
    known: int
    alive: int
    x: float
    y: float


@dataclass(frozen=True)
class Curve:
    points: list[Point]
    path: str  # the SVG polyline's points
    ticks: list[tuple[float, int]]  # (x, days)
    checked_links: int


def parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bars(counts: dict[str, int], days: list[str], top: float, height: float) -> list[Bar]:
    highest = max(counts.values(), default=0) or 1
    step = (WIDTH - 2 * PAD) / len(days)
    bars = []
    for n, day in enumerate(days):
        value = counts.get(day, 0)
        h = height * value / highest
        bars.append(Bar(PAD + n * step, top + height - h, max(step - 1, 1), h, day, value))
    return bars


def daily_series(index: Index, now: datetime) -> Series:
    today = now.date()
    days = [(today - timedelta(days=DAYS - 1 - n)).isoformat() for n in range(DAYS)]
    start = days[0]
    articles = {
        row["day"]: row["n"]
        for row in index.db.query(
            "select substr(first_archived, 1, 10) day, count(*) n from articles"
            " where first_archived >= ? group by 1",
            [start],
        )
    }
    # A file counts on the day it was first fetched, however many URLs led to it.
    media = {
        row["day"]: row["n"]
        for row in index.db.query(
            "select day, count(*) n from (select substr(min(fetched_at), 1, 10) day"
            " from media_sources group by sha256) where day >= ? group by day",
            [start],
        )
    }
    half = (HEIGHT - 3 * PAD / 2) / 2
    return Series(
        articles=_bars(articles, days, PAD / 2, half),
        media=_bars(media, days, PAD + half, half),
        max_articles=max(articles.values(), default=0),
        max_media=max(media.values(), default=0),
        first=days[0],
        last=days[-1],
    )


def rot_points(rows: list[dict[str, object]], now: datetime) -> list[tuple[int, int, int]]:
    """(N days, links whose state on day N is known, of them alive) for each N in ROT_DAYS."""
    history = [
        (archived, checked, parse(row["last_alive"]), parse(row["first_dead"]))
        for row in rows
        for archived, checked in [(parse(row["archived"]), parse(row["last_checked"]))]
        if archived is not None and checked is not None
    ]
    found = []
    for days in ROT_DAYS:
        known = alive = 0
        for archived, checked, last_alive, first_dead in history:
            day = archived + timedelta(days=days)
            if day > now or checked < day:
                continue  # not N days old yet, or not looked at since day N
            if last_alive is not None and last_alive >= day:
                known, alive = known + 1, alive + 1
            elif first_dead is not None and first_dead <= day:
                known += 1
        if known:
            found.append((days, known, alive))
    return found


def rot_curve(index: Index, now: datetime) -> Curve:
    rows = list(
        index.db.query(
            "select coalesce(l.resolved_at, a.first_archived) archived, c.last_checked,"
            " c.last_alive, c.first_dead from link_checks c join links l on l.id = c.link_id"
            " join articles a on a.id = l.article_id"
        )
    )
    measured = rot_points(rows, now)
    span = max((d for d, _, _ in measured), default=0) or 1
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x_of(days: int) -> float:
        # Square-root time: the first days, when most links die, get room to be seen.
        return float(PAD + inner_w * (days / span) ** 0.5)

    points = [
        Point(d, alive / known, known, alive, x_of(d), PAD + inner_h * (1 - alive / known))
        for d, known, alive in measured
    ]
    ticks = [(x_of(d), d) for d in ROT_DAYS if d <= span and d in (0, 1, 7, 30, 90, 365, 730)]
    return Curve(
        points=points,
        path=" ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        ticks=ticks,
        checked_links=len(rows),
    )
