"""The registry of footage sources: adding one is a module and a line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import config
from .base import Platform, Post, PostAnswer, PostMedia, PostRef, Session
from .bluesky import BLUESKY
from .captures import ArchivedForms, ArchivedPost, CaptureTarget, WantedMedia
from .hooks import Archived, Probe, Probed, RenamedSettings, ShortLinks
from .mastodon import MASTODON
from .telegram import TELEGRAM
from .x import X_PLATFORM

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

PLATFORMS: tuple[Platform, ...] = (X_PLATFORM, BLUESKY, MASTODON, TELEGRAM)


def claims(url: str) -> PostRef | None:
    """The post a URL names on any registered platform, or None."""
    for platform in PLATFORMS:
        ref = platform.claims(url)
        if ref is not None:
            return ref
    return None


def platform(site: str) -> Platform:
    return next(p for p in PLATFORMS if p.site == site)


def embed_url(node: LexborNode, base: str | None) -> str | None:
    """The URL of the post an article element embeds, on any registered platform, or None."""
    for p in PLATFORMS:
        if p.embed_selector and node.css_matches(p.embed_selector):
            url = p.embed_url(node, base)
            if url is not None:
                return url
    return None


def archived_forms(ref: PostRef) -> ArchivedForms | None:
    """Where web archives may hold captures of a gone post, when its site knows; else None."""
    site = platform(ref.site)
    return site.archived_forms(ref) if isinstance(site, Archived) else None


def short_link_hosts() -> frozenset[str]:
    """The hosts of the platforms' own link shorteners: links there only lead elsewhere."""
    return frozenset(
        host for p in PLATFORMS if isinstance(p, ShortLinks) for host in p.short_link_hosts
    )


def probes() -> tuple[Probe, ...]:
    """How `doctor` checks each site that can be checked: a post known to exist, its hosts."""
    return tuple(p.probe for p in PLATFORMS if isinstance(p, Probed))


def renamed_settings() -> dict[str, str]:
    """Settings once named for a site: former name -> current name (a field of Settings)."""
    return {
        old: new
        for p in PLATFORMS
        if isinstance(p, RenamedSettings)
        for old, new in p.renamed_settings.items()
    }


# Configuration files and variables written for an older release still say what they said.
config.rename(renamed_settings())

__all__ = [
    "PLATFORMS",
    "ArchivedForms",
    "ArchivedPost",
    "CaptureTarget",
    "Platform",
    "Post",
    "PostAnswer",
    "PostMedia",
    "PostRef",
    "Session",
    "WantedMedia",
    "archived_forms",
    "claims",
    "embed_url",
    "platform",
    "probes",
    "renamed_settings",
    "short_link_hosts",
]
