"""What an archive holds, what is pending or failed, and what the web has lost since."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import iso, utcnow
from .index import Index
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

    @property
    def needs_attention(self) -> bool:
        """Monitoring should alert: links failed for good, or originals newly gone."""
        return bool(self.failed_permanently or self.newly_dead)

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
    dead = next(
        db.query("select count(*) n, max(last_checked) last from link_checks where alive = 0")
    )
    last_check = next(db.query("select max(last_checked) last from link_checks"))["last"]
    newly = list(
        db.query(
            "select c.url, c.first_dead, c.last_alive, c.detail, a.folder from link_checks c"
            " left join articles a on a.id = c.article_id where c.alive = 0 and c.first_dead >= ?",
            [iso(moment - since)],
        )
    )
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
        sources=[s.as_dict() for s in all_sources(index)],
    )
