"""Records that travel: the shared data (model.py) as plain JSON and back, by its type hints.

What resolving and fetching one link takes (a `Link`) and gives (a `LinkResult`, with its
resolution, files, post and evidence) are records: the pipeline hands every result to its one
writer in this form, so a runner that works elsewhere needs nothing but the same settings and
the store. Enums travel as their values, bytes as base64, tuples as lists.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import re
import types
import typing
from functools import cache
from typing import Any, TypeVar, Union

T = TypeVar("T")


# A lone half of a UTF-16 pair: JSON's "\ud800" gives one, and no UTF-8 file or SQLite
# column can hold it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text(value: str) -> str:
    """`value` with each lone surrogate (from a service's JSON) as U+FFFD, so it can be written."""
    return value if value.isascii() else _LONE_SURROGATE.sub("\ufffd", value)


def to_json(value: Any) -> Any:
    """A record (or anything in one) as JSON's values; text as UTF-8 can hold it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {text(str(k)): to_json(v) for k, v in value.items()}
    return value


def from_json(kind: type[T], data: Any) -> T:
    """The record of type `kind` that `to_json` gave `data` for; ValueError, saying where,
    when `data` is not one (a field missing or of another type, a value no enum has)."""
    return typing.cast(T, _read(kind, data, kind.__name__))


def value(hint: Any, data: Any, where: str) -> Any:
    """`data` as the type `hint` says (a str, an int, a list of str, ...), by the same rules as
    a record's fields; ValueError naming `where` when it does not fit."""
    return _read(hint, data, where)


def dumps(record: Any) -> bytes:
    return json.dumps(to_json(record), ensure_ascii=False, separators=(",", ":")).encode()


def loads(kind: type[T], raw: bytes) -> T:
    return from_json(kind, json.loads(raw))


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _need(ok: bool, where: str, data: Any, what: str) -> None:
    if not ok:
        raise ValueError(f"{where}: {what} expected, not {type(data).__name__}")


def _read(hint: Any, data: Any, where: str) -> Any:
    """`data` as `hint` says; what does not fit is refused, never passed on as it came: a
    record is what the writer puts in the sidecar and the index."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return data
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if data is None:
            return None
        if len(options) == 1:
            return _read(options[0], data, where)
        return data  # a union of several kinds: kept as JSON gave it
    if origin in (tuple, list):
        _need(isinstance(data, list), where, data, "a list")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        items = [_read(item, v, f"{where}[{n}]") for n, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _need(isinstance(data, dict), where, data, "an object")
        _key, item = typing.get_args(hint) or (str, Any)
        return {k: _read(item, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            _need(isinstance(data, dict), where, data, "an object")
            hints = _hints(hint)
            given = {
                f.name: _read(hints[f.name], data[f.name], f"{where}.{f.name}")
                for f in dataclasses.fields(hint)
                if f.init and f.name in data
            }
            try:
                return hint(**given)
            except TypeError as e:  # a field it must have is missing
                raise ValueError(f"{where}: {e}") from None
        if issubclass(hint, enum.Enum):
            try:
                return hint(data)
            except (ValueError, TypeError):
                raise ValueError(f"{where}: {data!r} is not a {hint.__name__}") from None
        if hint is bytes:
            _need(isinstance(data, str), where, data, "base64 text")
            try:
                return base64.b64decode(data, validate=True)
            except ValueError:
                raise ValueError(f"{where}: not base64") from None
        if hint is float:
            number = isinstance(data, int | float) and not isinstance(data, bool)
            _need(number, where, data, "a number")
            return float(data)
        if hint is int:  # a whole float (a width a site wrote 640.0) is let through, as before
            number = isinstance(data, int | float) and not isinstance(data, bool)
            _need(number, where, data, "a number")
        elif hint in (str, bool):
            _need(isinstance(data, hint), where, data, hint.__name__)
    return data
