"""What a source of footage is: one module (or package) a site, behind one interface.

A platform says, without touching the network, which URLs are its posts (`claims`) and which
elements of an article's HTML embed one (`embed_selector` / `embed_url`); then it looks a post
up through embedarc's network layer (`look_up`). The collector downloads the media it names
and records the post; resolution stops at a claimed URL.

The readers of articles know no platform by name: what a platform adds to reading (its one
spelling of its URLs, hosts it owns, short links, interstitials, embeds with their bylines,
player frames, card titles) it says through the reading hooks below, which default to
saying nothing, and the registry (`platforms/__init__.py`) gathers them. So do the other
optional hooks: where web archives hold captures of a gone post (`archived_forms`, read with
captures.py), settings once named for the site (`renamed_settings`), the post `doctor` asks
the site's services about (`probe`) and what sidecars of an earlier schema kept of its posts
in a shape of their own (`upgrade_sidecar`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ..model import Evidence, Failure, LinkKind, Outcome, Post, PostMedia, PostRef

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ..network.net import Net
    from .captures import ArchivedForms

T = TypeVar("T")

__all__ = [
    "Embed",
    "Platform",
    "Post",
    "PostAnswer",
    "PostMedia",
    "PostRef",
    "Probe",
    "ServiceCheck",
    "Session",
]


@dataclass(frozen=True)
class Embed:
    """The post an element of an article embeds, as the element names it."""

    url: str  # the post's URL (the reader normalises it)
    raw: str  # as the page wrote it
    attribution: str | None = None  # the byline the embed shows: "— Name (@handle) date"
    # The element inside the embed that names the post (its permalink <a>), by mem_id: the link
    # is found there, in document order. None: at the embed element itself.
    at: int | None = None


@dataclass(frozen=True)
class PostAnswer:
    """What a site said about a post: the post, or why there is none (an outcome and reason)."""

    post: Post | None = None
    outcome: Outcome | None = None  # None when the post was found
    reason: str | None = None
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    retry_after: str | None = None
    # The URL only looked like one of the site's posts (a site whose servers may be any host,
    # and this host said it is not one): the link is followed as an ordinary link instead.
    not_mine: bool = False
    # No service could answer now, but yt-dlp may still get the post's videos from this URL.
    ytdlp_url: str | None = None
    failure: Failure | None = None  # with a `failed` outcome: what kind (else a bad answer)


@dataclass
class Session:
    """What one run lends every platform: the reader's choices, and state the lookups of the
    run share (a guest token, a client), made once however many threads ask."""

    cookies: Path | None = None  # the reader's own cookies, for a site that honours them
    third_parties: bool = True  # may services run by others than the site be asked
    _state: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._state:
                self._state[name] = make()
            return cast(T, self._state[name])


@dataclass(frozen=True)
class ServiceCheck:
    """One service `doctor` asks about a post known to exist."""

    name: str  # as `doctor` reports it
    ask: Callable[[Net, PostRef], PostAnswer]  # never raises for network trouble
    third_party: bool = False  # run by others than the site: asked only when they may be


@dataclass(frozen=True)
class Probe:
    """How `doctor` checks a site is within reach: its hosts answer, its services know a post."""

    post: PostRef  # a post that exists: every service must show it
    services: tuple[ServiceCheck, ...]
    # (name, URL) of hosts whose root has no defined answer (a CDN's is often a 404): any
    # answer shows the way there is open, except those of something in between blocking it.
    hosts: tuple[tuple[str, str], ...] = ()


class Platform(Protocol):
    """One site's posts: recognised without the network, looked up through it."""

    site: str  # the short name recorded with every post, the module's own name
    embed_selector: str  # CSS for the elements that may embed one of its posts ("" for none)

    def claims(self, url: str) -> PostRef | None:
        """The post a normalised URL names, or None; pure (no network)."""
        ...

    def embed_url(self, node: LexborNode, base: str | None) -> str | None:
        """The URL of the post an element matched by `embed_selector` embeds, or None."""
        ...

    # -- reading articles: what a platform that has nothing to add leaves as it is ---------
    # (a platform class subclasses Platform to take these defaults)

    link_kind: LinkKind = LinkKind.POST  # a link whose URL names one of its posts
    embed_kind: LinkKind = LinkKind.POST_EMBED  # a link read from one of its embeds
    short_links: Mapping[str, LinkKind] = MappingProxyType({})  # a short-link host: its kind
    bare_hosts: tuple[str, ...] = ()  # written without a scheme: a link where it names a post
    title_meta: tuple[str, ...] = ()  # <meta> names its cards give a page's title by

    def owns(self, host: str) -> bool:
        """Whether a host is the platform's own: a URL there is its post or no one's."""
        return False

    def normalise(self, url: str) -> str | None:
        """Its one spelling of a URL (cleaned, with a scheme), or None to leave it as the
        rules of every URL spell it."""
        return None

    def unwrap(self, url: str) -> str | None:
        """The target of one of its interstitials ("you are leaving…"), read from the URL."""
        return None

    def embed(self, node: LexborNode, base: str | None) -> Embed | None:
        """The post an element matched by `embed_selector` embeds, with what it shows of it."""
        url = self.embed_url(node, base)
        return Embed(url, url) if url is not None else None

    def player(self, url: str) -> str | None:
        """The post one of its player <iframe>s shows, or None."""
        return None

    def byline(self, line: str) -> str | None:
        """The attribution a line of plain text gives the links just above it that are the
        platform's (its posts, its short links): a pasted post's byline."""
        return None

    # -- beyond reading, each optional too -------------------------------------------------

    # Settings once named for the site, former name -> current name (a field of
    # config.Settings): the configuration key, the EMBEDARC_ variable and, for a `--no-`
    # option, the option are all still read.
    renamed_settings: Mapping[str, str] = MappingProxyType({})
    probe: Probe | None = None  # how `doctor` checks the site is within reach

    def upgrade_sidecar(self, schema: int, data: dict[str, Any]) -> dict[str, Any]:
        """A sidecar of an earlier `schema` with what it kept of the site's posts in a shape
        of their own read as the current schema says it (pure); `data` itself, the same
        object, when there is nothing of the site's to read."""
        return data

    def archived_forms(self, ref: PostRef) -> ArchivedForms | None:
        """Where web archives may hold captures of a gone post, and how to read them (pure);
        None for a site whose captures are not worth reading back."""
        return None

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """Ask the site about a post, through `net`; never raises for network trouble."""
        ...

    def alive(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """Whether the post is still there, as cheaply as the site allows (for `check`); by
        default one look-up, for a site that offers nothing cheaper."""
        return self.look_up(net, ref, session)
