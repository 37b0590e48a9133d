"""What web archives may hold of a gone post, and how to read it back: a platform's part.

A platform that knows where archives file captures of its posts (its API answers, its pages)
offers `archived_forms(ref)`: the URLs to ask the archives about and, for each, a pure reader
turning a captured body into the post and the media files it names. Asking the archives,
fetching captures and media within their caps, and recording where each came from is the
same for every site: footage/archives.py does it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model import Evidence, MediaKind, Post


def _every(url: str) -> bool:
    return True


def _level(url: str) -> int:
    return 0


@dataclass(frozen=True)
class ArchivedPost:
    """A post read back from a capture: the post, the media it names, the capture's bytes."""

    post: Post
    wanted: tuple[WantedMedia, ...]
    what: str  # what was captured, for people: "status page", "<service> answer"
    evidence: Evidence  # the captured body, kept whatever it said


# A captured body, its content type and the archive's name -> the post it shows, or None for
# a capture that does not (an error, a tombstone, another post, another shape). Never raises.
Reader = Callable[[bytes, str, str], ArchivedPost | None]


@dataclass(frozen=True)
class CaptureTarget:
    """A URL archives may hold a capture of the post under, and how to read such a capture."""

    url: str  # as captured, scheme and all; the Wayback Machine is asked for it as a prefix
    read: Reader
    mimetype: str = ""  # what a capture of it was served as (a CDX filter: "application/json")
    # Of the captures a prefix lookup finds, whether one is of this URL (and not of another
    # sharing its beginning).
    keep: Callable[[str], bool] = _every


@dataclass(frozen=True)
class ArchivedForms:
    """Where to look for captures of a post, in the order to try them."""

    wayback: tuple[CaptureTarget, ...]  # asked of the Wayback Machine's index, by prefix
    timemaps: tuple[CaptureTarget, ...]  # asked of each TimeMap (archive.today, an aggregator)


@dataclass(frozen=True)
class WantedMedia:
    """A media file an archived post names: where it was served, and where captures of it are."""

    kind: MediaKind
    url: str  # asked live first; "" when only where its captures are filed is known
    prefix: str  # the Wayback Machine's captures of it are under this URL prefix
    mimetype: str  # what a capture of it was served as (a CDX filter: "image/.*")
    keep: Callable[[str], bool] = _every  # whether a capture found by prefix is of this file
    rank: Callable[[str], int] = _level  # better renditions first (then newer captures)
    variants: tuple[str, ...] = ()  # the URLs TimeMaps may file it under, best first
