"""Templates to HTML: Jinja2, autoescaped, every page self-contained."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..keeping.store import Store
from .charts import HEIGHT, PAD, WIDTH
from .outcomes import LABELS, TONES


def filesize(value: object) -> str:
    if not isinstance(value, int | float):
        return ""
    size = float(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover - the loop always returns


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("embedarc.report", "templates"),
        # Titles, post texts, names and URLs are strangers' text: escaped everywhere.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["filesize"] = filesize
    env.globals.update(
        version=__version__,
        labels={str(k): v for k, v in LABELS.items()},
        tones={str(k): v for k, v in TONES.items()},
        width=WIDTH,
        height=HEIGHT,
        pad=PAD,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def write_page(store: Store, path: Path, text: str) -> None:
    """Write a page whole (a temporary sibling, then a rename), never through a link.

    No fsync: the view is derived and made again by `embedarc report`; a page cut short by a
    crash is replaced by the next one.
    """
    store.refuse_links(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
