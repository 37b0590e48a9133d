"""The archive as static HTML: `index.html` for the archive and one in each article folder.

Pages are derived from the sidecars and the index, self-contained (no request leaves the
machine when one is opened, no script runs), and written after every `archive` and `run` for
the articles they changed, or by `embedarc report` for all.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..keeping import sidecar, thumbs
from ..keeping.index import INDEX_NAME, Index
from ..keeping.lock import writing
from ..keeping.sidecar_record import Sidecar
from ..keeping.store import ARTICLE_VIEW, Store, require_archive, stored_file, write_error
from .article import article_view
from .overview import overview
from .render import render, write_page

log = logging.getLogger(__name__)

ARCHIVE_VIEW = "index.html"


@dataclass(frozen=True)
class ViewReport:
    """What one update of the view wrote."""

    pages: int  # article pages written
    thumbnails: int  # thumbnails made (those already there are kept)
    removed_thumbnails: int
    seconds: float
    path: Path  # the archive's page

    def as_dict(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "thumbnails": self.thumbnails,
            "removed_thumbnails": self.removed_thumbnails,
            "seconds": round(self.seconds, 3),
            "path": str(self.path),
        }


def update_view(root: Path, *, article_ids: Iterable[str] | None = None) -> ViewReport:
    """Write the pages of these articles (all when None) and the archive's page.

    Takes the write lock shared, as `archive` does: a `remove` in progress is waited for, so
    no page is written into a folder being taken out.
    """
    require_archive(root)
    try:
        return _update_view(root, article_ids)
    except OSError as e:  # a full disk, a read-only folder: one line, not a traceback
        raise write_error(root, e) from None


def _update_view(root: Path, article_ids: Iterable[str] | None) -> ViewReport:
    started = time.monotonic()
    with writing(root):
        store = Store(root)
        index = Index.for_reading(root / INDEX_NAME)
        try:
            wanted = None if article_ids is None else sorted(set(article_ids))
            made, pages = _article_pages(store, index, wanted)
            removed = _prune_thumbnails(store, index) if wanted is None else 0
            page = overview(index, root)
        finally:
            index.close()
        target = root / ARCHIVE_VIEW
        write_page(store, target, render("archive.html", o=page))
    return ViewReport(pages, made, removed, time.monotonic() - started, target)


def _article_pages(store: Store, index: Index, wanted: list[str] | None) -> tuple[int, int]:
    """(thumbnails made, pages written) for the articles wanted, all when None.

    The thumbnails missing are made first, side by side (a video's comes from an ffmpeg of
    its own); then the pages are written."""
    sql = "select id, folder, first_archived from articles"
    rows = list(index.db.query(sql))
    if wanted is not None:
        keep = set(wanted)
        rows = [r for r in rows if r["id"] in keep]
    articles: list[tuple[dict[str, Any], Path, Sidecar, list[str]]] = []
    files: dict[str, tuple[Path, str]] = {}
    for row in rows:
        folder_name = str(row["folder"] or "")
        if not folder_name or not store.is_article_folder(folder_name):
            continue  # never trust a path from the index
        folder = store.root / folder_name
        data = sidecar.read(folder) if folder.is_dir() else None
        if data is None:
            log.warning("no page for %s: its article.json cannot be read", folder_name)
            continue
        shas: list[str] = []
        for entry in data.media:
            sha = entry.sha256
            stored = stored_file(store.root, sha, entry.path) if sha else None
            if stored is not None:
                files.setdefault(sha, (stored, entry.mime))
                shas.append(sha)
        articles.append((row, folder, data, shas))
    missing = [sha for sha in files if not thumbs.thumb_path(store.root, sha).is_file()]

    def make(sha: str) -> bool:
        return thumbs.ensure(store, sha, *files[sha])

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        made_now = dict(zip(missing, pool.map(make, missing), strict=True))
    have = {sha for sha in files if made_now.get(sha, sha not in made_now)}
    pages = 0
    for row, folder, data, shas in articles:
        view = article_view(
            data,
            folder,
            folder=str(row["folder"]),
            thumbs=have & set(shas),
            first_archived=row["first_archived"],
        )
        write_page(store, folder / ARTICLE_VIEW, render("article.html", a=view, up="../../"))
        pages += 1
    return sum(made_now.values()), pages


def _prune_thumbnails(store: Store, index: Index) -> int:
    """Remove thumbnails of files no longer in the archive (an article taken out)."""
    folder = store.root / thumbs.THUMBS
    if not folder.is_dir() or folder.is_symlink():
        return 0
    known = {row["sha256"] for row in index.db.query("select sha256 from media")}
    gone = {p.stem for p in folder.glob("*/*.jpg") if p.stem not in known}
    thumbs.forget(store.root, gone)
    return len(gone)


def forget_media(root: Path, sha256s: Iterable[str]) -> None:
    """The thumbnails of files taken out of the archive go with them."""
    thumbs.forget(root, set(sha256s))
