"""From one link to its footage: resolve it, then ask the right source, download once per run."""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..config import Settings
from ..errors import FetchFailed, Refused, TooLarge
from ..links import tweet_ref
from ..media import HLS_TYPES, extension_for, mime_for, probe
from ..model import Evidence, Link, LinkResult, MediaFile, Outcome, Resolution, Stop, Tweet
from ..net import Net, NetworkError
from ..once import Once
from ..resolve import now, resolve
from ..store import Store
from . import direct, twitter, wayback, ytdlp

T = TypeVar("T")


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
    tweet_media: dict[str, list[str]] = field(default_factory=dict)  # from earlier lookups
    _tweets: Once = field(default_factory=Once)
    _media: Once = field(default_factory=Once)
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
            got = direct.download(
                self.net,
                self.store,
                url,
                max_size=self.settings.max_file_size,
                max_pixels=self.settings.max_image_pixels,
            )
            return self._remember(got)

        return replace(self._media(url, fetch), **meta)

    def _save_open(self, response: httpx.Response) -> MediaFile:
        url = str(response.url)
        return self._media(
            url,
            lambda: (
                self.known.get(url)
                or self._remember(
                    direct.save_open(
                        self.net,
                        self.store,
                        response,
                        max_size=self.settings.max_file_size,
                        max_pixels=self.settings.max_image_pixels,
                    )
                )
            ),
        )

    def from_wayback(
        self, urls: list[str], *, pages: bool = False, **meta: Any
    ) -> tuple[list[MediaFile], list[str]]:
        """Captures of dead URLs from the Wayback Machine: the files, and a note per URL."""
        files: list[MediaFile] = []
        notes: list[str] = []
        if not self.settings.wayback:
            return files, notes
        for url in urls:
            try:
                capture = wayback.find_capture(self.net, url, media_only=not pages)
                if capture is None:
                    notes.append(f"no Wayback Machine capture of {url}")
                    continue
                got = self._media(
                    capture.raw_url,
                    lambda c=capture: (
                        self.known.get(c.raw_url)  # type: ignore[misc]
                        or self._remember(
                            wayback.fetch_capture(
                                self.net,
                                self.store,
                                c,
                                max_size=self.settings.max_file_size,
                                pages=pages,
                            )
                        )
                    ),
                )
                files.append(replace(got, **meta))
                notes.append(f"Wayback Machine capture of {url} from {capture.captured_at}")
            except (FetchFailed, NetworkError, TooLarge) as e:
                notes.append(f"Wayback Machine: {e}")
        return files, notes

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

    def tweet(self, tweet_id: str, screen_name: str | None) -> TweetFootage:
        """Look a tweet up once per run, however many links point at it, and fetch its media."""
        return self._tweets(
            tweet_id,
            lambda: self._tweet(tweet_id, screen_name),
            keep=lambda found: found.outcome is not Outcome.FAILED,
        )

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
        if outcome is Outcome.GONE and self.tweet_media.get(tweet_id):
            # The tweet is gone; the files an earlier lookup found may have been captured.
            saved, notes = self.from_wayback(self.tweet_media[tweet_id], tweet_id=tweet_id)
            reason = "; ".join([reason, *notes])
            if saved:
                return TweetFootage(
                    Outcome.ARCHIVED_FROM_WAYBACK, reason, None, tuple(saved), evidence
                )
        return TweetFootage(outcome, reason, None, (), evidence, retry_after)

    def _tweet_media(self, tweet: Tweet, evidence: tuple[Evidence, ...]) -> TweetFootage:
        files: list[MediaFile] = []
        problems: list[tuple[Outcome, str]] = []
        retry_after: str | None = None
        wayback_used = False
        for owner, item in tweet.all_media():
            meta: dict[str, Any] = {
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
            except Refused as e:
                problems.append((Outcome.REFUSED, str(e)))
            except FetchFailed as e:
                gone = e.status in (404, 410)
                rescued, notes = self.from_wayback([item.url], **meta) if gone else ([], [])
                files.extend(rescued)
                wayback_used = wayback_used or bool(rescued)
                if not rescued:
                    problems.append(
                        (Outcome.GONE if gone else Outcome.FAILED, "; ".join([str(e), *notes]))
                    )
                retry_after = retry_after or e.retry_after
            except NetworkError as e:
                problems.append((Outcome.FAILED, str(e)))
        if problems:
            worst = _worst([p[0] for p in problems])
            if worst is Outcome.FAILED or not files:
                reason = "; ".join(p[1] for p in problems)
                return TweetFootage(worst, reason, tweet, tuple(files), evidence, retry_after)
        if not files:
            return TweetFootage(Outcome.NO_MEDIA, "the tweet carries no media", tweet, (), evidence)
        if wayback_used:
            note = "some media only from the Wayback Machine"
            return TweetFootage(Outcome.ARCHIVED_FROM_WAYBACK, note, tweet, tuple(files), evidence)
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
        except Refused as e:
            return LinkResult(link, Outcome.REFUSED, reason=str(e))
        except (FetchFailed, NetworkError) as e:
            return LinkResult(link, Outcome.FAILED, reason=str(e))
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
        if res.stop is Stop.HTTP_ERROR and res.status in (404, 410):
            # Dead already: a capture of what it was is the next best thing.
            saved, notes = self.from_wayback([res.final_url], pages=True)
            reason = "; ".join([reason, *notes])
            if saved:
                return LinkResult(link, Outcome.ARCHIVED_FROM_WAYBACK, res, reason, tuple(saved))
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
