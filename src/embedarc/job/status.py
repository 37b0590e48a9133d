"""What an archive holds, what is pending or failed, and what the web has lost since."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..clock import iso, utcnow
from ..keeping.index import Index
from ..reading.urls import redact
from .sources import all_sources


@dataclass(frozen=True)
class Status:
    articles: int
    links: dict[str, int]
    media_files: int
    media_bytes: int
    retry_due: int
    retry_later: int
    next_retry: str | None
    failed_permanently: list[dict[str, Any]] = field(default_factory=list)
    dead: int = 0  # archived links whose original has died (from `check`)
    newly_dead: list[dict[str, Any]] = field(default_factory=list)
    last_check: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    # Sources whose last poll failed (a feed answering 404, a list that cannot be read).
    failing_sources: list[dict[str, Any]] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)  # source items per state
    items_retry_due: int = 0
    items_retry_later: int = 0
    items_next_retry: str | None = None
    items_failed_permanently: list[dict[str, Any]] = field(default_factory=list)
    # RFC 3161 timestamps of the article folders' manifests, per state: `failed` and `pending`
    # ones are asked again by the next run or `embedarc timestamp`.
    timestamps: dict[str, int] = field(default_factory=dict)

    @property
    def needs_attention(self) -> bool:
        """Monitoring should alert: links or source items failed for good, originals newly
        gone, or a source that could not be polled."""
        return bool(
            self.failed_permanently
            or self.newly_dead
            or self.items_failed_permanently
            or self.failing_sources
        )

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "needs_attention": self.needs_attention}


def status(
    index: Index, *, since: timedelta = timedelta(days=1), now: datetime | None = None
) -> Status:
    """Summarise the archive; links first seen dead within `since` count as newly dead."""
    moment = now or utcnow()
    db = index.db
    links = {
        row["outcome"]: row["n"]
        for row in db.query("select outcome, count(*) n from links group by outcome")
    }
    media = next(db.query("select count(*) n, coalesce(sum(size), 0) bytes from media"))
    now_iso = iso(moment)
    pending = next(
        db.query(
            "select sum(next_attempt <= ?) due, sum(next_attempt > ?) later, min(next_attempt) next"
            " from retries where state = 'pending'",
            [now_iso, now_iso],
        )
    )
    permanent = list(
        db.query(
            "select r.url, r.attempts, r.last_reason, r.last_attempt, a.folder from retries r"
            " left join articles a on a.id = r.article_id where r.state = 'failed_permanently'"
        )
    )
    dead = next(db.query("select count(*) n from link_checks where alive = 0"))
    last_check = next(db.query("select max(last_checked) last from link_checks"))["last"]
    newly = list(
        db.query(
            "select c.url, c.first_dead, c.last_alive, c.detail, a.folder from link_checks c"
            " left join articles a on a.id = c.article_id where c.alive = 0 and c.first_dead >= ?",
            [iso(moment - since)],
        )
    )
    item_states = {
        row["state"]: row["n"]
        for row in db.query("select state, count(*) n from source_items group by state")
    }
    item_retries = next(
        db.query(
            "select sum(coalesce(next_attempt, '') <= ?) due, sum(next_attempt > ?) later,"
            " min(next_attempt) next from source_items where state = 'pending' and attempts > 0",
            [now_iso, now_iso],
        )
    )
    items_permanent = [
        {**row, "source": redact(row["source"])}
        for row in db.query(
            "select s.location as source, i.target, i.attempts, i.last_error, i.last_attempt"
            " from source_items i join sources s on s.id = i.source_id"
            " where i.state = 'failed_permanently' order by i.last_attempt"
        )
    ]
    known_sources = [s.as_dict() for s in all_sources(index)]
    stamps = {}
    if db["timestamps"].exists():  # a read-only archive of a release before timestamps
        stamps = {
            row["state"]: row["n"]
            for row in db.query("select state, count(*) n from timestamps group by state")
        }
    return Status(
        articles=db.table("articles").count,
        links=links,
        media_files=media["n"],
        media_bytes=media["bytes"],
        retry_due=pending["due"] or 0,
        retry_later=pending["later"] or 0,
        next_retry=pending["next"],
        failed_permanently=permanent,
        dead=dead["n"],
        newly_dead=newly,
        last_check=last_check,
        sources=known_sources,
        failing_sources=[s for s in known_sources if s["last_error"]],
        items=item_states,
        items_retry_due=item_retries["due"] or 0,
        items_retry_later=item_retries["later"] or 0,
        items_next_retry=item_retries["next"],
        items_failed_permanently=items_permanent,
        timestamps=stamps,
    )
