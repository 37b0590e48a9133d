"""The scheduled job: one run at a time per archive; poll sources, archive, retry what is due."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import InputError, UsageError
from ..footage import wayback
from ..keeping import sidecar
from ..keeping.index import INDEX_NAME, Index
from ..keeping.lock import run_lock, writing
from ..keeping.store import Store, require_archive
from ..network.net import Net
from ..reading import articles
from ..reading.urls import redact
from . import sources
from .pipeline import Input, Progress, Report, archive
from .retries import RetryBook

RUN_HINT = "add a source first: `embedarc sources add URL|FOLDER|FILE`"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    """What one `run` did."""

    busy_pid: int | None = None  # another run holds the lock: this one did nothing
    polled: int = 0
    new_items: int = 0
    retried: int = 0
    source_errors: tuple[str, ...] = ()
    reports: tuple[Report, ...] = field(default_factory=tuple)
    rejected: tuple[sources.Rejected, ...] = ()  # items refused for good by this run

    @property
    def failed(self) -> bool:
        return bool(self.source_errors or self.rejected) or any(r.failed for r in self.reports)

    def as_dict(self) -> dict[str, object]:
        return {
            "busy_pid": self.busy_pid,
            "sources_polled": self.polled,
            "new_items": self.new_items,
            "articles_retried": self.retried,
            "source_errors": list(self.source_errors),
            "rejected_items": [r.as_dict() for r in self.rejected],
            "articles": [r.as_dict() for r in self.reports],
        }


def _item_input(item: sources.Item, max_size: int, max_links: int) -> Input:
    """What to archive for an item; InputError when its file cannot be read as an article."""
    if item.is_file:
        path = Path(item.target)
        return Input(
            item.target, article=articles.read_path(path, max_size=max_size, max_links=max_links)
        )
    return Input(item.target, url=item.target)


def _retry_input(store: Store, folder: str, max_links: int) -> Input | None:
    """An article to retry, read back from the original bytes its sidecar names."""
    data = sidecar.read(store.root / folder)
    if data is None:
        return None
    known = data.article
    name = known.original
    original = store.root / folder / name
    if not name or Path(name).name != name or not original.is_file():  # a plain name only
        return None
    source = known.source or folder
    # Its URL resolves the page's relative links as they were resolved the first time.
    article = articles.read_article(
        original.read_bytes(),
        source=source,
        content_type=known.media_type or None,
        url=known.canonical_url,
        max_links=max_links,
    )
    return Input(source, article=article)


def run_once(
    settings: Settings, *, retry_failed: bool = False, progress: Progress | None = None
) -> RunReport:
    """Poll every source, archive what is new, retry what is due; one run per archive at once.

    It works on an archive that exists (`sources add` or `archive` made it): from cron, a
    mistyped folder would otherwise be a new, empty archive polled in silence forever.
    """
    require_archive(settings.archive_dir, hint=RUN_HINT)
    store = Store(settings.archive_dir)
    store.ensure()
    with run_lock(settings.archive_dir) as busy:
        if busy is not None:
            return RunReport(busy_pid=busy)
        with writing(settings.archive_dir):
            return _run(settings, store, retry_failed, progress)


def _run(
    settings: Settings, store: Store, retry_failed: bool, progress: Progress | None
) -> RunReport:
    index = Index(settings.archive_dir / INDEX_NAME)
    try:
        errors: list[str] = []
        rejected: list[sources.Rejected] = []
        new = 0
        all_sources = sources.all_sources(index)
        with Net(settings) as net:
            for source in all_sources:
                polled = sources.poll(net, index, source)
                new += polled.new
                rejected.extend(polled.rejected)
                if polled.error:
                    errors.append(f"{source.shown}: {polled.error}")
        inputs: list[Input] = []
        items: list[sources.Item | None] = []
        for item in sources.pending(index, include_permanent=retry_failed):
            # Checked again here, not only when polled: an older version let bad ones in.
            reason = sources.problem(item)
            if reason is None:
                try:
                    inputs.append(_item_input(item, settings.max_article_size, settings.max_links))
                    items.append(item)
                    continue
                except InputError as e:
                    reason = str(e)
            sources.settle(index, item, settings, article_id=None, error=reason, final=True)
            rejected.append(sources.Rejected(redact(item.location), item.key, reason))
        # Still listed with the sources' errors, as before, for those who read only those.
        errors.extend(str(r) for r in rejected)
        book = RetryBook(index, settings)
        due = book.due(include_permanent=retry_failed)
        seen = {i.label for i in inputs}
        retried = 0
        for entry in due:
            retry = _retry_input(store, entry.folder, settings.max_links)
            if retry is None:
                # Nothing left to read it again from: waiting longer will not change that.
                book.give_up(entry.article_id, "cannot retry: the article's original is missing")
                errors.append(f"{entry.folder}: cannot retry, the article's original is missing")
            elif retry.label not in seen:
                inputs.append(retry)
                items.append(None)
                retried += 1
    finally:
        index.close()
    reports = (
        archive(inputs=inputs, settings=settings, progress=progress, retry_failed=retry_failed)
        if inputs
        else []
    )
    index = Index(settings.archive_dir / INDEX_NAME)
    try:
        for maybe, report in zip(items, reports, strict=True):
            if maybe is not None:
                sources.settle(
                    index,
                    maybe,
                    settings,
                    article_id=report.article_id,
                    error=report.error,
                    final=report.error_final,
                    hint=report.retry_after,
                )
    finally:
        index.close()
    return RunReport(
        polled=len(all_sources),
        new_items=new,
        retried=retried,
        source_errors=tuple(errors),
        reports=tuple(reports),
        rejected=tuple(rejected),
    )


def wayback_keys(env: dict[str, str] | None = None) -> tuple[str, str]:
    """Save Page Now keys from EMBEDARC_IA_ACCESS / EMBEDARC_IA_SECRET, or a usage error."""
    env = dict(os.environ) if env is None else env
    access, secret = env.get("EMBEDARC_IA_ACCESS", ""), env.get("EMBEDARC_IA_SECRET", "")
    if not access or not secret:
        raise UsageError(
            "--wayback-save needs your archive.org keys in EMBEDARC_IA_ACCESS and"
            " EMBEDARC_IA_SECRET (https://archive.org/account/s3.php)"
        )
    return access, secret


def submit_to_wayback(
    settings: Settings, reports: Iterable[Report], keys: tuple[str, str]
) -> list[wayback.SaveResult]:
    """Ask the Wayback Machine to capture newly archived articles; never fails the run.

    Save Page Now allows a few captures a minute: once it says so, the rest wait for the next run.
    """
    results: list[wayback.SaveResult] = []
    urls = [r.canonical_url for r in reports if r.created and r.canonical_url and not r.error]
    with Net(settings) as net:
        for url in urls:
            result = wayback.save_page(net, url, access=keys[0], secret=keys[1])
            results.append(result)
            log.info("Wayback Machine: %s %s %s", result.status, url, result.message or "")
            if result.status == wayback.SaveStatus.RATE_LIMITED:
                break
    return results


def run_loop(
    settings: Settings,
    *,
    every: float,
    runs: int | None = None,
    on_report: Callable[[RunReport], None],
    retry_failed: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """`run` again and again, `every` seconds apart (start to start), `runs` times or forever."""
    done = 0
    while runs is None or done < runs:
        started = time.monotonic()
        on_report(run_once(settings, retry_failed=retry_failed and done == 0))
        done += 1
        if runs is None or done < runs:
            sleep(max(0.0, every - (time.monotonic() - started)))
