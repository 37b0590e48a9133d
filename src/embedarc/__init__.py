"""embedarc: keep the footage news articles point at before it disappears."""

from __future__ import annotations

import functools


@functools.cache
def _version() -> str:
    # importlib.metadata costs a noticeable part of start-up: read only when asked for
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("embedarc")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
