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
from ..links import tweet_ref
from ..media import HLS_TYPES, extension_for, is_media_type, mime_for, probe
from ..model import Evidence, Link, LinkResult, MediaFile, Outcome, Resolution, Stop, Tweet
from ..net import Net, NetworkError
from ..once import Once
from ..resolve import Followed, resolve
from ..store import Store
from . import archives, direct, graphql, memento, twitter, wayback, ytdlp

T = TypeVar("T")


@dataclass(frozen=True)
class TweetFootage:
    outcome: Outcome
    reason: str | None
    tweet: Tweet | None
    media: tuple[MediaFile, ...]
    evidence: tuple[Evidence, ...]
    retry_after: str | None = None


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


@dataclass(frozen=True)
class _Files:
    """The files of a post fetched, and how that went (outcome None: there were none)."""

    outcome: Outcome | None
    reason: str | None
    files: tuple[MediaFile, ...]
    retry_after: str | None = None


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


@dataclass
class Collector:
    """What the workers of one run share: the network, the store, and what is already known."""

    net: Net
    store: Store
    settings: Settings
    known: dict[str, MediaFile] = field(default_factory=dict)  # source URL -> archived file
    downloaded: set[str] = field(default_factory=set)  # sha256 of files new in this run
    tweet_media: dict[str, list[str]] = field(default_factory=dict)  # from earlier lookups
    _tweets: Once = field(default_factory=Once)
    _posts: Once = field(default_factory=Once)
    _graphql: graphql.GraphQL | None = None
    _media: Once = field(default_factory=Once)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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

    def with_ytdlp(
        self, url: str, *, api: str | None = None, **meta: Any
    ) -> tuple[ytdlp.Result, tuple[MediaFile, ...]]:
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
                api=api,
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

    # -- tweets ----------------------------------------------------------------------------

    @property
    def graphql(self) -> graphql.GraphQL:
        """One GraphQL client per run, so lookups share a guest token."""
        with self._lock:
            if self._graphql is None:
                self._graphql = graphql.GraphQL(self.net, self.settings.cookies)
            return self._graphql

    def tweet(self, tweet_id: str, screen_name: str | None) -> TweetFootage:
        """Look a tweet up once per run, however many links point at it, and fetch its media."""
        return self._tweets(
            tweet_id,
            lambda: self._tweet(tweet_id, screen_name),
            keep=lambda found: found.outcome is not Outcome.FAILED,
        )

    def _tweet(self, tweet_id: str, screen_name: str | None) -> TweetFootage:
        answers = self._ask_about(tweet_id, screen_name)
        evidence = tuple(a.evidence for a in answers if a.evidence is not None)
        found = next((a.tweet for a in answers if a.tweet is not None), None)
        if found is not None:
            return self._tweet_media(found, evidence)
        status_url = f"https://twitter.com/{screen_name or 'i/web'}/status/{tweet_id}"
        if any(a.verdict is Outcome.FAILED for a in answers):
            # Some source could not answer now: yt-dlp may still get the videos.
            result, files = self.with_ytdlp(status_url, tweet_id=tweet_id)
            if result.info is not None:
                evidence += (Evidence(f"{tweet_id}.ytdlp.info.json", _json(result.info)),)
            if result.outcome is Outcome.ARCHIVED:
                tweet = _tweet_from_info(tweet_id, result.info or {})
                author = f"@{tweet.screen_name}" if tweet.screen_name else None
                media = tuple(replace(m, author=author, kind="video") for m in files)
                # yt-dlp sees videos only: photos the tweet may carry are not among them.
                why = "only yt-dlp could answer, and it sees videos only: photos may be missing"
                return TweetFootage(Outcome.ARCHIVED, why, tweet, media, evidence)
            answers.append(
                twitter.Answer(
                    "yt-dlp",
                    verdict=result.outcome,
                    reason=f"yt-dlp: {result.reason}",
                    retry_after=result.retry_after,
                )
            )
        outcome, reason = twitter.combine(answers)
        retry_after = next((a.retry_after for a in answers if a.retry_after), None)
        if outcome is Outcome.GONE and self.tweet_media.get(tweet_id):
            # The tweet is gone; the files an earlier lookup found may have been captured.
            rescue = self.from_wayback(self.tweet_media[tweet_id], tweet_id=tweet_id)
            reason = "; ".join([reason, *rescue.notes])
            outcome = rescue.outcome(outcome)
            files = tuple(rescue.files)
            return TweetFootage(outcome, reason, None, files, evidence, rescue.retry_after)
        if outcome is Outcome.GONE:
            # Gone before any lookup here: what web archives captured of it is all there is.
            return self.from_archives(tweet_id, screen_name, reason, evidence)
        return TweetFootage(outcome, reason, None, (), evidence, retry_after)

    def _ask_about(self, tweet_id: str, screen_name: str | None) -> list[twitter.Answer]:
        """Syndication, fxtwitter, then X's GraphQL API, until one shows the tweet or X says
        it was deleted."""
        answers = [twitter.ask_syndication(self.net, tweet_id)]

        def settled() -> bool:
            last = answers[-1]
            return last.tweet is not None or last.final

        if not settled() and self.settings.fxtwitter:
            answers.append(twitter.ask_fxtwitter(self.net, tweet_id, screen_name))
        if not settled():
            answers.append(self.graphql.ask(tweet_id))
        return answers

    def from_archives(
        self, tweet_id: str, screen_name: str | None, reason: str, evidence: tuple[Evidence, ...]
    ) -> TweetFootage:
        """A gone tweet as web archives captured it: its data, then its media files."""
        if not self.settings.wayback:
            return TweetFootage(Outcome.GONE, reason, None, (), evidence)
        got = archives.TweetArchives(
            self.net,
            self.store,
            memento.sources(self.settings.memento_timemap),
            self._stored,
            self.media,
            self.settings.max_file_size,
            self.settings.max_image_pixels,
        ).recover(tweet_id, screen_name)
        reason = "; ".join([reason, *got.notes])
        found = got.found
        if found is not None:
            evidence += (found.evidence,)
        tweet = found.tweet if found is not None else None
        if got.files:
            # Named after the archives the files came from; the tweet's own capture is in reason.
            outcome = (
                Outcome.ARCHIVED_FROM_WAYBACK
                if got.archives <= {wayback.ARCHIVE_NAME}
                else Outcome.ARCHIVED_FROM_WEB_ARCHIVE
            )
            return TweetFootage(outcome, reason, tweet, tuple(got.files), evidence)
        if got.unavailable is not None:
            return TweetFootage(
                Outcome.FAILED, reason, tweet, (), evidence, got.unavailable.retry_after
            )
        return TweetFootage(Outcome.GONE, reason, tweet, (), evidence)

    def _tweet_media(self, tweet: Tweet, evidence: tuple[Evidence, ...]) -> TweetFootage:
        wanted = [
            (
                item.url,
                {
                    "tweet_id": owner.id,
                    "author": f"@{owner.screen_name}" if owner.screen_name else None,
                    "kind": str(item.kind),
                },
            )
            for owner, item in tweet.all_media()
        ]
        got = self._files(wanted)
        if got.outcome is None:
            why = "the tweet carries no media"
            if tweet.card:
                why = f"card only ({tweet.card}): {why}"
            return TweetFootage(Outcome.NO_MEDIA, why, tweet, (), evidence)
        return TweetFootage(got.outcome, got.reason, tweet, got.files, evidence, got.retry_after)

    def _files(self, wanted: list[tuple[str, dict[str, Any]]]) -> _Files:
        """Every file of a post, each from its URL, else from a capture if its URL is dead.

        The outcome is None when there was nothing to fetch; with some files kept and some
        gone or too large, it is `archived` and the reason says which are missing.
        """
        files: list[MediaFile] = []
        problems: list[tuple[Outcome, str]] = []
        retry_after: str | None = None
        rescued_any = False
        for url, meta in wanted:
            if url.split("?", 1)[0].endswith(".m3u8"):
                # No progressive file exists: the HLS stream is all there is.
                result, got = self.with_ytdlp(url, **meta)
                if result.outcome is not Outcome.ARCHIVED:
                    problems.append((result.outcome, f"{url}: {result.reason}"))
                    retry_after = retry_after or result.retry_after
                files.extend(got)
                continue
            try:
                files.append(self.media(url, **meta))
            except (FetchFailed, NetworkError, TooLarge) as e:
                outcome, hint = failure_outcome(e)
                if outcome is Outcome.GONE:
                    rescue = self.from_wayback([url], **meta)
                    files.extend(rescue.files)
                    rescued_any = rescued_any or bool(rescue.files)
                    outcome, hint = rescue.outcome(outcome), hint or rescue.retry_after
                    if rescue.files:
                        continue
                    problems.append((outcome, "; ".join([str(e), *rescue.notes])))
                else:
                    problems.append((outcome, str(e)))
                retry_after = retry_after or hint
        reason = "; ".join(p[1] for p in problems) or None
        if problems:
            worst = _worst([p[0] for p in problems])
            if worst is Outcome.FAILED or not files:
                return _Files(worst, reason, tuple(files), retry_after)
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
        answer = platforms.platform(ref.site).look_up(self.net, ref)
        if answer.not_mine:
            why = answer.reason or "not a post"
            return PostFootage(Outcome.NO_MEDIA, why, None, (), answer.evidence, not_mine=True)
        post = answer.post
        if post is None:
            outcome = answer.outcome or Outcome.FAILED
            reason = answer.reason or "no answer"
            if outcome is Outcome.GONE:
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
                )
            return PostFootage(outcome, reason, None, (), answer.evidence, answer.retry_after)
        wanted = [
            (item.url, {"post": owner.key, "author": owner.author, "kind": item.kind})
            for owner, item in post.all_media()
        ]
        got = self._files(wanted)
        if got.outcome is None:
            return PostFootage(
                Outcome.NO_MEDIA, "the post carries no media", post, (), answer.evidence
            )
        return PostFootage(
            got.outcome, got.reason, post, got.files, answer.evidence, got.retry_after
        )

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
        if res.stop is Stop.TWEET and res.tweet_id:
            ref = tweet_ref(res.final_url)
            got = self.tweet(res.tweet_id, ref[0] if ref else None)
            return LinkResult(
                link,
                got.outcome,
                res,
                got.reason,
                got.media,
                got.tweet,
                got.evidence,
                extra={"retry_after": got.retry_after} if got.retry_after else {},
            )
        if res.stop is Stop.POST and (post_ref := platforms.claims(res.final_url)) is not None:
            found = self.post(post_ref)
            if found.not_mine:
                # Only the URL's shape was a post's (a blog's /@name/123): an ordinary link.
                try:
                    followed = self._follow(link.url, posts=False)
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
            )
        return self._ordinary(link, followed)

    def _follow(self, url: str, *, posts: bool = True) -> Followed[MediaFile | None]:
        return resolve(
            self.net,
            url,
            max_hops=self.settings.max_hops,
            stop_at=ytdlp.has_dedicated_extractor,
            on_media=self._save_open,
            posts=posts,
        )

    def _ordinary(self, link: Link, followed: Followed[MediaFile | None]) -> LinkResult:
        """What a link that is no tweet or post led to: a file, a page, a player, an error."""
        res = followed.resolution
        if res.stop is Stop.EXTRACTOR or (res.stop is Stop.FINAL and res.content_type in HLS_TYPES):
            result, files = self.with_ytdlp(res.final_url)
            evidence: tuple[Evidence, ...] = ()
            if result.info is not None:
                evidence = (
                    Evidence(f"{_safe_name(res.final_url)}.ytdlp.info.json", _json(result.info)),
                )
            return LinkResult(
                link, result.outcome, res, result.reason, tuple(files), evidence=evidence
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
                link, rescue.outcome(outcome), res, reason, tuple(rescue.files), extra=extra
            )
        return LinkResult(link, outcome, res, reason)


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


def _failed(link: Link, res: Resolution | None, error: Exception) -> LinkResult:
    outcome, hint = failure_outcome(error)
    extra = {"retry_after": hint} if hint else {}
    return LinkResult(link, outcome, res, str(error), extra=extra)


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


def _tweet_from_info(tweet_id: str, info: dict[str, Any]) -> Tweet:
    stamp = info.get("timestamp")
    created = from_epoch(int(stamp)) if stamp else None
    return Tweet(
        id=tweet_id,
        screen_name=info.get("uploader_id"),
        name=info.get("uploader"),
        text=info.get("description") or "",
        created_at=created,
        source="ytdlp",
    )
