"""A post gone before anyone looked it up: what web archives captured of it, then its media.

Every live source says the post is gone and no earlier lookup names its media, so the
archives are asked what the post was. Its platform says where captures of it may be filed
(its API answers, its pages) and reads them (`platforms.archived_forms`); here they are asked
for, stopping at the first capture that shows the post:

1. the Wayback Machine's index, by URL prefix (a captured answer's URL may carry parameters
   of its own), for each URL in turn;
2. the TimeMaps of archive.today and of the user's TimeMap aggregator.

Then each media file: from the live URL if it is still there, else from a capture of it
(Wayback Machine first: its `id_` captures are the bytes as served), else from a memento.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from ..errors import FetchFailed, TooLarge
from ..keeping.store import Store
from ..model import Evidence, MediaFile
from ..network.net import Net, NetworkError
from ..platforms import ArchivedForms, ArchivedPost, CaptureTarget, Post, WantedMedia
from . import memento, wayback

T = TypeVar("T")
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a captured API answer or page
TRIES = 3  # captures tried per URL, newest first


@dataclass(frozen=True)
class Found:
    """What an archive captured of the post, and which capture it was."""

    archived: ArchivedPost
    provenance: dict[str, Any]  # archive, captured_at, capture_url, original_url

    def describe(self) -> str:
        p = self.provenance
        when = f"at {p['captured_at']} ({p['capture_url']})"
        return f"{self.archived.what} as captured by {p['archive']} {when}"


@dataclass
class Recovered:
    """What the archives gave for a gone post."""

    found: Found | None = None
    files: list[MediaFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: FetchFailed | None = None  # an archive could not answer now: try later

    @property
    def archives(self) -> set[str]:
        return {str(f.archive) for f in self.files if f.archive}

    @property
    def post(self) -> Post | None:
        return self.found.archived.post if self.found is not None else None

    @property
    def evidence(self) -> Evidence | None:
        return self.found.archived.evidence if self.found is not None else None


Stored = Callable[[str, Callable[[], MediaFile]], MediaFile]
Live = Callable[..., MediaFile]


@dataclass
class PostArchives:
    """Asks the archives about one gone post; `stored` and `live` are the run's downloads."""

    net: Net
    store: Store
    sources: list[memento.TimeMapSource]
    stored: Stored
    live: Live
    max_size: int
    max_pixels: int
    result: Recovered = field(default_factory=Recovered)

    def recover(self, forms: ArchivedForms) -> Recovered:
        found = self._find(forms)
        self.result.found = found
        if found is None:
            self.result.notes.append("no web archive holds a capture of the post")
            return self.result
        self.result.notes.append(found.describe())
        post = found.archived.post
        if not found.archived.wanted:
            self.result.notes.append(f"the captured {found.archived.what} shows no media")
        for wanted in found.archived.wanted:
            meta = {"post": post.key, "author": post.author, "kind": wanted.kind}
            got = self._media(wanted, meta)
            if got is not None:
                self.result.files.append(got)
            else:
                self.result.notes.append(f"no capture of {wanted.url or wanted.prefix}")
        return self.result

    # -- what the post was ----------------------------------------------------------------

    def _find(self, forms: ArchivedForms) -> Found | None:
        steps: list[Callable[[], Found | None]] = [
            partial(self._wayback, target) for target in forms.wayback
        ]
        for source in self.sources:
            steps += [partial(self._memento, source, target) for target in forms.timemaps]
        return self._first(steps)

    def _first(self, steps: list[Callable[[], T | None]]) -> T | None:
        """The first step's answer that is not None; an archive that is down or a fetch that
        fails is a note (and the archive's unavailability kept, to say so), not the end."""
        for step in steps:
            try:
                found = step()
            except (wayback.WaybackUnavailable, memento.MementoUnavailable) as e:
                self.result.notes.append(str(e))
                self.result.unavailable = self.result.unavailable or e
                continue
            except (FetchFailed, NetworkError, TooLarge) as e:
                self.result.notes.append(str(e))
                continue
            if found is not None:
                return found
        return None

    def _wayback(self, target: CaptureTarget) -> Found | None:
        captures = wayback.find_captures(
            self.net,
            target.url.removeprefix("https://"),
            prefix=True,
            mimetype=target.mimetype or None,
        )
        captures = [c for c in captures if target.keep(c.original)]
        for capture in captures[:TRIES]:
            got = wayback.fetch_small(self.net, capture, max_bytes=MAX_ANSWER_BYTES)
            provenance = capture.provenance()
            archived = target.read(got.content, got.content_type, provenance["archive"])
            if archived is not None:
                return Found(archived, provenance)
        return None

    def _memento(self, source: memento.TimeMapSource, target: CaptureTarget) -> Found | None:
        for entry in memento.timemap(self.net, source, target.url)[:TRIES]:
            got = memento.fetch_small(self.net, entry, source, max_bytes=MAX_ANSWER_BYTES)
            provenance = entry.provenance(target.url)
            archived = target.read(got.content, got.content_type, provenance["archive"])
            if archived is not None:
                return Found(archived, provenance)
        return None

    # -- the media ------------------------------------------------------------------------

    def _media(self, wanted: WantedMedia, meta: dict[str, Any]) -> MediaFile | None:
        if wanted.url:
            try:
                return self.live(wanted.url, **meta)
            except (FetchFailed, NetworkError, TooLarge) as e:
                self.result.notes.append(f"{wanted.url}: {e}")
        steps: list[Callable[[], MediaFile | None]] = [partial(self._wayback_media, wanted, meta)]
        steps += [partial(self._memento_media, source, wanted, meta) for source in self.sources]
        return self._first(steps)

    def _wayback_media(self, wanted: WantedMedia, meta: dict[str, Any]) -> MediaFile | None:
        captures = wayback.find_captures(
            self.net,
            wanted.prefix.removeprefix("https://"),
            prefix=True,
            mimetype=wanted.mimetype or None,
        )
        captures = [c for c in captures if wanted.keep(c.original)]
        # Newest first already: the best rendition first, newest among equals.
        captures.sort(key=lambda c: (wanted.rank(c.original), c.timestamp), reverse=True)
        problems: list[str] = []
        for capture in captures[:TRIES]:
            try:
                got = self.stored(
                    capture.raw_url,
                    partial(
                        wayback.fetch_capture,
                        self.net,
                        self.store,
                        capture,
                        max_size=self.max_size,
                        max_pixels=self.max_pixels,
                    ),
                )
            except (FetchFailed, NetworkError, TooLarge) as e:
                problems.append(str(e))
                continue
            return replace(got, **capture.provenance(), **meta)
        self.result.notes.extend(problems)
        return None

    def _memento_media(
        self, source: memento.TimeMapSource, wanted: WantedMedia, meta: dict[str, Any]
    ) -> MediaFile | None:
        for url in wanted.variants:
            for entry in memento.timemap(self.net, source, url)[:TRIES]:
                try:
                    got = self.stored(
                        entry.uri,
                        partial(
                            memento.fetch_media,
                            self.net,
                            self.store,
                            entry,
                            source,
                            max_size=self.max_size,
                            max_pixels=self.max_pixels,
                        ),
                    )
                except (FetchFailed, NetworkError, TooLarge) as e:
                    self.result.notes.append(str(e))
                    continue
                return replace(got, **entry.provenance(url), **meta)
        return None
