"""Wires the stages: articles → links → resolution → footage → store → index.

All links of all articles in one call share one pool of workers and the network's global and
per-host limits; only the calling thread writes article folders and the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .. import records
from ..clock import now
from ..config import Settings
from ..errors import ArchiveError, Interrupted
from ..evidence import kept as kept_evidence
from ..footage import ytdlp
from ..footage.collect import Collector, stop_failure, stop_outcome
from ..keeping import sidecar, thumbs
from ..keeping.changes import Changes
from ..keeping.exchanges import write_capture
from ..keeping.index import INDEX_NAME, Index
from ..keeping.lock import writing
from ..keeping.sidecar_record import (
    EarlierOriginal,
    Sidecar,
    SidecarLink,
    SidecarMedia,
    SidecarPost,
    Unknown,
)
from ..keeping.store import Store, file_sha256, is_stored_name, slugify
from ..model import Article, Failure, FoundIn, Link, LinkKind, LinkResult, Outcome, Stop
from ..network.capture import Exchange, Recorder
from ..network.net import Net
from ..network.once import Once
from ..network.resolve import Followed, resolve
from ..reading import articles
from ..reading.links import Found, html_links, normalise
from .retries import RetryBook, pause

log = logging.getLogger(__name__)

# After Ctrl-C, how long running workers get to notice and stop (a download between two
# chunks, a pause) before the run ends without them; their partial files stay resumable.
STOP_GRACE = 1.0


@dataclass(frozen=True)
class Input:
    """One thing to archive: an article already read (file, stdin) or a URL to fetch."""

    label: str
    article: Article | None = None
    url: str | None = None


@dataclass(frozen=True)
class Report:
    """What happened to one article: the one-line summary and the --json object."""

    source: str
    title: str | None = None
    article_id: str | None = None
    folder: str | None = None
    created: bool = False  # first archived by this run
    canonical_url: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    media: int = 0
    new_media: int = 0
    error: str | None = None
    failures: tuple[tuple[str, str], ...] = ()  # (url, reason) of links that failed for now
    error_final: bool = False  # the error will not change on a later run (404, not a page)
    same_as: str | None = None  # an earlier input of this call that was the same article
    retry_after: str | None = None  # when the article's server said to come back, if it did
    links_skipped: int = 0  # over --max-links: neither resolved nor recorded one by one
    # (TSA, why) of the timestamps asked for after the write that failed: asked again later
    timestamp_failures: tuple[tuple[str, str], ...] = ()

    @property
    def failed(self) -> bool:
        """Whether something here went wrong that needs a later run or a look (exit status 1)."""
        return self.error is not None or self.outcomes.get(str(Outcome.FAILED), 0) > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "article_id": self.article_id,
            "folder": self.folder,
            "canonical_url": self.canonical_url,
            "links": sum(self.outcomes.values()),
            "outcomes": self.outcomes,
            "media": self.media,
            "new_media": self.new_media,
            "error": self.error,
            "failures": [{"url": url, "reason": reason} for url, reason in self.failures],
            "same_as": self.same_as,
            "links_skipped": self.links_skipped,
            "timestamp_failures": [
                {"tsa": tsa, "reason": why} for tsa, why in self.timestamp_failures
            ],
        }

    def summary(self) -> str:
        if self.error:
            return f"FAILED {self.source}: {self.error}"
        counts = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        same = f" (the same article as {self.same_as})" if self.same_as else ""
        skipped = (
            f", {self.links_skipped} links skipped (over --max-links)" if self.links_skipped else ""
        )
        return (
            f"{self.title!r}: {sum(self.outcomes.values())} links ({counts or 'none'}){skipped}, "
            f"{self.media} media ({self.new_media} new) -> {self.folder}{same}"
        )


class Progress(Protocol):
    def add(self, count: int) -> None: ...
    def done(self, description: str) -> None: ...


class _Silent:
    def add(self, count: int) -> None:
        pass

    def done(self, description: str) -> None:
        pass


@dataclass
class _Job:
    input: Input
    article: Article | None = None
    origin: LinkResult | None = None
    origin_page: bytes | None = None
    origin_links: Found | None = None  # the origin page's embeds, found when it was parsed
    previous: Sidecar | None = None
    previous_folder: str | None = None
    links: list[Link] = field(default_factory=list)
    results: dict[str, LinkResult] = field(default_factory=dict)
    reused: dict[str, SidecarLink] = field(default_factory=dict)
    waiting: int = 0
    error: str | None = None
    error_final: bool = False
    retry_after: str | None = None


def archive(
    *,
    inputs: list[Input],
    settings: Settings,
    progress: Progress | None = None,
    retry_failed: bool = False,
) -> list[Report]:
    """Archive every input's footage into `settings.archive_dir`; one report per input.

    Links that reached a final outcome in an earlier run are not asked again; with
    `retry_failed`, links that failed permanently are tried afresh.
    """
    progress = progress or _Silent()
    store = Store(settings.archive_dir)
    store.ensure()
    with writing(settings.archive_dir):
        return _archive(inputs, settings, store, progress, retry_failed)


def _archive(
    inputs: list[Input],
    settings: Settings,
    store: Store,
    progress: Progress,
    retry_failed: bool,
) -> list[Report]:
    index = Index(settings.archive_dir / INDEX_NAME)
    # Bodies of the run's pages and API answers, until their articles are written.
    recorder = Recorder(Path(tempfile.mkdtemp(prefix="capture-", dir=store.tmp_dir)))
    try:
        known = index.known_media()
        with Net(settings, recorder=recorder) as net:
            pool = ThreadPoolExecutor(settings.concurrency)
            run = _Run(Collector(net, store, settings, known), index, pool, progress, retry_failed)
            try:
                reports = run.go(inputs)
            except KeyboardInterrupt:
                # Ctrl-C: downloads stop between two chunks, pauses end, nothing new starts;
                # a worker stuck in a read is not waited for (the CLI exits without it).
                net.cancel()
                pool.shutdown(wait=False, cancel_futures=True)
                run.examiner.shutdown(wait=False, cancel_futures=True)
                wait(list(run.pending), timeout=STOP_GRACE)
                run.discard_stored()  # whole files of articles never written
                raise Interrupted(written=run.written, partial=_partials(store)) from None
            except BaseException:
                # The archive cannot be written: start nothing new, let running work end.
                pool.shutdown(wait=True, cancel_futures=True)
                run.examiner.shutdown(wait=True, cancel_futures=True)
                run.discard_stored()
                raise
            pool.shutdown(wait=True)
            try:
                failures = _evidence(net, index, store, settings, reports, run.examining)
            finally:
                run.examiner.shutdown(wait=True, cancel_futures=True)
            return [
                replace(r, timestamp_failures=failures[r.article_id])
                if r.article_id in failures and r.folder
                else r
                for r in reports
            ]
    finally:
        index.close()
        shutil.rmtree(recorder.spool_dir, ignore_errors=True)


def _evidence(
    net: Net,
    index: Index,
    store: Store,
    settings: Settings,
    reports: list[Report],
    examining: Mapping[str, Future[kept_evidence.Examined]],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Once the articles are written: perceptual hashes and credentials of the files stored
    so far that have none, then the timestamps of the articles written (and of those whose
    last request failed). Their failures are recorded and logged; no article is lost.
    Returns the timestamp failures by article id."""
    kept_evidence.examine(index, store.root, max_pixels=settings.max_image_pixels, ready=examining)
    failures: dict[str, tuple[tuple[str, str], ...]] = {}
    written = {(r.article_id, r.folder) for r in reports if r.article_id and r.folder}
    if settings.timestamp_urls:
        written |= set(kept_evidence.failed_articles(index))
    for article_id, folder in sorted(written):
        if not store.is_article_folder(folder):  # never trust a path from the index
            continue
        if not settings.timestamp_urls and not (store.root / folder / "timestamps").is_dir():
            continue  # never stamped: nothing to keep up to date
        try:
            # Stamping off for a folder stamped before: its new manifest is still written,
            # so `verify` can tell a later write from a change behind its back.
            done = kept_evidence.stamp(
                net, index, store, folder, article_id, settings.timestamp_urls
            )
        except (OSError, ArchiveError) as e:
            log.warning("cannot keep the timestamps of %s: %s", folder, e)
            continue
        if done.failed:
            failures[article_id] = done.failed
    return failures


def _partials(store: Store) -> int:
    """Partial downloads in tmp/ that a later run resumes."""
    count = 0
    for path in store.tmp_dir.glob("*.part"):
        with contextlib.suppress(OSError):  # a worker may remove one meanwhile
            count += path.stat().st_size > 0
    return count


class _Run:
    def __init__(
        self,
        collector: Collector,
        index: Index,
        pool: ThreadPoolExecutor,
        progress: Progress,
        retry_failed: bool,
    ) -> None:
        self.collector = collector
        self.retry_failed = retry_failed
        self.book = RetryBook(index, collector.settings)
        self.tries: dict[tuple[int, str], int] = {}
        self.store = collector.store
        self.settings = collector.settings
        self.index = index
        self.pool = pool
        self.progress = progress
        self.pending: dict[Future[Any], tuple[_Job, Link | None]] = {}
        # article id -> (the input that first wrote it in this call, its folder)
        self.first_written: dict[str, tuple[str, str]] = {}
        self.counted_new: set[str] = set()  # files already reported new by an earlier article
        self.jobs: list[_Job] = []
        self.reports: dict[int, Report] = {}
        self.unwritten: set[str] = set()  # files of articles whose write failed
        # Each distinct link once per run, however many articles carry it (syndicated copies
        # of one story share their short links); a failure is not kept, so a retry asks again.
        self.followed = Once()
        # New files are examined (perceptual hashes, credentials) and given their thumbnail
        # while the run goes on, on a core the downloads leave idle; the results are written
        # to the index once the articles are (evidence.examine).
        self.examiner = ThreadPoolExecutor(1, thread_name_prefix="examine")
        self.examining: dict[str, Future[kept_evidence.Examined]] = {}

    def _examine_new(self, result: LinkResult) -> None:
        for media in result.media:
            sha = media.sha256
            new = sha in self.collector.downloaded and sha not in self.examining
            if not new or not media.mime.startswith(("image/", "video/")):
                continue
            path = self.store.root / media.path
            self.examining[sha] = self.examiner.submit(
                self._examine_one, sha, path, media.mime, media.duration
            )

    def _examine_one(
        self, sha: str, path: Path, mime: str, duration: float | None
    ) -> kept_evidence.Examined:
        if self.settings.report:
            thumbs.ensure(self.store, sha, path, mime, self.settings.max_image_pixels)
        return kept_evidence.examine_file(
            path, mime, duration, max_pixels=self.settings.max_image_pixels
        )

    @property
    def _recorder(self) -> Recorder:
        recorder = self.collector.net.recorder
        assert recorder is not None
        return recorder

    @property
    def cancelled(self) -> threading.Event:
        return self.collector.net.cancelled

    @property
    def written(self) -> int:
        """Articles whose folder and index rows are written so far."""
        return sum(1 for report in self.reports.values() if report.folder is not None)

    def go(self, inputs: list[Input]) -> list[Report]:
        jobs = self.jobs = [_Job(i) for i in inputs]
        reports = self.reports
        for job in jobs:
            self.progress.add(1)
            self.pending[self.pool.submit(self._prepare, job)] = (job, None)
        while self.pending:
            done, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in done:
                job, link = self.pending.pop(future)
                if link is None:
                    future.result()  # _prepare records its own failures
                    self.progress.done(f"read {job.input.label}")
                    self._start_links(job)
                else:
                    result = future.result()
                    if self._retry_soon(job, link, result):
                        continue
                    job.results[link.url] = result
                    self._examine_new(result)
                    job.waiting -= 1
                    self.progress.done(f"{result.outcome}: {link.url}")
                if job.waiting == 0 and id(job) not in reports:
                    reports[id(job)] = self._finish(job)
        self._discard()
        return [reports[id(job)] for job in jobs]

    def _retry_soon(self, job: _Job, link: Link, result: LinkResult) -> bool:
        """Try a transient failure again within this run, after a short pause."""
        key = (id(job), link.url)
        tries = self.tries.get(key, 0)
        if result.outcome is not Outcome.FAILED or tries >= self.settings.retries:
            return False
        self.tries[key] = tries + 1
        hint = result.extra.get("retry_after") or (
            result.resolution.retry_after if result.resolution else None
        )
        delay = pause(self.settings, tries, hint)
        if delay is None:
            return False
        log.info("retrying in %.1f s: %s (%s)", delay, link.url, result.reason)
        self.pending[self.pool.submit(self._link, link, delay)] = (job, link)
        return True

    def _link(self, link: Link, delay: float = 0.0) -> LinkResult:
        """One link's work on a worker; a bug here costs this link, not the batch."""
        if delay > 0 and self.cancelled.wait(delay):
            return LinkResult(link, Outcome.FAILED, reason="interrupted", failure=Failure.OTHER)
        try:
            with self._recorder.scope(f"link:{link.url}"):
                found = self.followed(
                    link.url,
                    lambda: self.collector.link(link),
                    keep=lambda result: result.outcome is not Outcome.FAILED,
                )
            result = found if found.link == link else replace(found, link=link)
            # The unit of work travels as a record: what the writer gets is what a runner on
            # another machine would send back (records.py).
            return records.loads(LinkResult, records.dumps(result))
        except ArchiveError:
            raise  # the archive itself cannot be written: the whole run stops, with that message
        except Exception as e:
            if self.cancelled.is_set():  # Ctrl-C closed what it was using: not a bug
                return LinkResult(link, Outcome.FAILED, reason="interrupted", failure=Failure.OTHER)
            log.exception("unexpected error archiving %s", link.url)
            why = f"internal error: {e!r}"
            return LinkResult(link, Outcome.FAILED, reason=why, failure=Failure.OTHER)

    # -- worker side -----------------------------------------------------------------------

    def _prepare(self, job: _Job) -> None:
        """Fetch a URL input, find an earlier archive of it, resolve its origin link."""
        with self._recorder.scope(f"job:{id(job)}"):
            self._prepare_in_scope(job)

    def _prepare_in_scope(self, job: _Job) -> None:
        try:
            job.article = job.input.article or self._fetch_article(job)
            if job.article is None:
                return
            article = job.article
            job.previous_folder, job.previous = self._previous(
                content_sha256=article.content_sha256
            )
            if article.origin_url:
                self._resolve_origin(job)
            if job.previous is None and job.article.canonical_url:
                job.previous_folder, job.previous = self._previous(
                    canonical_url=job.article.canonical_url
                )
            job.links = self._links(job)
            for post in job.previous.posts if job.previous else ():
                # What an earlier lookup found: Wayback captures to look for if it is gone now.
                urls = [m.url for m in post.media if m.url]
                if urls:
                    self.collector.post_media.setdefault(post.key, urls)
        except Exception as e:  # a bug must not lose the rest of the batch
            if self.cancelled.is_set():  # Ctrl-C closed what it was using: not a bug
                job.error = "interrupted"
                return
            log.exception("unexpected error preparing %s", job.input.label)
            job.error = f"internal error: {e}"

    def _fetch_article(self, job: _Job) -> Article | None:
        url = job.input.url or ""
        followed = self._page(url)
        res = followed.resolution
        if followed.page is None:
            reason = res.error or (
                f"HTTP {res.status}" if res.status else f"not an article ({res.content_type})"
            )
            job.error = f"cannot fetch the article: {reason}"
            job.retry_after = res.retry_after
            # Not worth asking again: gone (404, 410), no page at all, too large, or an address
            # the guard refuses (it will refuse it every time).
            outcome = Outcome.NO_MEDIA if res.stop is Stop.FINAL else stop_outcome(res)[0]
            final = (Outcome.GONE, Outcome.NO_MEDIA, Outcome.TOO_LARGE, Outcome.REFUSED)
            job.error_final = outcome in final and (
                res.stop is not Stop.LOOP and res.stop is not Stop.HOP_LIMIT
            )
            return None
        article = articles.read_article(
            followed.page,
            source=url,
            content_type=res.content_type,
            url=res.final_url,
            max_links=self.settings.max_links,
        )
        if article.canonical_url is None:
            article = replace(article, canonical_url=normalise(res.final_url))
        return article

    def _page(self, url: str) -> Followed[None]:
        """Follow a link to a page, trying again within the run after a transient failure."""
        tries = 0
        while True:
            followed: Followed[None] = resolve(
                self.collector.net, url, max_hops=self.settings.max_hops
            )
            res = followed.resolution
            transient = res.stop not in (Stop.FINAL, Stop.POST, Stop.EXTRACTOR) and (
                stop_outcome(res)[0] is Outcome.FAILED
            )
            if not transient or tries >= self.settings.retries:
                return followed
            delay = pause(self.settings, tries, res.retry_after)
            if delay is None:
                return followed
            tries += 1
            log.info("retrying in %.1f s: %s (%s)", delay, url, stop_outcome(res)[1])
            if self.cancelled.wait(delay):  # Ctrl-C
                return followed

    def _previous(self, **where: str) -> tuple[str | None, Sidecar | None]:
        # Reads from a worker: a private connection, never the writer's.
        with Index.reader(self.index.path) as reader:
            row = reader.find_article(**where)
        if row is None:
            return None, None
        return row["folder"], _usable(sidecar.read(self.store.root / row["folder"]))

    def _resolve_origin(self, job: _Job) -> None:
        article = job.article
        assert article is not None and article.origin_url is not None
        link = Link(url=normalise(article.origin_url), kind=LinkKind.ORIGIN, raw=article.origin_url)
        prior = _prior_entry(job.previous, link.url)
        previous = job.previous
        if (
            prior is not None
            and prior.outcome is Outcome.ARCHIVED
            and previous is not None
            and job.previous_folder
        ):
            page_name = previous.article.origin_page or ""
            # A plain name in the folder only: a sidecar is a file anyone could have edited.
            if page_name and Path(page_name).name == page_name and page_name not in (".", ".."):
                page = _read(self.store.root / job.previous_folder / page_name)
                if page is not None:
                    job.origin_page = page
                    job.reused[link.url] = prior
                    job.article = replace(article, canonical_url=previous.article.canonical_url)
                    return
        followed = self._page(link.url)
        res = followed.resolution
        if followed.page is not None:
            canonical, job.origin_links = articles.read_origin_page(
                followed.page,
                url=res.final_url,
                max_links=self.settings.max_links,
                known=[link.url for link in _own_links(article, self.settings.max_links)],
            )
            job.origin_page = followed.page
            job.article = replace(article, canonical_url=canonical)
            job.origin = LinkResult(link, Outcome.ARCHIVED, res)
        elif res.stop is Stop.FINAL:
            job.origin = LinkResult(link, Outcome.NO_MEDIA, res, f"not a page: {res.content_type}")
        else:
            outcome, reason = stop_outcome(res)
            failure = stop_failure(res) if outcome is Outcome.FAILED else None
            job.origin = LinkResult(link, outcome, res, reason, failure=failure)

    def _links(self, job: _Job) -> list[Link]:
        """The article's links and its origin page's, at most max_links; the rest counted."""
        article = job.article
        assert article is not None
        limit = self.settings.max_links
        own = _own_links(article, limit)
        skipped = (
            article.links_skipped
            + sum(1 for link in article.links if link.kind is not LinkKind.ORIGIN)
            - len(own)
        )
        if job.origin_links is None and job.origin_page is not None:
            job.origin_links = html_links(  # an origin page kept by an earlier run
                job.origin_page,
                base_url=article.canonical_url,
                found_in=FoundIn.ORIGIN,
                limit=limit,
                known=[link.url for link in own],
            )
        found = job.origin_links or Found(())
        job.article = replace(article, links_skipped=skipped + found.skipped)
        return own + list(found.links)

    # -- calling thread --------------------------------------------------------------------

    def _start_links(self, job: _Job) -> None:
        if job.error is not None or job.article is None:
            return
        for link in job.links:
            prior = _prior_entry(job.previous, link.url)
            if prior is not None and _final(prior.outcome):
                again = self.retry_failed and prior.outcome is Outcome.FAILED_PERMANENTLY
                if not again:
                    job.reused[link.url] = prior  # a final outcome is not asked again
                    continue
                self.book.forget_permanent([prior.id])
            job.waiting += 1
            self.progress.add(1)
            self.pending[self.pool.submit(self._link, link)] = (job, link)

    def _finish(self, job: _Job) -> Report:
        if job.error is not None or job.article is None:
            return Report(
                job.input.label,
                error=job.error or "nothing to archive",
                error_final=job.error_final,
                retry_after=job.retry_after,
            )
        try:
            return self._write(job)
        except OSError as e:
            return Report(job.input.label, error=f"cannot write the archive: {e}")
        except ArchiveError:
            raise  # the archive itself cannot be written: the run stops, with that message
        except Exception as e:  # a bug in one article must not lose the reports of the others
            log.exception("unexpected error writing %s", job.input.label)
            return Report(job.input.label, error=f"internal error: {e!r}")

    def _write(self, job: _Job) -> Report:
        """Write the article's folder and index rows; on any failure, take back what it added."""
        changes = Changes()
        try:
            report = self._write_article(job, changes)
        except BaseException:
            changes.undo()
            self._drop_unreferenced(job)
            raise
        changes.keep()
        return report

    def _drop_unreferenced(self, job: _Job) -> None:
        """Note the files this run stored for a job whose write failed: once every article of
        the run is written, those that no index row cites are removed again (`_discard`)."""
        self.unwritten |= {m.sha256 for r in job.results.values() for m in r.media}

    def discard_stored(self) -> None:
        """A run that stops early: the files it stored that no written article cites go."""
        self.unwritten |= self.store.committed()
        self._discard()

    def _discard(self) -> None:
        """Remove the files stored for articles that could not be written, if nothing cites them.

        Left in media/, nothing would name them and `verify` would rightly call the archive
        unsound (and on a full disk they hold its space); the next run fetches them again. Done
        when every article of this run is written, so none of them can still be handed one of
        these files; and inside an index write transaction, with no index row naming the file:
        another process hard-links stored files into its folder and records them in one such
        transaction, so it either recorded the file already or finds it gone and fails cleanly.
        """
        if not self.unwritten:
            return
        try:
            with self.index.write():
                marks = ",".join("?" * len(self.unwritten))
                sql = f"select sha256 from media where sha256 in ({marks})"
                cited = {row[0] for row in self.index.db.execute(sql, sorted(self.unwritten))}
                for sha in sorted(self.unwritten - cited):
                    self.store.discard(sha)
        except (ArchiveError, sqlite3.Error) as e:
            log.warning("files stored for articles not written stay in media/: %s", e)

    def _write_article(self, job: _Job, changes: Changes) -> Report:
        article = job.article
        assert article is not None
        article_id, identity, same_as = self._identity(job, article)
        folder_name = job.previous_folder or _folder_name(article, article_id)
        if not self.store.is_article_folder(folder_name):  # never trust a path from the index
            folder_name = _folder_name(article, article_id)
        folder = self.store.root / folder_name
        original, earlier, origin_page = self._write_originals(job, article, folder, changes)
        stamp = now()
        results, fresh, entries = self._entries(job, article, article_id, stamp)
        # The retry schedule, the files and the index rows change together or not at all.
        with self.index.write():
            entries = self.book.settle(entries, article_id=article_id, fresh=fresh)
            media, posts = self._gather(job, results, entries, folder, changes)
            self._write_capture(job, results, set(media), folder, changes)
            data = sidecar.build(
                article,
                article_id=article_id,
                identity=identity,
                folder=folder_name,
                original=original,
                origin_page=origin_page,
                archived_at=stamp,
                earlier_originals=earlier,
                links=entries,
                media=list(media.values()),
                posts=list(posts.values()),
                ytdlp_version=ytdlp.version(),  # from the package metadata: no import
                previous=job.previous,
            )
            self.store.write_file(folder / sidecar.SIDECAR, sidecar.dumps(data), changes)
            self.index.write_article(data)
        self.first_written.setdefault(article_id, (job.input.label, folder_name))
        new_media = {sha for sha in media if sha in self.collector.downloaded} - self.counted_new
        self.counted_new |= new_media
        return Report(
            source=job.input.label,
            title=article.title,
            article_id=article_id,
            folder=folder_name,
            created=job.previous_folder is None,
            canonical_url=article.canonical_url,
            outcomes=dict(Counter(str(entry.outcome) for entry in entries)),
            media=len(media),
            new_media=len(new_media),
            same_as=same_as[0] if same_as is not None else None,
            links_skipped=article.links_skipped,
            failures=tuple((e.url, e.reason or "") for e in entries if e.outcome is Outcome.FAILED),
        )

    def _write_capture(
        self,
        job: _Job,
        results: list[LinkResult],
        media: set[str],
        folder: Path,
        changes: Changes,
    ) -> None:
        """Add the exchanges this run made for the article to its capture record: those made
        for it or its links, and those its links relied on that another link made first (a
        file or a service's answer fetched once per run)."""
        article = job.article
        assert article is not None
        urls = {m.source_url for r in results for m in r.media}
        urls |= {h.url for r in results if r.resolution for h in r.resolution.hops}
        evidence = {f"evidence/{e.name}": e.data for r in results for e in r.evidence}
        bodies = {hashlib.sha256(data).hexdigest() for data in evidence.values()}
        scopes = {f"job:{id(job)}"} | {f"link:{r.link.url}" for r in results}
        exchanges: list[Exchange] = self._recorder.select(scopes, urls, bodies)
        files = {**evidence, sidecar_original(article): article.raw}
        if job.origin_page is not None:
            files["origin.html"] = job.origin_page
        write_capture(
            self.store, self._recorder, folder, exchanges, media=media, files=files, changes=changes
        )

    def _identity(self, job: _Job, article: Article) -> tuple[str, str, tuple[str, str] | None]:
        """(article id, identity, the input and folder of this call that wrote it first).

        When this call wrote the article already, its record becomes the job's previous one,
        so this write adds to that one instead of overwriting it.
        """
        content_sha = article.content_sha256
        identity = article.canonical_url or f"sha256:{content_sha}"
        article_id = sidecar.short_hash(identity)
        known_as = job.previous.article if job.previous else None
        if known_as is not None and known_as.id and known_as.identity:
            # Archived before: it keeps its id, even if a canonical URL is only known now.
            article_id, identity = known_as.id, known_as.identity
        same_as = self.first_written.get(article_id)
        if same_as is not None:
            # The same article reached another way in this call (its file, its URL, a short
            # link to it): add to what was just written rather than write over it.
            job.previous_folder = same_as[1]
            job.previous = _usable(sidecar.read(self.store.root / same_as[1]))
        return article_id, identity, same_as

    def _write_originals(
        self, job: _Job, article: Article, folder: Path, changes: Changes
    ) -> tuple[str, list[EarlierOriginal], str | None]:
        """Write the article's bytes and its origin page: (original's name, the originals
        kept from earlier reads, the origin page's name)."""
        original = sidecar_original(article)
        self.store.write_file(folder / original, article.raw, changes)
        earlier = sidecar.earlier_originals(job.previous, original)
        for name in {"article.html", "article.txt"} - {original, *(e.name for e in earlier)}:
            if (folder / name).is_file():  # left unnamed by an earlier release: name it now
                sha = file_sha256(folder / name)[0]
                earlier.append(EarlierOriginal(name=name, content_sha256=sha))
        origin_page = None
        if job.origin_page is not None:
            origin_page = "origin.html"
            if not (folder / origin_page).exists() or job.origin is not None:
                self.store.write_file(folder / origin_page, job.origin_page, changes)
        return original, earlier, origin_page

    def _entries(
        self, job: _Job, article: Article, article_id: str, stamp: str
    ) -> tuple[list[LinkResult], set[str], list[SidecarLink]]:
        """(this run's results, the ids of the entries they make, every link entry in order)."""
        results = ([job.origin] if job.origin else []) + [
            job.results[link.url] for link in job.links if link.url in job.results
        ]
        fresh = {
            r.link.url: sidecar.link_entry(r, article_id=article_id, resolved_at=stamp)
            for r in results
        }
        order = ([normalise(article.origin_url)] if article.origin_url else []) + [
            link.url for link in job.links
        ]
        entries = [
            fresh.get(url) or job.reused[url] for url in order if url in fresh or url in job.reused
        ]
        # Links recorded with a final outcome but not found this time stay on record: a re-read
        # must not forget what was archived. A failed one no longer in the article is dropped.
        entries += [
            e
            for e in (job.previous.links if job.previous else ())
            if e.url not in order and _final(e.outcome)
        ]
        return results, {e.id for e in fresh.values()}, entries

    def _gather(
        self,
        job: _Job,
        results: list[LinkResult],
        entries: list[SidecarLink],
        folder: Path,
        changes: Changes,
    ) -> tuple[dict[str, SidecarMedia], dict[str, SidecarPost]]:
        """Write the evidence and link the media into the folder: (media, posts) for the
        sidecar, this run's merged over what the folder held before."""
        previous = job.previous
        media: dict[str, SidecarMedia] = {}
        prior_media = {m.sha256: m for m in previous.media} if previous else {}
        posts: dict[str, SidecarPost] = {p.key: p for p in previous.posts} if previous else {}
        for result in results:
            for evidence in result.evidence:
                self.store.write_file(folder / "evidence" / evidence.name, evidence.data, changes)
            for item in result.media:
                media[item.sha256] = sidecar.media_entry(item)
            for post in sidecar.post_entries(result.post):
                posts[post.key] = post
        for entry in entries:
            for ref in entry.media:
                if ref.sha256 not in media and ref.sha256 in prior_media:
                    media[ref.sha256] = prior_media[ref.sha256]
        for sha, entry_media in media.items():
            linked = self.store.link_media(folder, self.store.root / entry_media.path, changes)
            # A new record: the earlier sidecar's stays as it was read.
            media[sha] = entry_media.updated(article_path=self.store.relative(linked))
        return media, posts


def sidecar_original(article: Article) -> str:
    """The name of the article's original in its folder."""
    return "article.html" if article.media_type == "text/html" else "article.txt"


def _own_links(article: Article, limit: int) -> list[Link]:
    """The article's own links (not its "via" link), at most `limit`, first found first."""
    own = (link for link in article.links if link.kind is not LinkKind.ORIGIN)
    return [link for _, link in zip(range(limit), own, strict=False)]


def _usable(data: Sidecar | None) -> Sidecar | None:
    """An earlier sidecar as a new write builds on it. It is a file anyone could have edited:
    links and posts without what names them are left out (a link needs its id, url, kind and
    outcome as text, a post its key), and so are files not named as the store names them."""
    if data is None:
        return None
    # A file is linked into the folder again from its path: only the store's own name for its
    # sha256 will do, never "/home/…/.ssh/id_ed25519" or "../../elsewhere".
    media = tuple(m for m in data.media if is_stored_name(m.sha256, m.path))
    kept = {m.sha256 for m in media}
    links = tuple(
        e.updated(media=tuple(r for r in e.media if r.sha256 in kept))
        for e in data.links
        if e.id and e.url and e.kind and e.outcome
    )
    posts = tuple(p for p in data.posts if p.key)
    return data.updated(links=links, posts=posts, media=media)


def _final(outcome: Outcome | Unknown) -> bool:
    """Whether a recorded outcome is kept rather than asked again; one this release does
    not know (a later release wrote it, or a hand) is kept as it was recorded."""
    return outcome.is_final if isinstance(outcome, Outcome) else True


def _prior_entry(previous: Sidecar | None, url: str) -> SidecarLink | None:
    return previous.link(url) if previous is not None else None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _folder_name(article: Article, article_id: str) -> str:
    date = (article.published or now())[:10]
    return f"articles/{date}-{slugify(article.title)}-{article_id[:8]}"
