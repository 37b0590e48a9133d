"""What a source of footage is: one module (or package) a site, behind one interface.

A platform says, without touching the network, which URLs are its posts (`claims`) and which
elements of an article's HTML embed one (`embed_selector` / `embed_url`); then it looks a post
up through embedarc's network layer (`look_up`). The collector downloads the media it names
and records the post; resolution stops at a claimed URL. What a platform may offer besides,
each optional, is in hooks.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ..model import Evidence, Failure, Outcome, Post, PostMedia, PostRef

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

    from ..net import Net

T = TypeVar("T")

__all__ = ["Platform", "Post", "PostAnswer", "PostMedia", "PostRef", "Session"]


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

    def look_up(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """Ask the site about a post, through `net`; never raises for network trouble."""
        ...

    def alive(self, net: Net, ref: PostRef, session: Session | None = None) -> PostAnswer:
        """Whether the post is still there, as cheaply as the site allows (for `check`)."""
        ...
