"""The `embedarc` command group; each command lives in the module for its job."""

from __future__ import annotations

import click

from .options import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="embedarc", prog_name="embedarc")  # read when asked
@click.option("-v", "--verbose", count=True, help="Debug detail; the same as -v after a command.")
@click.option("-q", "--quiet", is_flag=True, help="Errors only; the same as -q after a command.")
def cli(verbose: int, quiet: bool) -> None:
    """Keep the footage news articles point at before it disappears.

    embedarc reads articles (text, HTML, URLs), resolves every short link hop by hop,
    downloads the footage they lead to (the videos, GIFs and original photos of posts on
    social platforms, anything yt-dlp can extract, direct media) and stores each file
    with its SHA-256 beside a copy of the article, indexed in SQLite.

    \b
    Examples:
      embedarc archive examples/zerohedge-syria-strike.txt
      embedarc -v archive examples/zerohedge-syria-strike.txt
    """
    if verbose or quiet:  # commands with their own -v/-q add theirs to these
        setup_logging(verbose, quiet)
