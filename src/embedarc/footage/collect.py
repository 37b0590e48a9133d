"""From one link to its footage: resolve it, then ask the right source, download once per run."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..config import Settings
from ..errors import FetchFailed, TooLarge
from ..media import HLS_TYPES, extension_for, mime_for, probe
from ..model import Evidence, Link, LinkResult, MediaFile, Outcome, Resolution, Stop, Tweet
from ..net import Net, NetworkError
from ..resolve import now, resolve
from ..store import Store
from . import direct, twitter, ytdlp

T = TypeVar("T")


class _Once:
    """Single-flight: the first caller for a key computes, the others wait for its answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}

    def __call__(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as e:
                future.set_exception(e)
        return future.result()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TweetFootage:
    outcome: Outcome
    reason: str | None
    tweet: Tweet | None
    media: tuple[MediaFile, ...]
    evidence: tuple[Evidence, ...]
    retry_after: str | None = None


@dataclass
class Collector:
    """What the workers of one run share: the network, the store, and what is already known."""

    net: Net
    store: Store
    settings: Settings
    known: dict[str, MediaFile] = field(default_factory=dict)  # source URL -> archived file
    downloaded: set[str] = field(default_factory=set)  # sha256 of files new in this run
    _tweets: _Once = field(default_factory=_Once)
    _media: _Once = field(default_factory=_Once)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- downloads, each URL once ---------------------------------------------------------

    def _remember(self, media: MediaFile) -> MediaFile:
        with self._lock:
            self.known[media.source_url] = media
            self.downloaded.add(media.sha256)
        return media

    def media(self, url: str, **meta: Any) -> MediaFile:
        """The archived file for a media URL: from an earlier run, or downloaded now."""

        def fetch() -> MediaFile:
            if url in self.known:
                return self.known[url]
            got = direct.download(self.net, self.store, url, max_size=self.settings.max_file_size)
            return self._remember(got)

        return replace(self._media(url, fetch), **meta)

    def _save_open(self, response: httpx.Response) -> MediaFile:
        url = str(response.url)
        return self._media(
            url,
            lambda: (
                self.known.get(url)
                or self._remember(
                    direct.save_response(self.store, response, max_size=self.settings.max_file_size)
                )
            ),
        )

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
                api=api,
            )
            files = tuple(self._adopt(d, **meta) for d in result.downloads)
            return result, files
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _adopt(self, download: ytdlp.Download, **meta: Any) -> MediaFile:
        received = self.store.adopt(download.path)
        mime = mime_for(download.path)
        measured = probe(download.path, mime)
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

    def tweet(self, tweet_id: str, screen_name: str | None) -> TweetFootage:
        """Look a tweet up once per run, however many links point at it, and fetch its media."""
        return self._tweets(tweet_id, lambda: self._tweet(tweet_id, screen_name))

    def _tweet(self, tweet_id: str, screen_name: str | None) -> TweetFootage:
        answers = [twitter.ask_syndication(self.net, tweet_id)]
        if answers[-1].tweet is None and self.settings.fxtwitter:
            answers.append(twitter.ask_fxtwitter(self.net, tweet_id, screen_name))
        evidence = tuple(a.evidence for a in answers if a.evidence is not None)
        found = next((a.tweet for a in answers if a.tweet is not None), None)
        if found is not None:
            return self._tweet_media(found, evidence)
        status_url = f"https://twitter.com/{screen_name or 'i/web'}/status/{tweet_id}"
        result, files = self.with_ytdlp(status_url, tweet_id=tweet_id)
        if result.info is not None:
            evidence += (Evidence(f"{tweet_id}.ytdlp.info.json", _json(result.info)),)
        if result.outcome is Outcome.ARCHIVED:
            tweet = _tweet_from_info(tweet_id, result.info or {})
            author = f"@{tweet.screen_name}" if tweet.screen_name else None
            media = tuple(replace(m, author=author, kind="video") for m in files)
            return TweetFootage(Outcome.ARCHIVED, None, tweet, media, evidence)
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
        return TweetFootage(outcome, reason, None, (), evidence, retry_after)

    def _tweet_media(self, tweet: Tweet, evidence: tuple[Evidence, ...]) -> TweetFootage:
        files: list[MediaFile] = []
        problems: list[tuple[Outcome, str]] = []
        for owner, item in tweet.all_media():
            meta = {
                "tweet_id": owner.id,
                "author": f"@{owner.screen_name}" if owner.screen_name else None,
                "kind": str(item.kind),
            }
            try:
                if item.url.split("?", 1)[0].endswith(".m3u8"):
                    # No progressive file exists: the HLS stream is all there is.
                    result, got = self.with_ytdlp(item.url, **meta)
                    if result.outcome is not Outcome.ARCHIVED:
                        problems.append((result.outcome, f"{item.url}: {result.reason}"))
                    files.extend(got)
                else:
                    files.append(self.media(item.url, **meta))
            except TooLarge as e:
                problems.append((Outcome.TOO_LARGE, str(e)))
            except FetchFailed as e:
                gone = e.status in (404, 410)
                problems.append((Outcome.GONE if gone else Outcome.FAILED, str(e)))
            except NetworkError as e:
                problems.append((Outcome.FAILED, str(e)))
        if problems:
            worst = _worst([p[0] for p in problems])
            if worst is Outcome.FAILED or not files:
                return TweetFootage(
                    worst, "; ".join(p[1] for p in problems), tweet, tuple(files), evidence
                )
        if not files:
            return TweetFootage(Outcome.NO_MEDIA, "the tweet carries no media", tweet, (), evidence)
        return TweetFootage(Outcome.ARCHIVED, None, tweet, tuple(files), evidence)

    # -- one link --------------------------------------------------------------------------

    def link(self, link: Link) -> LinkResult:
        """Resolve a link and archive the footage it leads to; never raises for network trouble."""
        if link.url in self.known:
            media = self.known[link.url]
            resolution = Resolution(link.url, (), link.url, Stop.FINAL)
            return LinkResult(link, Outcome.ARCHIVED, resolution, media=(media,))
        try:
            followed = resolve(
                self.net,
                link.url,
                max_hops=self.settings.max_hops,
                stop_at=ytdlp.has_dedicated_extractor,
                on_media=self._save_open,
            )
        except TooLarge as e:
            return LinkResult(link, Outcome.TOO_LARGE, reason=str(e))
        except (FetchFailed, NetworkError) as e:
            return LinkResult(link, Outcome.FAILED, reason=str(e))
        res = followed.resolution
        if res.stop is Stop.TWEET and res.tweet_id:
            from ..links import tweet_ref

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
            return LinkResult(
                link, Outcome.NO_MEDIA, res, f"a {res.content_type or 'page'} without footage"
            )
        outcome, reason = stop_outcome(res)
        return LinkResult(link, outcome, res, reason)


def stop_outcome(res: Resolution) -> tuple[Outcome, str]:
    if res.stop is Stop.HTTP_ERROR and res.status is not None:
        if res.status == 429 or res.status >= 500:
            return Outcome.FAILED, f"HTTP {res.status}"
        if res.status in (401, 403):
            return Outcome.LOGIN_REQUIRED, f"HTTP {res.status}: access denied"
        return Outcome.GONE, f"HTTP {res.status}"
    if res.stop is Stop.REFUSED:
        return Outcome.REFUSED, res.error or "refused"
    if res.stop in (Stop.LOOP, Stop.HOP_LIMIT):
        return Outcome.GONE, res.error or str(res.stop)
    return Outcome.FAILED, res.error or str(res.stop)


_SEVERITY = [
    Outcome.FAILED,
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
    from datetime import UTC, datetime

    stamp = info.get("timestamp")
    created = (
        datetime.fromtimestamp(int(stamp), UTC).isoformat().replace("+00:00", "Z")
        if stamp
        else None
    )
    return Tweet(
        id=tweet_id,
        screen_name=info.get("uploader_id"),
        name=info.get("uploader"),
        text=info.get("description") or "",
        created_at=created,
        source="ytdlp",
    )
