"""The retry schedule: when a link that failed transiently is tried again, and when to give up.

Within a run a failed link is tried again a few times after short pauses (`pause`); what still
fails gets a next-attempt time in the index (`retries` table): the server's own hint
(Retry-After, x-rate-limit-reset) when it gave one, else exponential backoff from
`retry_base`. After `max_attempts` runs it becomes `failed_permanently`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from ..clock import iso, utcnow
from ..config import Settings
from ..keeping.index import Index
from ..keeping.sidecar_record import SidecarLink
from ..model import Failure, Outcome


class RetryState(enum.StrEnum):
    """Where a link that failed for now stands in the retry schedule (the `retries` table)."""

    PENDING = "pending"  # to be tried again at next_attempt
    FAILED_PERMANENTLY = "failed_permanently"  # --max-attempts runs failed on it


IN_RUN_CAP = 30.0  # seconds: the longest a run waits before one retry
HINT_CAP = timedelta(days=365)  # a server asking to wait longer is not believed


def hint_time(value: str | None, now: datetime) -> datetime | None:
    """When a server said to come back: Retry-After (seconds or a date) or an epoch reset time.

    A stranger's header: a time that cannot be read, or written in UTC, is no hint, and one
    more than a year away is taken as a year away.
    """
    if not value:
        return None
    value = value.strip()[:64]
    try:
        if value.isdigit():
            number = int(value)
            if number > 1_000_000_000:  # x-rate-limit-reset: seconds since the epoch
                moment = datetime.fromtimestamp(min(number, 32_503_680_000), UTC)  # year 3000
            else:
                moment = now + timedelta(seconds=min(number, int(HINT_CAP.total_seconds())))
        else:
            moment = parsedate_to_datetime(value)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment = moment.astimezone(UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return min(moment, now + HINT_CAP)


def pause(settings: Settings, tries: int, hint: str | None) -> float | None:
    """Seconds to wait before try number `tries + 1` within a run; None: not within this run.

    A server asking for more than IN_RUN_CAP seconds is asked again by a later run, on time,
    rather than early.
    """
    now = utcnow()
    hinted = hint_time(hint, now)
    if hinted is not None:
        wait = (hinted - now).total_seconds()
        return max(0.0, wait) if wait <= IN_RUN_CAP else None
    return float(min(settings.retry_pause * 2**tries, IN_RUN_CAP))


def next_attempt(
    settings: Settings, attempts: int, hint: str | None, now: datetime
) -> datetime | None:
    """When to try again after `attempts` failed runs, or None: give up (failed permanently).

    The server's own hint wins; else `retry_base` doubled for each failed run. Links and
    source items share this one policy.
    """
    if attempts >= settings.max_attempts:
        return None
    hinted = hint_time(hint, now)
    return hinted or now + timedelta(seconds=settings.retry_base * 2 ** (attempts - 1))


@dataclass(frozen=True)
class Due:
    article_id: str
    folder: str


class RetryBook:
    """Reads and writes the `retries` table; used only from the thread that writes the index."""

    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.table = index.db.table("retries")
        self.db = index.db
        self.settings = settings

    def attempts(self, link_id: str) -> int:
        rows = list(self.table.rows_where("link_id = ?", [link_id], limit=1))
        return int(rows[0]["attempts"]) if rows else 0

    def settle(
        self, entries: Iterable[SidecarLink], *, article_id: str, fresh: set[str]
    ) -> list[SidecarLink]:
        """Record when each failed link is tried again; the entries with their attempt count,
        failure class and next attempt (new records: the ones given are not changed).

        Entries in `fresh` were tried in this run; the others were carried over unchanged.
        """
        now = utcnow()
        with self.index.write():
            entries = [
                self._settle_one(entry, article_id=article_id, fresh=fresh, now=now)
                for entry in entries
            ]
            # Links the article no longer has are not waited for.
            kept = [e.id for e in entries]
            marks = ", ".join("?" for _ in kept)
            self.db.execute(
                f"delete from retries where article_id = ? and link_id not in ({marks})",
                [article_id, *kept],
            )
        return entries

    def _settle_one(
        self, entry: SidecarLink, *, article_id: str, fresh: set[str], now: datetime
    ) -> SidecarLink:
        link_id = entry.id
        if entry.outcome is not Outcome.FAILED:
            # Final now, whenever it became so: nothing to wait for (even if an earlier write
            # of this row was lost).
            self.table.delete_where("link_id = ? and state = 'pending'", [link_id])
            return entry
        if link_id not in fresh:
            return entry
        attempts = self.attempts(link_id) + 1
        retry_at = next_attempt(self.settings, attempts, entry.hint, now)
        state = RetryState.PENDING if retry_at is not None else RetryState.FAILED_PERMANENTLY
        entry = entry.updated(
            attempts=attempts,
            # Told where the failure happened (the link entry's `failure`), never read back
            # out of the reason's text.
            failure=entry.failure or Failure.OTHER,
            next_attempt=iso(retry_at) if retry_at is not None else None,
            outcome=Outcome.FAILED if retry_at is not None else Outcome.FAILED_PERMANENTLY,
        )
        self.table.upsert(
            {
                "link_id": link_id,
                "article_id": article_id,
                "url": entry.url,
                "attempts": attempts,
                "next_attempt": entry.next_attempt,
                "last_attempt": iso(now),
                "last_reason": entry.reason,
                "failure": str(entry.failure),
                "state": state,
            },
            pk="link_id",
        )
        return entry

    def give_up(self, article_id: str, reason: str) -> None:
        """Every pending retry of an article that cannot be tried again: failed permanently."""
        with self.index.write():
            self.db.execute(
                "update retries set state = 'failed_permanently', next_attempt = null,"
                " last_reason = ? where article_id = ? and state = 'pending'",
                [reason, article_id],
            )

    def forget_permanent(self, link_ids: Iterable[str]) -> None:
        """`run --retry-failed`: start these links' count afresh."""
        for link_id in link_ids:
            self.table.delete_where("link_id = ? and state = 'failed_permanently'", [link_id])

    def due(self, *, include_permanent: bool = False, now: datetime | None = None) -> list[Due]:
        """Articles with a link whose retry is due (or that failed permanently, if asked)."""
        moment = iso(now or utcnow())
        states = "('pending', 'failed_permanently')" if include_permanent else "('pending')"
        sql = f"""
            select distinct r.article_id, a.folder
            from retries r join articles a on a.id = r.article_id
            where r.state in {states} and (r.state = 'failed_permanently' or r.next_attempt <= ?)
        """
        return [Due(row["article_id"], row["folder"]) for row in self.db.query(sql, [moment])]
