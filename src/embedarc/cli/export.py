"""`export`: articles as a WARC, a WACZ, or BagIt bags, for an editor, a court or an archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..config import load_settings
from ..errors import UsageError
from .main import cli
from .options import archive_options, handle_errors, output_options, say, say_json, setup_logging


@cli.command(name="export")
@click.argument("articles", nargs=-1, metavar="ARTICLE...")
@click.option("--all", "every", is_flag=True, help="Every article of the archive.")
@click.option("--wacz", "form", flag_value="wacz", help="Write one WACZ (replayable) to -o FILE.")
@click.option("--warc", "form", flag_value="warc", help="Write one gzipped WARC to -o FILE.")
@click.option(
    "--bag",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one BagIt bag per article into this folder.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The WACZ or WARC file to write (replaced if it exists).",
)
@click.option(
    "--source-organization",
    help="Source-Organization of the bags [default: source_organization in embedarc.toml].",
)
@archive_options
@output_options
@handle_errors
def export_command(
    articles: tuple[str, ...],
    every: bool,
    form: str | None,
    bag: Path | None,
    output: Path | None,
    as_json: bool,
    quiet: bool,
    verbose: int,
    **flags: Any,
) -> None:
    """Export articles with the evidence of how they were archived, in formats other
    tools check on their own.

    --wacz writes one WACZ: every HTTP exchange made for the articles (redirects, pages, API
    answers, media, yt-dlp's requests) with status line, headers and body bytes as received,
    which ReplayWeb.page and pywb replay. --warc writes the same records as one WARC file.
    Media records' payload digests are the files' SHA-256 in the store. The same archive
    exports the same bytes.

    --bag DIR writes one BagIt bag per article (RFC 8493): its folder (original, origin page,
    article.json, media, evidence, capture records, timestamps) and its WACZ, with SHA-256
    and SHA-512 manifests; `bagit.py --validate DIR/<folder>` checks it.

    ARTICLE is an article's id, its first 8 characters, its folder name, or its canonical
    URL, as for `remove`; --all exports every article. Articles archived before exchanges
    were recorded export their stored bytes as WARC resource records, each marked as not a
    raw HTTP exchange, and the command says so.

    Exit status: 0 written, 1 could not be written (or an article is unreadable), 2 usage.

    \b
    Examples:
      embedarc export --wacz 1a2b3c4d -o strike.wacz
      embedarc export --warc --all -o archive.warc.gz
      embedarc export --bag bags/ https://www.zerohedge.com/geopolitical/some-story
    """
    from ..evidence import export

    setup_logging(verbose, quiet or as_json)
    if (form is None) == (bag is None):
        raise UsageError("say what to write: --wacz, --warc (with -o FILE) or --bag DIR")
    if form is not None and output is None:
        raise UsageError(f"--{form} needs -o FILE: where to write it")
    if bag is not None and output is not None:
        raise UsageError("-o is for --wacz and --warc; --bag writes into its own folder")
    if every == bool(articles):
        raise UsageError("name the articles to export, or give --all (not both)")
    settings = load_settings(flags)
    root = settings.archive_dir
    # A bag folder that is a link is written into; an output file that is one is replaced.
    target = bag.resolve() if bag is not None else output
    assert target is not None
    export.outside_archive(root, target)
    chosen = export.choose(root, list(articles), every=every)
    if bag is not None:
        reports = export.export_bags(root, chosen, bag, organization=settings.source_organization)
    elif form == "wacz":
        assert output is not None
        reports = [export.export_wacz(root, chosen, output)]
    else:
        assert output is not None
        reports = [export.export_warc(root, chosen, output)]
    for report in reports:
        if as_json:
            say_json(report.as_dict())
            continue
        for gap in report.gaps:
            say(f"note: {gap}", err=True)
        if not quiet:
            say(f"wrote {report.path} ({len(report.articles)} articles, {report.records} records)")
