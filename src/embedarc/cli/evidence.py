"""`timestamp` and `similar`: evidence others can check."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..config import load_settings
from ..errors import ConfigError
from .main import cli
from .options import (
    EXIT_FAILED,
    EXIT_OK,
    archive_options,
    connection_options,
    handle_errors,
    open_index,
    output_options,
    say,
    say_json,
    setup_logging,
    timestamp_options,
)


@cli.command(name="timestamp")
@archive_options
@connection_options
@timestamp_options
@output_options
@handle_errors
def timestamp_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Have each article's manifest stamped by the time-stamping authorities (RFC 3161).

    Every article whose folder changed since its last stamp, or whose last request failed,
    or that a TSA named has not stamped yet, gets its manifest stamped; the others cost
    nothing. The TSAs come from --timestamp or `timestamp_urls` in the config.

    Exit status: 0 when every article is stamped, 1 when a TSA failed (tried again later).

    \b
    Examples:
      embedarc timestamp --timestamp https://freetsa.org/tsr
      embedarc timestamp --json
    """
    from ..evidence.kept import stamp
    from ..keeping.lock import writing
    from ..keeping.store import Store
    from ..network.net import Net

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    if not settings.timestamp_urls:
        raise ConfigError("no time-stamping authority: give --timestamp URL or timestamp_urls")
    store = Store(settings.archive_dir)
    results = []
    with writing(settings.archive_dir), open_index(settings) as index, Net(settings) as net:
        articles = [(str(r["id"]), str(r["folder"])) for r in index.db.table("articles").rows]
        for article_id, folder in sorted(articles, key=lambda a: a[1]):
            if store.is_article_folder(folder) and (store.root / folder).is_dir():
                results.append(
                    stamp(net, index, store, folder, article_id, settings.timestamp_urls)
                )
    failed = [r for r in results if r.failed]
    if as_json:
        say_json(
            {
                "articles": len(results),
                "stamped": sum(1 for r in results if r.stamped),
                "failed": [
                    {"folder": r.folder, "tsa": tsa, "reason": why}
                    for r in failed
                    for tsa, why in r.failed
                ],
            }
        )
    elif not quiet:
        stamped = sum(1 for r in results if r.stamped)
        say(f"{len(results)} articles: {stamped} stamped now, {len(failed)} failed")
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


@cli.command(name="similar")
@archive_options
@click.option(
    "--threshold",
    type=click.IntRange(min=0, max=256),
    default=31,
    show_default=True,
    help="Largest PDQ distance (bits of 256) that counts as the same picture.",
)
@output_options
@handle_errors
def similar_command(threshold: int, as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """List near-duplicate footage: stored files whose perceptual hashes are close.

    The same clip re-encoded, resized, cropped, mirrored or re-uploaded by another account
    is a pair here, with its PDQ distance and the articles, links and posts that cite each
    copy. Files with no perceptual hash yet are hashed first (when the archive can be
    written).

    \b
    Examples:
      embedarc similar
      embedarc similar --threshold 20 --json
    """
    import os

    from ..evidence import kept as evidence
    from ..evidence import similar
    from ..keeping.index import INDEX_NAME, Index
    from ..keeping.lock import writing
    from ..keeping.store import require_archive

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    require_archive(settings.archive_dir)
    path = settings.archive_dir / INDEX_NAME
    if os.access(settings.archive_dir, os.W_OK) and os.access(path, os.W_OK):
        with writing(settings.archive_dir), Index(path) as index:
            evidence.examine(index, settings.archive_dir, max_pixels=settings.max_image_pixels)
    with Index.for_reading(path) as index:
        pairs = similar.find(index, threshold=threshold)
    if as_json:
        say_json({"threshold": threshold, "pairs": [p.as_dict() for p in pairs]})
        return
    for pair in pairs:
        mirrored = ", mirrored" if pair.mirrored else ""
        say(f"distance {pair.distance}{mirrored}: {pair.a.path}  {pair.b.path}")
        for copy in (pair.a, pair.b):
            for cite in copy.cited_by:
                post = f" (post {cite['post']})" if cite.get("post") else ""
                say(f"  {copy.path}: {cite['folder']} via {cite['link']}{post}")
    if not quiet:
        say(f"{len(pairs)} pairs within {threshold} bits")
