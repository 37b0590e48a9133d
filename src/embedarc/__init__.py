"""embedarc: keep the footage news articles point at before it disappears."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("embedarc")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
