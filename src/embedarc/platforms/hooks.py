"""What a platform may offer besides the interface of base.py: optional hooks.

The registry asks a platform for a hook only when it has one (`isinstance(p, Hook)`), so a
platform that needs none of them writes no code for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..model import PostRef
from .base import PostAnswer
from .captures import ArchivedForms

if TYPE_CHECKING:
    from ..net import Net


@runtime_checkable
class Archived(Protocol):
    """A site whose posts web archives captured in shapes worth reading back."""

    def archived_forms(self, ref: PostRef) -> ArchivedForms:
        """Where archives may hold captures of a gone post, and how to read them; pure."""
        ...


@runtime_checkable
class ShortLinks(Protocol):
    """A site with link shorteners of its own: links there lead elsewhere, never to footage."""

    short_link_hosts: frozenset[str]


@runtime_checkable
class RenamedSettings(Protocol):
    """Settings that were once named for the site: their former names keep their effect."""

    # Former name -> current name (a field of config.Settings). The configuration key, the
    # EMBEDARC_ variable and, for a `--no-` option, the option are all still read.
    renamed_settings: Mapping[str, str]


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


@runtime_checkable
class Probed(Protocol):
    """A site `doctor` can check."""

    probe: Probe
