"""`embedarc archive`: articles in, footage kept."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings, load_settings
from ..errors import BadURL, UsageError
from .main import cli
from .options import (
    EXIT_FAILED,
    EXIT_OK,
    Progress,
    archive_options,
    handle_errors,
    network_options,
    output_options,
    report_option,
    retry_options,
    say,
    say_json,
    setup_logging,
    wayback_save_option,
)
from .report import update_after

if TYPE_CHECKING:  # the pipeline and the network are imported by the commands that use them
    from ..job.pipeline import Input, Report


def read_inputs(
    sources: tuple[str, ...], max_size: int, max_links: int | None = None
) -> list[Input]:
    from ..job.pipeline import Input
    from ..reading import articles

    found: list[Input] = []
    for source in sources:
        if source == "-":
            raw = sys.stdin.buffer.read(max_size + 1)
            article = articles.read_stdin(raw, max_size=max_size, max_links=max_links)
            found.append(Input("-", article=article))
        elif source.lower().startswith(("http://", "https://")):
            found.append(Input(source, url=checked_url(source)))
        else:
            path = Path(source)
            if not path.exists():
                not_a_url(source)
            article = articles.read_path(path, max_size=max_size, max_links=max_links)
            found.append(Input(source, article=article))
    return found


def checked_url(source: str) -> str:
    """An http(s) URL from the command line, or a usage error saying what is wrong with it."""
    from ..reading.urls import redact, request_url

    try:
        request_url(source)
    except BadURL as e:
        shown = redact(source)  # a password typed into the URL stays off the screen
        raise UsageError(f"{shown} is not a URL embedarc can fetch: {e.why}.") from None
    return source


def not_a_url(source: str) -> None:
    """For a SOURCE that is not a file: a usage error when it looks like a try at a URL (a
    file path would have the URL mangled in "there is no such file")."""
    from ..reading.urls import meant_url, split_url

    meant = meant_url(source)
    if meant is not None:
        raise UsageError(f"{source} is not a URL or a file; did you mean {meant}?")
    parts = split_url(source)
    if parts is not None and len(parts.scheme) > 1 and source[len(parts.scheme) :][:3] == "://":
        raise UsageError(
            f"{source} is not a URL embedarc can fetch: only http:// and https:// URLs"
            " (or files, or - for stdin) can be archived."
        )


def save_to_wayback(
    settings: Settings, reports: list[Report], keys: tuple[str, str] | None
) -> None:
    if keys is None:
        return
    from ..footage.wayback import SaveStatus
    from ..job import schedule

    for result in schedule.submit_to_wayback(settings, reports, keys):
        if result.status not in (SaveStatus.SUCCESS, SaveStatus.PENDING):
            say(f"Wayback Machine: {result.status} for {result.url}: {result.message}", err=True)


@cli.command(name="archive")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@archive_options
@network_options
@retry_options
@output_options
@wayback_save_option
@report_option
@handle_errors
def archive_command(
    sources: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    verbose: int,
    wayback_save: bool,
    **flags: Any,
) -> None:
    """Archive the footage of articles: text or HTML files, article URLs, or - for stdin.

    Every link is resolved and recorded in the article's folder and the index; footage
    (posts' videos, GIFs and photos at original size, yt-dlp sites, direct media files) is
    downloaded once and stored by its SHA-256.

    Exit status: 0 when every link reached a final outcome, 1 when something failed
    in a way a later run may fix, 2 for bad usage or an unreadable input.

    \b
    Examples:
      embedarc archive examples/zerohedge-syria-strike.txt
      embedarc archive saved-page.html https://example.org/story
      cat post.txt | embedarc archive -
      embedarc archive --json --archive-dir ~/footage article.txt
    """
    from ..job import schedule
    from ..job.pipeline import archive

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    keys = schedule.wayback_keys() if wayback_save else None
    inputs = read_inputs(sources, settings.max_article_size, settings.max_links)
    progress = Progress(enabled=not quiet and not as_json)
    try:
        reports = archive(inputs=inputs, settings=settings, progress=progress)
    finally:
        progress.stop()
    print_reports(reports, as_json=as_json, quiet=quiet)
    update_after(settings, reports)
    save_to_wayback(settings, reports, keys)
    sys.exit(EXIT_FAILED if any(r.failed for r in reports) else EXIT_OK)


def print_reports(reports: list[Report], *, as_json: bool, quiet: bool) -> None:
    for report in reports:
        if as_json:
            say_json(report.as_dict())
        elif report.error:
            say(report.summary(), err=True)
        elif not quiet:
            say(report.summary())
        if not as_json:
            for url, reason in report.failures:  # what a later run will try again, and why
                say(f"  failed: {url}: {reason.removeprefix(url + ': ')}", err=True)
