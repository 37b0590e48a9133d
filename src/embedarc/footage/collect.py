"""From one link to its footage: resolve it, then ask the right source, download once per run."""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from .. import platforms
from ..clock import from_epoch, now
from ..config import Settings
from ..errors import BadURL, FetchFailed, Refused, TooLarge
from ..keeping.media import HLS_TYPES, extension_for, is_media_type, mime_for, probe
from ..keeping.store import Store
from ..model import (
    Evidence,
    Failure,
    Link,
    LinkResult,
    MediaFile,
    MediaKind,
    Outcome,
    Resolution,
    Stop,
)
from ..network.net import Net, NetworkError
from ..network.once import Once
from ..network.resolve import Followed, resolve
from . import archives, direct, memento, wayback, ytdlp

T = TypeVar("T")


@dataclass(frozen=True)
class PostFootage:
    """What a registered platform gave for a post: its outcome, the post, its files."""

    outcome: Outcome
    reason: str | None
    post: platforms.Post | None
    media: tuple[MediaFile, ...]
    evidence: tuple[Evidence, ...]
    retry_after: str | None = None
    not_mine: bool = False  # the URL is no post of the platform: follow it as a link
    failure: Failure | None = None  # what kind, when the outcome is `failed`


@dataclass(frozen=True)
class _Files:
    """The files of a post fetched, and how that went (outcome None: there were none)."""

    outcome: Outcome | None
    reason: str | None
    files: tuple[MediaFile, ...]
    retry_after: str | None = None
    failure: Failure | None = None


@dataclass
class Rescue:
    """What the Wayback Machine gave for dead URLs."""

    files: list[MediaFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: wayback.WaybackUnavailable | None = None  # it could not answer: try later

    def outcome(self, dead: Outcome) -> Outcome:
        """Archived from a capture; else `dead`, unless the archive could not be asked now."""
        if self.files:
            return Outcome.ARCHIVED_FROM_WAYBACK
        return Outcome.FAILED if self.unavailable is not None else dead

    @property
    def retry_after(self) -> str | None:
        return self.unavailable.retry_after if self.unavailable is not None else None

    @property
    def failure(self) -> Failure | None:
        return failure_kind(self.unavailable) if self.unavailable is not None else None


@dataclass
class Collector:
    """What the workers of one run share: the network, the store, and what is already known."""

    net: Net
    store: Store
    settings: Settings
    known: dict[str, MediaFile] = field(default_factory=dict)  # source URL -> archived file
    downloaded: set[str] = field(default_factory=set)  # sha256 of files new in this run
    post_media: dict[str, list[str]] = field(default_factory=dict)  # from earlier lookups
    session: platforms.Session = field(init=False)  # what the platforms share this run
    _posts: Once = field(default_factory=Once)
    _media: Once = field(default_factory=Once)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.session = platforms.Session(
            cookies=self.settings.cookies, third_parties=self.settings.third_parties
        )

    # -- downloads, each URL once ---------------------------------------------------------

    def _remember(self, media: MediaFile) -> MediaFile:
        with self._lock:
            self.known[media.source_url] = media
            self.downloaded.add(media.sha256)
        return media

    def _known(self, url: str) -> MediaFile | None:
        """A file archived from this URL before, if it is still in the store."""
        with self._lock:
            media = self.known.get(url)
            if media is not None and not (self.store.root / media.path).is_file():
                del self.known[url]  # lost from the store: fetch it again
                media = None
        return media

    def _stored(self, url: str, produce: Callable[[], MediaFile]) -> MediaFile:
        """The file for a URL: known already, or produced now, once per run however asked."""
        return self._media(url, lambda: self._known(url) or self._remember(produce()))

    def media(self, url: str, **meta: Any) -> MediaFile:
        """The archived file for a media URL: from an earlier run, or downloaded now."""
        got = self._stored(
            url,
            lambda: direct.download(
                self.net,
                self.store,
                url,
                max_size=self.settings.max_file_size,
                max_pixels=self.settings.max_image_pixels,
            ),
        )
        return replace(got, **meta)

    def _save_open(self, response: httpx.Response) -> MediaFile | None:
        """Store the file resolution found open; None when a partial file waits to be resumed
        (by `media`, once resolution has let go of its connection slot)."""
        url = str(response.url)
        if self.store.has_partial(url) and self._known(url) is None:
            return None
        return self._stored(
            url,
            lambda: direct.save_open(
                self.store,
                response,
                max_size=self.settings.max_file_size,
                max_pixels=self.settings.max_image_pixels,
            ),
        )

    def from_wayback(self, urls: list[str], *, pages: bool = False, **meta: Any) -> Rescue:
        """Captures of dead URLs from the Wayback Machine: the files, and a note per URL."""
        rescue = Rescue()
        if not self.settings.wayback:
            return rescue
        for url in urls:
            try:
                capture = wayback.find_capture(self.net, url, media_only=not pages)
                if capture is None:
                    rescue.notes.append(f"no Wayback Machine capture of {url}")
                    continue
                fetch = functools.partial(
                    wayback.fetch_capture,
                    self.net,
                    self.store,
                    capture,
                    max_size=self.settings.max_file_size,
                    max_pixels=self.settings.max_image_pixels,
                    pages=pages,
                )
                got = self._stored(capture.raw_url, fetch)
                rescue.files.append(replace(got, **capture.provenance(), **meta))
                rescue.notes.append(f"Wayback Machine capture of {url} from {capture.captured_at}")
            except wayback.WaybackUnavailable as e:
                rescue.notes.append(f"Wayback Machine: {e}")
                rescue.unavailable = rescue.unavailable or e
            except (FetchFailed, NetworkError, TooLarge) as e:
                rescue.notes.append(f"Wayback Machine: {e}")
        return rescue

    def with_ytdlp(self, url: str, **meta: Any) -> tuple[ytdlp.Result, tuple[MediaFile, ...]]:
        """Run yt-dlp on `url` and move what it downloaded into the store."""
        workdir = Path(tempfile.mkdtemp(prefix="ytdlp-", dir=self.store.tmp_dir))
        try:
            result = ytdlp.fetch(
                self.net,
                url,
                workdir=workdir,
                cookies=self.settings.cookies,
                max_size=self.settings.max_file_size,
                max_seconds=self.settings.max_download_time,
            )
            files: list[MediaFile] = []
            bombs: list[str] = []
            for download in result.downloads:
                try:
                    files.append(self._adopt(download, **meta))
                except TooLarge as e:  # an image bomb: measured, never stored
                    bombs.append(str(e))
            if bombs and not files:
                result = replace(result, outcome=Outcome.TOO_LARGE, reason="; ".join(bombs))
            return result, tuple(files)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _adopt(self, download: ytdlp.Download, **meta: Any) -> MediaFile:
        received = self.store.adopt(download.path)
        mime = mime_for(download.path)
        measured = probe(download.path, mime, max_pixels=self.settings.max_image_pixels)
        path = self.store.commit(received, extension_for(measured.mime, download.path.name))
        media = MediaFile(
            sha256=received.sha256,
            size=received.size,
            mime=measured.mime,
            path=self.store.relative(path),
            source_url=download.url,
            fetched_at=now(),
            method=download.method,
            width=measured.width,
            height=measured.height,
            duration=measured.duration,
            remuxed=download.remuxed,
            tool=f"yt-dlp {ytdlp.version()}",
            **meta,
        )
        return self._remember(media)

    def _files(self, wanted: list[tuple[str, dict[str, Any]]]) -> _Files:
        """Every file of a post, each from its URL, else from a capture if its URL is dead.

        The outcome is None when there was nothing to fetch; with some files kept and some
        gone or too large, it is `archived` and the reason says which are missing.
        """
        files: list[MediaFile] = []
        problems: list[tuple[Outcome, str]] = []
        retry_after: str | None = None
        failure: Failure | None = None  # of the first file that failed for now
        rescued_any = False
        for url, meta in wanted:
            if url.split("?", 1)[0].endswith(".m3u8"):
                # No progressive file exists: the HLS stream is all there is.
                result, got = self.with_ytdlp(url, **meta)
                if result.outcome is not Outcome.ARCHIVED:
                    problems.append((result.outcome, f"{url}: {result.reason}"))
                    retry_after = retry_after or result.retry_after
                    failure = failure or result.failure
                files.extend(got)
                continue
            try:
                files.append(self.media(url, **meta))
            except (FetchFailed, NetworkError, TooLarge) as e:
                outcome, hint = failure_outcome(e)
                kind: Failure | None = failure_kind(e)
                if outcome is Outcome.GONE:
                    rescue = self.from_wayback([url], **meta)
                    files.extend(rescue.files)
                    rescued_any = rescued_any or bool(rescue.files)
                    outcome, hint = rescue.outcome(outcome), hint or rescue.retry_after
                    kind = rescue.failure
                    if rescue.files:
                        continue
                    problems.append((outcome, "; ".join([str(e), *rescue.notes])))
                else:
                    problems.append((outcome, str(e)))
                retry_after = retry_after or hint
                if outcome is Outcome.FAILED:
                    failure = failure or kind
        reason = "; ".join(p[1] for p in problems) or None
        if problems:
            worst = _worst([p[0] for p in problems])
            if worst is Outcome.FAILED or not files:
                return _Files(worst, reason, tuple(files), retry_after, failure)
        if not files:
            return _Files(None, None, ())
        if rescued_any:
            reason = "; ".join(filter(None, ["some media only from the Wayback Machine", reason]))
            return _Files(Outcome.ARCHIVED_FROM_WAYBACK, reason, tuple(files))
        # Some media may be gone or too large while the rest is kept: the reason says which.
        return _Files(Outcome.ARCHIVED, reason, tuple(files))

    # -- posts of the other platforms ------------------------------------------------------

    def post(self, ref: platforms.PostRef) -> PostFootage:
        """Look a post up once per run, however many links point at it, and fetch its media."""
        return self._posts(
            ref.key, lambda: self._post(ref), keep=lambda found: found.outcome is not Outcome.FAILED
        )

    def _post(self, ref: platforms.PostRef) -> PostFootage:
        answer = platforms.platform(ref.site).look_up(self.net, ref, self.session)
        if answer.not_mine:
            why = answer.reason or "not a post"
            return PostFootage(Outcome.NO_MEDIA, why, None, (), answer.evidence, not_mine=True)
        if answer.post is None and answer.ytdlp_url is not None:
            tried = self._post_with_ytdlp(ref, answer)
            if isinstance(tried, PostFootage):
                return tried
            answer = tried
        post = answer.post
        if post is None:
            return self._gone_or_not(ref, answer)
        wanted = [
            (item.url, {"post": owner.key, "author": owner.author, "kind": item.kind})
            for owner, item in post.all_media()
        ]
        got = self._files(wanted)
        if got.outcome is None:
            why = "the post carries no media"
            if post.card:
                why = f"card only ({post.card}): {why}"
            return PostFootage(Outcome.NO_MEDIA, why, post, (), answer.evidence)
        return PostFootage(
            got.outcome,
            got.reason,
            post,
            got.files,
            answer.evidence,
            got.retry_after,
            failure=got.failure,
        )

    def _post_with_ytdlp(
        self, ref: platforms.PostRef, answer: platforms.PostAnswer
    ) -> PostFootage | platforms.PostAnswer:
        """No service of the site could answer now: yt-dlp may still get the videos. Its
        footage, or the answer with what yt-dlp said added."""
        result, files = self.with_ytdlp(answer.ytdlp_url or ref.url, post=ref.key)
        evidence = answer.evidence
        if result.info is not None:
            evidence += (Evidence(f"{_evidence_stem(ref)}.ytdlp.info.json", _json(result.info)),)
        if result.outcome is Outcome.ARCHIVED:
            post = _post_from_info(ref, result.info or {})
            media = tuple(replace(m, author=post.author, kind=MediaKind.VIDEO) for m in files)
            # yt-dlp sees videos only: photos the post may carry are not among them.
            why = "only yt-dlp could answer, and it sees videos only: photos may be missing"
            return PostFootage(Outcome.ARCHIVED, why, post, media, evidence)
        # Its "no video" says nothing of the post (it never sees photos); a login it asks for does.
        login = result.outcome is Outcome.LOGIN_REQUIRED
        return replace(
            answer,
            outcome=Outcome.LOGIN_REQUIRED if login else answer.outcome,
            reason="; ".join(filter(None, [answer.reason, f"yt-dlp: {result.reason}"])),
            evidence=evidence,
            retry_after=answer.retry_after or result.retry_after,
            failure=answer.failure or result.failure,
        )

    def _gone_or_not(self, ref: platforms.PostRef, answer: platforms.PostAnswer) -> PostFootage:
        """A post the site could not show: why, and for a gone one what archives kept of it."""
        outcome = answer.outcome or Outcome.FAILED
        reason = answer.reason or "no answer"
        if outcome is not Outcome.GONE:
            failure = answer.failure or Failure.BAD_ANSWER
            return PostFootage(
                outcome,
                reason,
                None,
                (),
                answer.evidence,
                answer.retry_after,
                failure=failure if outcome is Outcome.FAILED else None,
            )
        earlier = self.post_media.get(ref.key)
        if earlier:
            # Gone now; the files an earlier lookup found may have been captured.
            rescue = self.from_wayback(earlier, post=ref.key)
        elif self.settings.wayback and (forms := platforms.archived_forms(ref)) is not None:
            # Gone before any lookup here: what web archives captured of it is all there is.
            return self._recovered(self._archives().recover(forms), reason, answer.evidence)
        else:
            # Deleted already: a capture of its page may still show what it was.
            rescue = self.from_wayback([ref.url], pages=True)
        reason = "; ".join([reason, *rescue.notes])
        return PostFootage(
            rescue.outcome(outcome),
            reason,
            None,
            tuple(rescue.files),
            answer.evidence,
            rescue.retry_after,
            failure=rescue.failure,
        )

    def _archives(self) -> archives.PostArchives:
        return archives.PostArchives(
            self.net,
            self.store,
            memento.sources(self.settings.memento_timemap),
            self._stored,
            self.media,
            self.settings.max_file_size,
            self.settings.max_image_pixels,
        )

    def _recovered(
        self, got: archives.Recovered, reason: str, evidence: tuple[Evidence, ...]
    ) -> PostFootage:
        reason = "; ".join([reason, *got.notes])
        if got.evidence is not None:
            evidence += (got.evidence,)
        post = got.post
        if got.files:
            # Named after the archives the files came from; the post's own capture is in reason.
            outcome = (
                Outcome.ARCHIVED_FROM_WAYBACK
                if got.archives <= {wayback.ARCHIVE_NAME}
                else Outcome.ARCHIVED_FROM_WEB_ARCHIVE
            )
            return PostFootage(outcome, reason, post, tuple(got.files), evidence)
        if got.unavailable is not None:
            return PostFootage(
                Outcome.FAILED,
                reason,
                post,
                (),
                evidence,
                got.unavailable.retry_after,
                failure=failure_kind(got.unavailable),
            )
        return PostFootage(Outcome.GONE, reason, post, (), evidence)

    # -- one link --------------------------------------------------------------------------

    def link(self, link: Link) -> LinkResult:
        """Resolve a link and archive the footage it leads to; never raises for network trouble."""
        known = self._known(link.url)
        if known is not None:
            resolution = Resolution(link.url, (), link.url, Stop.FINAL)
            return LinkResult(link, Outcome.ARCHIVED, resolution, media=(known,))
        try:
            followed = self._follow(link.url)
        except (FetchFailed, NetworkError, TooLarge) as e:
            return _failed(link, None, e)
        res = followed.resolution
        if res.stop is Stop.POST and (post_ref := platforms.claims(res.final_url)) is not None:
            found = self.post(post_ref)
            if found.not_mine:
                # Only the URL's shape was a post's (a blog's /@name/123): an ordinary link.
                try:
                    followed = self._follow(link.url, skip_site=post_ref.site)
                except (FetchFailed, NetworkError, TooLarge) as e:
                    return _failed(link, None, e)
                result = self._ordinary(link, followed)
                return replace(result, evidence=found.evidence + result.evidence)
            return LinkResult(
                link,
                found.outcome,
                res,
                found.reason,
                found.media,
                evidence=found.evidence,
                extra={"retry_after": found.retry_after} if found.retry_after else {},
                post=found.post,
                failure=found.failure,
            )
        return self._ordinary(link, followed)

    def _follow(self, url: str, *, skip_site: str | None = None) -> Followed[MediaFile | None]:
        return resolve(
            self.net,
            url,
            max_hops=self.settings.max_hops,
            stop_at=ytdlp.has_dedicated_extractor,
            on_media=self._save_open,
            skip_site=skip_site,
        )

    def _ordinary(self, link: Link, followed: Followed[MediaFile | None]) -> LinkResult:
        """What a link that is no post led to: a file, a page, a player, an error."""
        res = followed.resolution
        if res.stop is Stop.EXTRACTOR or (res.stop is Stop.FINAL and res.content_type in HLS_TYPES):
            result, files = self.with_ytdlp(res.final_url)
            evidence: tuple[Evidence, ...] = ()
            if result.info is not None:
                evidence = (
                    Evidence(f"{_safe_name(res.final_url)}.ytdlp.info.json", _json(result.info)),
                )
            return LinkResult(
                link,
                result.outcome,
                res,
                result.reason,
                tuple(files),
                evidence=evidence,
                failure=result.failure,
            )
        if res.stop is Stop.FINAL:
            if followed.media is not None:
                return LinkResult(link, Outcome.ARCHIVED, res, media=(followed.media,))
            if is_media_type(res.content_type or "") or self.store.has_partial(res.final_url):
                # A file cut off earlier: resumed now that resolution let go of its connection.
                try:
                    return LinkResult(
                        link, Outcome.ARCHIVED, res, media=(self.media(res.final_url),)
                    )
                except (FetchFailed, NetworkError, TooLarge) as e:
                    return _failed(link, res, e)
            return LinkResult(
                link, Outcome.NO_MEDIA, res, f"a {res.content_type or 'page'} without footage"
            )
        outcome, reason = stop_outcome(res)
        if outcome is Outcome.GONE and res.stop is Stop.HTTP_ERROR:
            # Dead already: a capture of what it was is the next best thing.
            rescue = self.from_wayback([res.final_url], pages=True)
            reason = "; ".join([reason, *rescue.notes])
            extra = {"retry_after": rescue.retry_after} if rescue.retry_after else {}
            return LinkResult(
                link,
                rescue.outcome(outcome),
                res,
                reason,
                tuple(rescue.files),
                extra=extra,
                failure=rescue.failure,
            )
        failure = stop_failure(res) if outcome is Outcome.FAILED else None
        return LinkResult(link, outcome, res, reason, failure=failure)


def failure_outcome(error: Exception) -> tuple[Outcome, str | None]:
    """The outcome a download error means, and the server's hint about when to ask again."""
    if isinstance(error, TooLarge):
        return Outcome.TOO_LARGE, None
    if isinstance(error, Refused):
        return Outcome.REFUSED, None
    if isinstance(error, BadURL):  # malformed, or data: and the like: the same every time
        return Outcome.GONE, None
    if isinstance(error, FetchFailed):
        # Only an error status speaks of the file; anything else (a web page where media was
        # expected, a size that does not add up) may be different next time.
        status = error.status or 0
        said = Outcome.for_http_status(status) if status >= 400 else Outcome.FAILED
        return said, error.retry_after
    return Outcome.FAILED, None


def failure_kind(error: Exception) -> Failure:
    """What kind of failure an error is, from its class and the status it carries."""
    if isinstance(error, FetchFailed):
        # No status: an answer that was not what was asked for (a page for a file, a size
        # that does not add up), or no answer at all from an archive.
        if error.status is None:
            return (
                Failure.NETWORK if isinstance(error.__cause__, NetworkError) else Failure.BAD_ANSWER
            )
        return Failure.for_status(error.status)
    if isinstance(error, NetworkError):
        return Failure.NETWORK
    return Failure.OTHER


def stop_failure(res: Resolution) -> Failure:
    """What kind of failure a chain that ended for now is."""
    if res.stop is Stop.HTTP_ERROR:
        return Failure.for_status(res.status)
    return Failure.NETWORK if res.stop is Stop.NETWORK_ERROR else Failure.OTHER


def _failed(link: Link, res: Resolution | None, error: Exception) -> LinkResult:
    outcome, hint = failure_outcome(error)
    extra = {"retry_after": hint} if hint else {}
    failure = failure_kind(error) if outcome is Outcome.FAILED else None
    return LinkResult(link, outcome, res, str(error), extra=extra, failure=failure)


def stop_outcome(res: Resolution) -> tuple[Outcome, str]:
    if res.stop is Stop.HTTP_ERROR and res.status is not None:
        return Outcome.for_http_status(res.status), f"HTTP {res.status}"
    if res.stop is Stop.REFUSED:
        return Outcome.REFUSED, res.error or "refused"
    if res.stop is Stop.BAD_URL:
        return Outcome.GONE, res.error or "malformed URL"
    if res.stop is Stop.TOO_LARGE:
        return Outcome.TOO_LARGE, res.error or "too large"
    if res.stop in (Stop.LOOP, Stop.HOP_LIMIT):
        return Outcome.GONE, res.error or str(res.stop)
    return Outcome.FAILED, res.error or str(res.stop)


_SEVERITY = [
    Outcome.FAILED,
    Outcome.REFUSED,
    Outcome.TOO_LARGE,
    Outcome.LOGIN_REQUIRED,
    Outcome.GONE,
    Outcome.NO_MEDIA,
]


def _worst(outcomes: list[Outcome]) -> Outcome:
    return min(outcomes, key=lambda o: _SEVERITY.index(o) if o in _SEVERITY else len(_SEVERITY))


def _json(data: Any) -> bytes:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


def _safe_name(url: str) -> str:
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _evidence_stem(ref: platforms.PostRef) -> str:
    """A file name for evidence about a post: its id when that is one, else a hash of it."""
    plain = ref.id.isascii() and ref.id.replace("_", "").replace("-", "").isalnum()
    return ref.id if plain else _safe_name(ref.key)


def _post_from_info(ref: platforms.PostRef, info: dict[str, Any]) -> platforms.Post:
    """What yt-dlp's answer says of a post: its author, text and time (videos only)."""
    stamp = info.get("timestamp")
    uploader = info.get("uploader_id")
    return platforms.Post(
        site=ref.site,
        id=ref.id,
        url=ref.url,
        author=f"@{uploader}" if isinstance(uploader, str) and uploader else None,
        author_name=info.get("uploader"),
        text=info.get("description") or "",
        created_at=from_epoch(int(stamp)) if isinstance(stamp, int | float) else None,
        source="ytdlp",
    )
