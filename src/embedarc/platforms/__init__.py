"""The registry of footage sources: adding one is a module and a line here.

The readers of articles ask the registry, never a platform by name: which URLs are posts
(`claims`), how each is spelled (`normalise`), what an embed or a player frame shows (`embed`,
`player`), which hosts people write without a scheme (`with_scheme`), what an interstitial
leads to (`unwrap`), which short links and bylines are a platform's (`short_link_kind`,
`byline`), and which <meta> names give a page's title (`TITLE_META`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .. import config
from ..model import LinkKind
from ..reading import urls
from .base import (
    Embed,
    Platform,
    Post,
    PostAnswer,
    PostMedia,
    PostRef,
    Probe,
    ServiceCheck,
    Session,
)
from .bluesky import BLUESKY
from .captures import ArchivedForms, ArchivedPost, CaptureTarget, WantedMedia
from .mastodon import MASTODON
from .telegram import TELEGRAM
from .x import X_PLATFORM

if TYPE_CHECKING:
    from selectolax.lexbor import LexborNode

PLATFORMS: tuple[Platform, ...] = (X_PLATFORM, BLUESKY, MASTODON, TELEGRAM)

# What the platforms say once, gathered for the readers that ask for every link.
SHORT_LINKS: Mapping[str, LinkKind] = MappingProxyType(
    {host: kind for p in PLATFORMS for host, kind in p.short_links.items()}
)
BARE_HOSTS: tuple[str, ...] = tuple(host for p in PLATFORMS for host in p.bare_hosts)
TITLE_META: tuple[str, ...] = tuple(name for p in PLATFORMS for name in p.title_meta)
# Every element that may embed a post, on any platform (each platform confirms its own).
EMBED_SELECTOR = ", ".join(p.embed_selector for p in PLATFORMS if p.embed_selector)
SCHEMELESS = urls.schemeless([*urls.SCHEMELESS_HOSTS, *SHORT_LINKS, *BARE_HOSTS])


def _host(url: str) -> str:
    parts = urls.split_url(url)
    return (parts.hostname or "") if parts is not None else ""


def claims(url: str) -> PostRef | None:
    """The post a URL names on any registered platform, or None.

    On a host a platform owns, only that platform may claim the URL: a path there that looks
    like another site's post (a profile's /@name/123…) is no one's post.
    """
    host = _host(url)
    owner = next((p for p in PLATFORMS if host and p.owns(host)), None)
    if owner is not None:
        return owner.claims(url)
    for platform in PLATFORMS:
        ref = platform.claims(url)
        if ref is not None:
            return ref
    return None


def platform(site: str) -> Platform:
    return next(p for p in PLATFORMS if p.site == site)


def with_scheme(url: str) -> str:
    """The URL with https:// in front when it is "//host/…" or a host people write without
    one (a platform's short links and bare hosts, ift.tt)."""
    return urls.with_scheme(url, SCHEMELESS)


def absolute(href: str | None, base: str | None) -> str | None:
    """An http(s) URL for an attribute value, or None for fragments, mailto: and the like."""
    return urls.absolute_url(href, base, SCHEMELESS)


def normalise(url: str) -> str:
    """The canonical form of a URL, so the same target is always spelled the same way: a
    platform's own spelling of its URLs (a post's one URL, a photo at original size), else the
    rules of every web URL (`urls.canonical`)."""
    url = with_scheme(urls.clean(url))
    for p in PLATFORMS:
        spelled = p.normalise(url)
        if spelled is not None:
            return spelled
    return urls.canonical(url)


def unwrap(url: str) -> str | None:
    """The target of a platform's interstitial ("you are leaving…"), read from its URL."""
    url = with_scheme(url.strip())
    for p in PLATFORMS:
        target = p.unwrap(url)
        if target is not None:
            return target
    return None


def embed(node: LexborNode, base: str | None) -> tuple[Platform, Embed] | None:
    """The post an article element embeds, on any registered platform, and whose it is."""
    for p in PLATFORMS:
        if p.embed_selector and node.css_matches(p.embed_selector):
            found = p.embed(node, base)
            if found is not None:
                return p, found
    return None


def embed_url(node: LexborNode, base: str | None) -> str | None:
    """The URL of the post an article element embeds, on any registered platform, or None."""
    found = embed(node, base)
    return found[1].url if found is not None else None


def player(url: str) -> str | None:
    """The post a platform's own player <iframe> shows, or None."""
    for p in PLATFORMS:
        post = p.player(url)
        if post is not None:
            return post
    return None


def short_link_kind(host: str) -> LinkKind | None:
    """The kind of a platform's short link on this host (a normalised URL's), or None."""
    return SHORT_LINKS.get(host)


def byline(line: str) -> tuple[str, frozenset[LinkKind]] | None:
    """The attribution a line of text gives the links just above it, and the kinds of links
    it is given to (the platform's posts and short links), or None."""
    for p in PLATFORMS:
        text = p.byline(line)
        if text is not None:
            return text, frozenset({p.link_kind, *p.short_links.values()})
    return None


def archived_forms(ref: PostRef) -> ArchivedForms | None:
    """Where web archives may hold captures of a gone post, when its site knows; else None."""
    return platform(ref.site).archived_forms(ref)


def upgrade_sidecar(schema: int, data: dict[str, Any]) -> dict[str, Any]:
    """A sidecar of an earlier schema with each platform's own shapes read as the current
    schema says them; `data` itself when no platform had anything to read."""
    for p in PLATFORMS:
        data = p.upgrade_sidecar(schema, data)
    return data


def short_link_hosts() -> frozenset[str]:
    """The hosts of the platforms' own link shorteners: links there only lead elsewhere."""
    return frozenset(host for p in PLATFORMS for host in p.short_links)


def probes() -> tuple[Probe, ...]:
    """How `doctor` checks each site that can be checked: a post known to exist, its hosts."""
    return tuple(p.probe for p in PLATFORMS if p.probe is not None)


def renamed_settings() -> dict[str, str]:
    """Settings once named for a site: former name -> current name (a field of Settings)."""
    return {old: new for p in PLATFORMS for old, new in p.renamed_settings.items()}


# Configuration files and variables written for an older release still say what they said.
config.rename(renamed_settings())

__all__ = [
    "BARE_HOSTS",
    "EMBED_SELECTOR",
    "PLATFORMS",
    "SHORT_LINKS",
    "TITLE_META",
    "ArchivedForms",
    "ArchivedPost",
    "CaptureTarget",
    "Embed",
    "Platform",
    "Post",
    "PostAnswer",
    "PostMedia",
    "PostRef",
    "Probe",
    "ServiceCheck",
    "Session",
    "WantedMedia",
    "absolute",
    "archived_forms",
    "byline",
    "claims",
    "embed",
    "embed_url",
    "normalise",
    "platform",
    "player",
    "probes",
    "renamed_settings",
    "short_link_hosts",
    "short_link_kind",
    "unwrap",
    "upgrade_sidecar",
    "with_scheme",
]
