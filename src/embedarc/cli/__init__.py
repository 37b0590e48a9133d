"""The command line: parse, build settings, make one library call, print."""

from __future__ import annotations

from . import archive, evidence, export, job, maintenance, query, report  # noqa: F401  (each registers its commands)
from .main import cli

__all__ = ["cli"]
