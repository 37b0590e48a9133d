"""Durations and sizes as people write them: one reading of each for flags, variables and the
config file alike, so `30s` or `500M` is accepted everywhere a duration or a size is."""

from __future__ import annotations

import math
import re
from typing import Annotated

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip
# Binary multiples, whichever way they are spelt: 500M, 500MB and 500MiB are the same size.
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_LONE_NUMBER = re.compile(_NUMBER)
_UNIT = "|".join(sorted(_DURATION_UNITS, key=len, reverse=True))  # "ms" before "m"
_DURATION_PART = re.compile(rf"{_NUMBER}\s*({_UNIT})")
_DURATION = re.compile(rf"(?:{_NUMBER}\s*(?:{_UNIT})\s*)+")
_SIZE = re.compile(_NUMBER + r"\s*([kmgt]?)(?:i?b)?")

DURATION_EXAMPLES = "e.g. 90, 90s, 15m, 2h, 1d or 1h30m"
SIZE_EXAMPLES = "a number of bytes, or e.g. 500K, 500M, 2G"


def parse_duration(value: str | float) -> float:
    """`90`, `90s`, `1.5m`, `2h`, `1d`, `1h30m` → seconds; a bare number is seconds.

    Raises ValueError with a sentence a person understands.
    """
    if isinstance(value, bool):  # a TOML `true` is not a duration, though bool is an int
        raise ValueError(f"{value!r} is not a duration: use {DURATION_EXAMPLES}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        if _LONE_NUMBER.fullmatch(text):  # seconds
            seconds = float(text)
        elif _DURATION.fullmatch(text):  # one or more "<number><unit>": 90s, 1h30m
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))
        elif text.startswith("-"):
            raise ValueError(f"{value!r}: a duration cannot be negative")
        else:
            raise ValueError(f"{value!r} is not a duration: use {DURATION_EXAMPLES}")
    if seconds < 0:
        raise ValueError(f"{value!r}: a duration cannot be negative")
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a duration: use {DURATION_EXAMPLES}")
    return seconds


def parse_size(value: str | float) -> int:
    """`1048576`, `500K`, `500M`, `2G`, `1.5GB`, `2GiB` → bytes (K, M, G, T are powers of 1024).

    Raises ValueError with a sentence a person understands.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size: use {SIZE_EXAMPLES}")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        text = value.strip().lower()
        match = _SIZE.fullmatch(text)
        if match is None:
            if text.startswith("-"):
                raise ValueError(f"{value!r}: a size cannot be negative")
            raise ValueError(f"{value!r} is not a size: use {SIZE_EXAMPLES}")
        number, unit = float(match.group(1)), match.group(2)
    size = number * _SIZE_UNITS[unit]
    if size < 0:
        raise ValueError(f"{value!r}: a size cannot be negative")
    if not math.isfinite(size):
        raise ValueError(f"{value!r} is not a size: use {SIZE_EXAMPLES}")
    return int(size)


# Marks on Settings fields: config.py reads each marked field's text with this parser.
Duration = Annotated[float, parse_duration]
Size = Annotated[int, parse_size]
