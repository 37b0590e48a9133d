"""`export`: articles as a WARC, a WACZ, or one BagIt bag each, for others to check.

Nothing is kept in the archive: an export is derived from the article folders and the store,
and the same archive exports the same WARC and WACZ bytes, so it can be made again whenever
it is needed. Outputs are written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ExportError, UsageError
from ..keeping import sidecar
from ..keeping.lock import writing
from ..keeping.sidecar_record import Sidecar
from ..keeping.store import require_archive
from ..network.capture_record import RECORD, read_record
from ..upkeep.maintenance import find_article
from ..upkeep.verify import article_folders
from .wacz import Page, write_wacz
from .warc import ArticleRecords, article_records, warc_date, write_warc

SOURCE_ORGANIZATION = "Source-Organization"


@dataclass(frozen=True)
class Chosen:
    """An article to export: its folder and sidecar."""

    folder: Path
    data: Sidecar


@dataclass
class Exported:
    """What an export wrote, and what it could not give as raw exchanges."""

    path: str
    articles: list[str] = field(default_factory=list)
    records: int = 0
    gaps: list[str] = field(default_factory=list)  # "<folder>: <what>"

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "articles": self.articles,
            "records": self.records,
            "gaps": self.gaps,
        }


def choose(root: Path, wanted: list[str], *, every: bool) -> list[Chosen]:
    """The articles named (as `remove` finds them), or all of them; each once, in folder order."""
    require_archive(root)
    if every:
        folders = [(f, *sidecar.load(f)) for f in article_folders(root)]
    else:
        folders = [(f.folder, f.data, None) for f in (find_article(root, n) for n in wanted)]
    chosen: dict[Path, Chosen] = {}
    for folder, data, why in folders:
        for part in (folder, folder.parent):  # its sidecar and files would be a stranger's
            if part.is_symlink():
                raise ExportError(f"refusing to export through a symbolic link: {part}")
        if data is None:
            why = why or sidecar.load(folder)[1]
            raise ExportError(f"{folder.name}: its {why}: cannot export it")
        chosen.setdefault(folder, Chosen(folder, data))
    if not chosen:
        raise UsageError(f"no article in {root} to export")
    return [chosen[f] for f in sorted(chosen)]


def outside_archive(root: Path, target: Path) -> None:
    """UsageError when `target` (not followed if it is a link: it is replaced, not written
    through) lies inside the archive: an export replacing a sidecar, a stored file or the
    index, or left among the articles, would destroy or muddle what it exports."""
    where = target.parent.resolve() / target.name
    home = root.resolve()
    if where == home or home in where.parents:
        raise UsageError(
            f"refusing to write an export inside the archive it is made from: {target}"
        )


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[Path]:
    """A temporary file beside `target`, renamed to it when the block ends without error."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    os.close(fd)
    part = Path(name)
    try:
        yield part
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


@contextlib.contextmanager
def _steady(root: Path) -> Iterator[None]:
    """Hold the write lock shared, so `remove` cannot take an article away mid-export. An
    archive this user cannot write to (a read-only copy) cannot change under them: no lock."""
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(OSError):
            stack.enter_context(writing(root))
        yield


def _records(root: Path, chosen: list[Chosen], report: Exported) -> list[ArticleRecords]:
    made = []
    for article in chosen:
        records = article_records(root, article.folder, article.data)
        made.append(records)
        report.articles.append(article.folder.relative_to(root).as_posix())
        report.gaps += [f"{article.folder.name}: {gap}" for gap in records.gaps]
    return made


def _created(chosen: list[Chosen]) -> str:
    """The export's date: the latest article's archiving time (not now: the same bytes)."""
    times = [c.data.article.archived_at for c in chosen]
    return warc_date(max(times) or "1970-01-01T00:00:00Z")


def _write_warc_file(root: Path, chosen: list[Chosen], target: Path, report: Exported) -> None:
    articles = _records(root, chosen, report)
    try:
        with target.open("wb") as out:
            report.records = write_warc(out, articles, _created(chosen))
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None


def export_warc(root: Path, chosen: list[Chosen], target: Path) -> Exported:
    """Write the articles' records to one gzipped WARC file at `target`."""
    report = Exported(str(target))
    with _steady(root), _replacing(target) as part:
        _write_warc_file(root, chosen, part, report)
    return report


def _pages(chosen: list[Chosen]) -> list[Page]:
    pages = []
    for article in chosen:
        info = article.data.article
        url = info.canonical_url or f"urn:embedarc:article:{info.id or None}"
        pages.append(Page(url, _created([article]), info.title if info.has("title") else None))
    return pages


def _wacz(root: Path, chosen: list[Chosen], target: Path, report: Exported) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".wacz-") as tmp:
        warc = Path(tmp) / "data.warc.gz"
        _write_warc_file(root, chosen, warc, report)
        titles = [c.data.article.title or c.folder.name for c in chosen]
        title = titles[0] if len(titles) == 1 else f"{len(titles)} articles"
        try:
            write_wacz(
                target, warc=warc, pages=_pages(chosen), title=title, created=_created(chosen)
            )
        except OSError as e:
            raise ExportError(f"cannot write {target}: {e.strerror or e}") from None


def export_wacz(root: Path, chosen: list[Chosen], target: Path) -> Exported:
    """Write the articles as one WACZ at `target`."""
    report = Exported(str(target))
    with _steady(root), _replacing(target) as part:
        _wacz(root, chosen, part, report)
    return report


def _capture_times(folder: Path) -> tuple[str, str] | None:
    try:
        times = [str(r["time"]) for r in read_record((folder / RECORD).read_text("utf-8"))]
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
    return (min(times), max(times)) if times else None


def bag_info(article: Chosen, organization: str | None) -> dict[str, str]:
    """The bag-info.txt fields of an article's bag."""
    info = article.data.article
    fields = {
        "External-Identifier": str(info.canonical_url or info.identity or None),
        "External-Description": info.title or article.folder.name,
        "Embedarc-Article-Id": str(info.id or None),
        "Embedarc-Archived-At": str(info.archived_at or None),
        "Embedarc-Version": article.data.embedarc or "unknown",
        "Embedarc-Export-Version": __version__,
        # What archived it, as its sidecar says: not the yt-dlp that happens to run the export.
        "Yt-Dlp-Version": article.data.yt_dlp or "unknown",
    }
    times = _capture_times(article.folder)
    if times is not None:
        fields["Embedarc-Capture-Start"], fields["Embedarc-Capture-End"] = times
    if organization:
        fields[SOURCE_ORGANIZATION] = organization
    return fields


def _copy_folder(source: Path, dest: Path) -> None:
    """A copy, not hard links: a bag handed over and changed must not change the archive."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        hidden_temporary = path.name.startswith(".") and path.name.endswith((".tmp", ".old"))
        if path.is_symlink() or hidden_temporary:
            continue
        if path.is_dir():
            (dest / relative).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / relative)


def export_bags(
    root: Path, chosen: list[Chosen], target: Path, *, organization: str | None
) -> list[Exported]:
    """One BagIt bag per article under `target`, named as its folder: the folder's files and
    the article's WACZ as payload, SHA-256 and SHA-512 manifests, bag-info.txt."""
    import bagit

    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    for article in chosen:
        if (target / article.folder.name).exists():
            raise ExportError(f"{target / article.folder.name} exists already: remove it first")
    reports = []
    with _steady(root):
        for article in chosen:
            final = target / article.folder.name
            report = Exported(str(final))
            staging = Path(tempfile.mkdtemp(dir=target, prefix=f".{article.folder.name}."))
            try:
                _copy_folder(article.folder, staging)
                _wacz(root, [article], staging / f"{article.folder.name}.wacz", report)
                bagit.make_bag(
                    str(staging),
                    bag_info(article, organization),
                    checksums=["sha256", "sha512"],
                )
                os.replace(staging, final)
            except (OSError, bagit.BagError) as e:
                raise ExportError(f"cannot write the bag {final}: {e}") from None
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            reports.append(report)
    return reports
