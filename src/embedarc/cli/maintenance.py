"""`verify`, `rebuild-index`, `remove`: looking after an archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..config import load_settings
from .main import cli
from .options import (
    EXIT_FAILED,
    EXIT_OK,
    TIMESTAMP_CA,
    archive_options,
    handle_errors,
    output_options,
    say,
    say_json,
    setup_logging,
    terminal_bar,
)
from .report import forget_in_view


@cli.command(name="verify")
@archive_options
@output_options
@TIMESTAMP_CA
@click.option(
    "--export",
    "exports",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Check this exported bag (folder), WACZ or WARC instead of the archive; repeatable.",
)
@handle_errors
def verify_command(
    as_json: bool, quiet: bool, verbose: int, exports: tuple[Path, ...], **flags: Any
) -> None:
    """Check that the archive's files, sidecars and index still agree.

    Every file in media/ is hashed again (one whose SHA-256 is not its name is altered),
    each article folder is checked against its article.json, and the index against both.
    Problems are listed as missing, altered or unindexed (nothing refers to it). Kept
    timestamp tokens are checked against their manifests and the TSA's certificates
    (--timestamp-ca), each folder against its last stamped manifest; what is not proven
    yet (a manifest not stamped yet, a file without a perceptual hash) is listed as
    unproven, and a sidecar value that does not fit its field (an edit by hand, a later
    release) as irregular: kept as written, both leave the archive sound.

    With --export, an exported bag, WACZ or WARC is checked instead, each with its format's
    own library: the bag's manifests, the WACZ's package hashes, every WARC record's digests.

    Exit status: 0 when the archive (or every export) is sound, 1 otherwise.

    \b
    Examples:
      embedarc verify
      embedarc verify --json --archive-dir ~/footage
      embedarc verify --export strike.wacz --export bags/2022-01-04-us-launches-…-0e3a5efe
    """
    from ..upkeep.verify import verify

    setup_logging(verbose, quiet or as_json)
    if exports:
        _verify_exports(exports, as_json=as_json, quiet=quiet)
    settings = load_settings(flags)
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
    bar = terminal_bar(not quiet and not as_json, *columns)
    if bar is not None:
        task = bar.add_task("verifying", total=None)

    def on_progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(task, completed=done, total=total)

    try:
        report = verify(
            settings.archive_dir, on_progress=on_progress, timestamp_ca=settings.timestamp_ca
        )
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        say_json(report.as_dict())
    else:
        for kind in ("missing", "altered", "unindexed", "unproven", "irregular"):
            for problem in getattr(report, kind):
                say(f"{kind}: {problem.path}: {problem.reason}", err=not quiet)
        if not quiet:
            say(report.summary())
    sys.exit(EXIT_OK if report.sound else EXIT_FAILED)


def _verify_exports(exports: tuple[Path, ...], *, as_json: bool, quiet: bool) -> None:
    from ..evidence.verify_export import check_export

    found = {str(path): check_export(path) for path in exports}
    sound = not any(found.values())
    if as_json:
        say_json({"sound": sound, "problems": found})
    else:
        for problems in found.values():
            for problem in problems:
                say(f"altered: {problem}", err=not quiet)
        if not quiet:
            say(f"{'sound' if sound else 'not sound'}: {len(found)} exports checked")
    sys.exit(EXIT_OK if sound else EXIT_FAILED)


@cli.command(name="rebuild-index")
@archive_options
@output_options
@handle_errors
def rebuild_index_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Rebuild the index's article, link, media and post tables from the sidecars.

    Tables that do not come from sidecars (sources, retries, ...) are kept. A sidecar that
    cannot be read is reported and skipped.

    Exit status: 0 when every sidecar was indexed, 1 when one was skipped.

    \b
    Example:
      embedarc rebuild-index --archive-dir ~/footage
    """
    from ..upkeep.maintenance import rebuild_index

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    skipped: list[tuple[Path, str]] = []
    count = rebuild_index(
        settings.archive_dir, on_skipped=lambda path, why: skipped.append((path, why))
    )
    if as_json:
        gaps = [{"path": str(path), "reason": why} for path, why in skipped]
        say_json({"articles": count, "skipped": gaps})
    else:
        for path, why in skipped:
            say(f"skipped {path}: {why}", err=True)
        if not quiet:
            say(f"indexed {count} articles, skipped {len(skipped)}")
    sys.exit(EXIT_FAILED if skipped else EXIT_OK)


@cli.command(name="remove")
@click.argument("article", metavar="ARTICLE")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@archive_options
@output_options
@handle_errors
def remove_command(
    article: str, dry_run: bool, as_json: bool, quiet: bool, verbose: int, **flags: Any
) -> None:
    """Take an article out of the archive: its folder, its index rows, and its media files
    that no other article refers to.

    ARTICLE is the article's id, its folder name, or its canonical URL.

    \b
    Examples:
      embedarc remove 2022-01-04-us-launches-preemptive-strike-1a2b3c4d
      embedarc remove --dry-run https://www.zerohedge.com/geopolitical/some-story
    """
    from ..upkeep.maintenance import remove_article

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    removal = remove_article(settings.archive_dir, article, dry_run=dry_run)
    if not dry_run:
        forget_in_view(settings, removal.removed_media)
    if as_json:
        say_json(removal.as_dict())
    elif not quiet:
        verb = "would remove" if dry_run else "removed"
        say(f"{verb} {removal.folder} ({removal.title!r})")
        for path in removal.removed_media:
            say(f"{verb} {path}")
        for path in removal.kept_media:
            say(f"kept {path} (another article refers to it)")
