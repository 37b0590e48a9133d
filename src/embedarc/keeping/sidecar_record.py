"""article.json as one typed record: `Sidecar`, read with `from_json`, written with `to_json`.

The sidecar is the truth about an article folder, and a file anyone may have edited or a
later release may have written. So reading it never raises on a value alone:

- a key this release does not know is kept in the record's `extra` and written back;
- a value of a set this release does not know ("vanished" for an outcome) is read as an
  `Unknown`, a str that says so, and written back as it was;
- a value of another type than the field's (a number for a URL) reads as the field's default,
  is named in `Sidecar.problems` ("Sidecar.links[0].url: str expected, not int") and kept in
  `extra`, so writing the record back loses nothing; `from_json(..., strict=True)` refuses it;
- an entry of a list that is not an object is left out, and named in `problems`.

Only a file that is no sidecar at all (not an object, no article object, a media list that
is not a list of objects) is refused, with `SidecarError`. Records are frozen: a change is a
new record (`updated`), so no reader of a sidecar can edit it by accident.

`to_json` gives back exactly what was read, keys in the same order, or for a record made by
this release, exactly what `sidecar.build` has always written.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar, Union

from .. import records
from ..model import Failure, FoundIn, LinkKind, MediaKind, Method, Outcome, Stop, Via

R = TypeVar("R", bound="Record")


class SidecarError(ValueError):
    """A file that is not a sidecar, or (read strictly) a field that does not fit; the message
    names the field."""


class Unknown(str):
    """A value of a set (an outcome, a link kind, ...) this release does not know: a later
    release wrote it, or a hand. Read as the text it is and written back the same; `NOT_GIVEN`
    stands for one that is missing or not text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Unknown({str(self)!r})"


NOT_GIVEN = Unknown("")  # a value of a set that is missing, or not text

_INTERNAL = {"internal": True}  # a field of the record, not a key of the file


@dataclass(frozen=True, kw_only=True)
class Record:
    """What every object of a sidecar keeps besides its fields."""

    # Keys this release does not know, and known keys whose value did not fit: as read.
    extra: Mapping[str, Any] = field(default_factory=dict, metadata=_INTERNAL)
    # The keys as read, in their order; None for a record this release made.
    keys: tuple[str, ...] | None = field(default=None, compare=False, metadata=_INTERNAL)

    # Fields written only when they hold a value (None otherwise leaves the key out).
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def has(self, name: str) -> bool:
        """Whether field `name` holds a value given to it: read from the file, fitting its
        type, or set by this release."""
        return self.keys is None or (name in self.keys and name not in self.extra)

    def unknown(self) -> dict[str, Any]:
        """The keys of the file this release does not know, as read (a later release wrote
        them): a record made anew from what it says carries them on."""
        shape = _shape(type(self))
        return {k: v for k, v in self.extra.items() if k not in shape}

    def updated(self, **changes: Any) -> Self:
        """A new record with `changes`; a value given replaces one kept as it was read."""
        extra = {k: v for k, v in self.extra.items() if k not in changes}
        return dataclasses.replace(self, **changes, extra=extra)

    def _omitted(self, name: str, value: Any) -> bool:
        return name in self.OPTIONAL and value is None

    def to_json(self) -> dict[str, Any]:
        """The record as the file holds it: known keys in the order written, then the rest."""
        shape = _shape(type(self))
        values = {name: getattr(self, name) for name in shape}
        out: dict[str, Any] = {}
        if self.keys is not None:
            for key in self.keys:
                if key in values:
                    value = values[key]
                    if key in self.extra and value == shape[key].default:
                        out[key] = records.to_json(self.extra[key])  # kept as it was written
                    elif not self._omitted(key, value):
                        out[key] = _json(value)
                elif key in self.extra:
                    out[key] = records.to_json(self.extra[key])
        for name, value in values.items():
            if name in out or self._omitted(name, value):
                continue
            # A key the file did not have stays out while its value is still the default.
            if self.keys is None or value != shape[name].default:
                out[name] = _json(value)
        for key, value in self.extra.items():
            out.setdefault(key, records.to_json(value))
        return out

    @classmethod
    def from_json(cls, data: Any, *, strict: bool = False) -> Self:
        """The record `data` holds; see the module's doc for what is kept and what refused."""
        problems: list[str] = []
        if not isinstance(data, dict):
            raise SidecarError(f"{cls.__name__}: an object expected, not {type(data).__name__}")
        record = _decode(cls, data, cls.__name__, problems, strict)
        return record


def _json(value: Any) -> Any:
    if value is None or type(value) in (int, float, bool):
        return value
    if isinstance(value, str):  # an enum's value too
        return records.text(str(value))
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    return records.to_json(value)


@dataclass(frozen=True)
class _Field:
    """How a field of a record is read: worked out once per record type from its hints."""

    default: Any
    nullable: bool
    choice: type[enum.Enum] | None  # a value of a set: this enum's, or an Unknown
    record: type[Record] | None  # an object: a record of this type
    entries: type[Record] | None  # a list of objects: records of this type
    leaf: Any  # anything else: read by `records`' rules


_SHAPES: dict[type, dict[str, _Field]] = {}


def _shape(kind: type) -> dict[str, _Field]:
    """The fields of a record type (not those of the record itself: extra, keys, ...)."""
    if kind in _SHAPES:
        return _SHAPES[kind]
    hints = typing.get_type_hints(kind)
    shape = {}
    for f in dataclasses.fields(kind):
        if f.metadata.get("internal"):
            continue
        hint = hints[f.name]
        union = typing.get_origin(hint) in (Union, types.UnionType)
        options = typing.get_args(hint) if union else (hint,)
        given = [o for o in options if o is not type(None) and o is not Unknown]
        [only] = given
        item = typing.get_args(only)[0] if typing.get_origin(only) is tuple else None

        def record_type(value: Any) -> type[Record] | None:
            return value if isinstance(value, type) and issubclass(value, Record) else None

        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        shape[f.name] = _Field(
            default=default,
            nullable=type(None) in options,
            choice=only if isinstance(only, type) and issubclass(only, enum.Enum) else None,
            record=record_type(only),
            entries=record_type(item),
            leaf=only,
        )
    _SHAPES[kind] = shape
    return shape


def _decode(
    kind: type[R], data: dict[str, Any], where: str, problems: list[str], strict: bool
) -> R:
    shape = _shape(kind)
    given: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, raw in data.items():
        field_ = shape.get(key)
        if field_ is None:
            extra[key] = raw
            continue
        try:
            given[key] = _value(field_, raw, f"{where}.{key}", problems, strict)
        except ValueError as e:
            if strict:
                raise SidecarError(str(e)) from None
            problems.append(str(e))
            extra[key] = raw  # written back as it was; the field keeps its default
    record = kind(**given, extra=extra, keys=tuple(data))
    if isinstance(record, Sidecar):
        record = dataclasses.replace(record, problems=tuple(problems))
    return record


def _value(field_: _Field, raw: Any, where: str, problems: list[str], strict: bool) -> Any:
    """`raw` as the field says: records leniently, leaves by `records`' rules (ValueError
    naming `where` when it does not fit)."""
    if raw is None and field_.nullable:
        return None
    if field_.choice is not None:  # a value of a set: the enum's, or one this release does not know
        if not isinstance(raw, str):
            raise ValueError(f"{where}: text expected, not {type(raw).__name__}")
        try:
            return field_.choice(raw)
        except ValueError:
            return Unknown(raw)
    if field_.record is not None:
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: an object expected, not {type(raw).__name__}")
        return _decode(field_.record, raw, where, problems, strict)
    if field_.entries is not None:
        if not isinstance(raw, list):
            raise ValueError(f"{where}: a list expected, not {type(raw).__name__}")
        entries = []
        for n, entry in enumerate(raw):
            if isinstance(entry, dict):
                entries.append(_decode(field_.entries, entry, f"{where}[{n}]", problems, strict))
            elif strict:
                raise SidecarError(f"{where}[{n}]: an object expected")
            else:  # nothing can be said of it: left out
                problems.append(f"{where}[{n}]: an object expected, not {type(entry).__name__}")
        return tuple(entries)
    return records.value(field_.leaf, raw, where)


# -- the records -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SidecarHop(Record):
    url: str = ""
    status: int | None = None
    location: str | None = None
    time: str = ""
    via: Via | Unknown = Via.HTTP


@dataclass(frozen=True, kw_only=True)
class SidecarResolution(Record):
    """Where a link led, as `model.Resolution` without its URL (the link's)."""

    hops: tuple[SidecarHop, ...] = ()
    final_url: str = ""
    stop: Stop | Unknown = NOT_GIVEN
    status: int | None = None
    content_type: str | None = None
    error: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True, kw_only=True)
class SidecarMediaRef(Record):
    """A file a link led to: the sidecar's media entry of that sha256 says the rest."""

    sha256: str = ""
    post: str | None = None
    kind: MediaKind | Unknown | None = None
    source_url: str = ""


@dataclass(frozen=True, kw_only=True)
class SidecarLink(Record):
    id: str = ""
    url: str = ""
    raw: str = ""
    kind: LinkKind | Unknown = NOT_GIVEN
    found_in: FoundIn | Unknown = FoundIn.ARTICLE
    attribution: str | None = None
    post: str | None = None  # "site:id"
    outcome: Outcome | Unknown = NOT_GIVEN
    reason: str | None = None
    resolved_at: str | None = None
    resolution: SidecarResolution | None = None
    media: tuple[SidecarMediaRef, ...] = ()
    evidence: tuple[str, ...] = ()  # "evidence/<name>", relative to the folder
    retry_after: str | None = None  # a service's "try again after" for a failed link
    failure: Failure | Unknown | None = None  # with a `failed` outcome
    # Written by the retry schedule for a link it tried: how often, and when next.
    attempts: int | None = None
    next_attempt: str | None = None

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"retry_after", "failure", "attempts"})

    def _omitted(self, name: str, value: Any) -> bool:
        if name == "next_attempt":  # written with its attempts, even when there is none
            return self.attempts is None and value is None
        return super()._omitted(name, value)

    @property
    def hint(self) -> str | None:
        """When a service said to try again, if it did."""
        return self.retry_after or (self.resolution.retry_after if self.resolution else None)


@dataclass(frozen=True, kw_only=True)
class SidecarPostMedia(Record):
    url: str = ""
    kind: MediaKind | Unknown = MediaKind.UNKNOWN
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    also: tuple[str, ...] = ()
    item_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class SidecarPost(Record):
    key: str = ""  # "site:id"
    site: str = ""
    id: str = ""
    url: str | None = None
    author: str | None = None
    author_name: str | None = None
    text: str | None = None
    created_at: str | None = None
    source: str | None = None  # which service answered: free text
    origin_url: str | None = None
    quoted: str | None = None  # the key of the post it quotes
    reposted: str | None = None  # the key of the post it reposts
    media: tuple[SidecarPostMedia, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SidecarMedia(Record):
    """A file of the folder: `model.MediaFile`, and where the folder holds it."""

    sha256: str = ""
    size: int | None = None
    mime: str = ""
    path: str = ""  # in the store, relative to the archive
    source_url: str = ""
    fetched_at: str = ""
    method: Method | Unknown = Method.HTTP
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    author: str | None = None
    kind: MediaKind | Unknown | None = None
    remuxed: bool = False
    tool: str | None = None
    post: str | None = None
    archive: str | None = None
    captured_at: str | None = None
    capture_url: str | None = None
    original_url: str | None = None
    article_path: str | None = None  # the folder's link to it, relative to the archive

    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"article_path"})


@dataclass(frozen=True, kw_only=True)
class EarlierOriginal(Record):
    """The article as read another way before, kept in the folder under its own name."""

    name: str = ""
    content_sha256: str = ""


@dataclass(frozen=True, kw_only=True)
class SidecarArticle(Record):
    id: str = ""
    identity: str = ""
    folder: str = ""
    source: str = ""
    title: str = ""
    canonical_url: str | None = None
    published: str | None = None
    origin_name: str | None = None
    origin_url: str | None = None
    media_type: str = ""
    content_sha256: str = ""
    original: str = ""
    earlier_originals: tuple[EarlierOriginal, ...] = ()
    origin_page: str | None = None
    archived_at: str = ""
    links_skipped: int = 0  # over --max-links: neither kept nor followed


@dataclass(frozen=True, kw_only=True)
class Sidecar(Record):
    schema: int = 0
    embedarc: str | None = None
    yt_dlp: str | None = None
    article: SidecarArticle = field(default_factory=SidecarArticle)
    links: tuple[SidecarLink, ...] = ()
    posts: tuple[SidecarPost, ...] = ()
    media: tuple[SidecarMedia, ...] = ()
    # What did not fit when it was read, each naming its field: kept in `extra`, never written.
    problems: tuple[str, ...] = field(default=(), compare=False, metadata=_INTERNAL)

    def link(self, url: str) -> SidecarLink | None:
        """The entry of the link to `url` (the first, should a hand have written two)."""
        return self._links_by_url.get(url)

    @functools.cached_property
    def _links_by_url(self) -> dict[str, SidecarLink]:
        found: dict[str, SidecarLink] = {}
        for entry in self.links:
            found.setdefault(entry.url, entry)
        return found

    @classmethod
    def from_json(cls, data: Any, *, strict: bool = False) -> Self:
        """The sidecar `data` holds, in the current schema: `sidecar.parse` (and `load`)
        bring one of an earlier schema to it first (`sidecar.upgrade`)."""
        if not isinstance(data, dict) or not isinstance(data.get("article"), dict):
            raise SidecarError("has no article")
        media = data.get("media", [])
        if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
            raise SidecarError("has a malformed media list")
        return super().from_json(data, strict=strict)
