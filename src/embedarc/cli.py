"""The command line: parse, build settings, make one library call, print."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from . import __version__, articles
from .config import load_settings
from .errors import EmbedarcError, InputError
from .pipeline import Input, Report, archive

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    """500M, 2G, 1048576."""

    name = "size"
    _UNITS: ClassVar[dict[str, int]] = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in self._UNITS else ""
        number = text[: -len(unit)] if unit else text
        try:
            size = int(float(number) * self._UNITS[unit])
        except ValueError:
            self.fail(
                f"{value!r} is not a size: use a number of bytes, or e.g. 500M or 2G", param, ctx
            )
        if size <= 0:
            self.fail("the size must be greater than zero", param, ctx)
        return size


def archive_options(f: F) -> F:
    """Options every command that touches an archive takes."""
    f = click.option(
        "--archive-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Archive folder [default: ./archive, or $EMBEDARC_ARCHIVE].",
    )(f)
    return f


def output_options(f: F) -> F:
    f = click.option(
        "--json", "as_json", is_flag=True, help="One JSON object per article on stdout."
    )(f)
    f = click.option(
        "-q", "--quiet", is_flag=True, help="No progress and no summary; errors only."
    )(f)
    f = click.option(
        "-v", "--verbose", count=True, help="Debug detail, yt-dlp's messages included."
    )(f)
    return f


def network_options(f: F) -> F:
    options = [
        click.option(
            "--proxy", metavar="URL", help="Proxy for every request [default: $HTTPS_PROXY etc.]."
        ),
        click.option(
            "--ca-bundle",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Trust these CA certificates (PEM) [default: $SSL_CERT_FILE, else certifi].",
        ),
        click.option(
            "--cookies",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Netscape cookies.txt for yt-dlp (e.g. to see protected tweets).",
        ),
        click.option(
            "--no-fxtwitter",
            "fxtwitter",
            flag_value=False,
            default=None,
            help="Never ask api.fxtwitter.com (a third party) about tweets.",
        ),
        click.option(
            "--timeout", type=click.FloatRange(min=0.1), help="Seconds a request may stall [30]."
        ),
        click.option(
            "--max-hops", type=click.IntRange(min=1), help="Redirects followed per link [10]."
        ),
        click.option("--max-file-size", type=ByteSize(), help="Largest file kept, e.g. 500M [2G]."),
        click.option(
            "--concurrency", type=click.IntRange(min=1), help="Requests in flight in all [8]."
        ),
        click.option(
            "--per-host", type=click.IntRange(min=1), help="Requests in flight per host [4]."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, show_time=False)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("embedarc").setLevel(level)


def handle_errors(f: F) -> F:
    """Turn library errors into a message and a documented exit status, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except EmbedarcError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(e.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="embedarc")
def cli() -> None:
    """Keep the footage news articles point at before it disappears.

    embedarc reads articles (text, HTML, URLs), resolves every short link hop by hop,
    downloads the footage they lead to (tweet videos, GIFs, original photos, anything
    yt-dlp can extract, direct media) and stores each file with its SHA-256 beside a copy
    of the article, indexed in SQLite.

    \b
    Example:
      embedarc archive examples/zerohedge-syria-strike.txt
    """


class _Progress:
    """A progress bar on a terminal, log lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.log = logging.getLogger("embedarc.progress")
        self.bar: Any = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("[bold]archiving"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                transient=True,
            )
            self.task = self.bar.add_task("", total=0)
            self.bar.start()

    def add(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=self.bar.tasks[0].total + count)

    def done(self, description: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=description[:60])
        else:
            self.log.info("%s", description)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _inputs(sources: tuple[str, ...]) -> list[Input]:
    found: list[Input] = []
    for source in sources:
        if source == "-":
            raw = sys.stdin.buffer.read()
            found.append(Input("-", article=articles.read_stdin(raw)))
        elif source.lower().startswith(("http://", "https://")):
            found.append(Input(source, url=source))
        else:
            found.append(Input(source, article=articles.read_path(Path(source))))
    return found


@cli.command(name="archive")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@archive_options
@network_options
@output_options
@handle_errors
def archive_command(
    sources: tuple[str, ...], as_json: bool, quiet: bool, verbose: int, **flags: Any
) -> None:
    """Archive the footage of articles: text or HTML files, article URLs, or - for stdin.

    Every link is resolved and recorded in the article's folder and the index; footage
    (tweet videos, GIFs, photos at original size, yt-dlp sites, direct media files) is
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
    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    inputs = _inputs(sources)
    progress = _Progress(enabled=not quiet and not as_json)
    try:
        reports = archive(inputs=inputs, settings=settings, progress=progress)
    finally:
        progress.stop()
    _print_reports(reports, as_json=as_json, quiet=quiet)
    sys.exit(EXIT_FAILED if any(r.failed for r in reports) else EXIT_OK)


def _print_reports(reports: list[Report], *, as_json: bool, quiet: bool) -> None:
    for report in reports:
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        elif report.error:
            click.echo(report.summary(), err=True)
        elif not quiet:
            click.echo(report.summary())


def main() -> None:  # pragma: no cover - console entry point alias
    cli()


__all__ = ["InputError", "cli"]
