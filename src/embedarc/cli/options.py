"""What many commands share: option decorators, parameter types, logging, progress, errors."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from ..config import Settings
from ..errors import EmbedarcError
from ..index import INDEX_NAME, Index
from ..store import Store, require_archive

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
            "--no-wayback",
            "wayback",
            flag_value=False,
            default=None,
            help="Never ask web archives (Wayback Machine, archive.today, a TimeMap "
            "aggregator) for captures of dead links and deleted tweets.",
        ),
        click.option(
            "--memento-timemap",
            metavar="URL-PREFIX",
            help="Also ask this Memento TimeMap aggregator: URL-PREFIX + a link gives its "
            "TimeMap (application/link-format).",
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
        click.option(
            "--allow-private",
            is_flag=True,
            default=None,
            help="Let links reach loopback and private addresses (refused by default).",
        ),
        click.option(
            "--allow-host",
            "allow_hosts",
            multiple=True,
            metavar="HOST|RANGE",
            callback=lambda _ctx, _param, value: tuple(value) or None,
            help="Allow this private host (and hosts under it) or range, e.g. 10.0.0.0/8.",
        ),
        click.option(
            "--max-download-time",
            type=click.FloatRange(min=0.001),
            metavar="SECONDS",
            help="Longest one download may take, however slowly it arrives [3600].",
        ),
        click.option(
            "--max-article-size",
            type=ByteSize(),
            help="Largest article (file, stdin or fetched page), e.g. 50M [20M].",
        ),
        click.option(
            "--max-image-pixels",
            type=click.IntRange(min=1),
            help="Larger images are decompression bombs, not stored [89478485].",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


class Duration(click.ParamType):  # type: ignore[type-arg]
    """90, 90s, 15m, 2h, 1d: a duration in seconds."""

    name = "duration"
    _UNITS: ClassVar[dict[str, int]] = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip().lower()
        unit = text[-1:] if text[-1:] in self._UNITS else "s"
        number = text[:-1] if text[-1:] in self._UNITS else text
        try:
            seconds = float(number) * self._UNITS[unit]
        except ValueError:
            self.fail(f"{value!r} is not a duration: use e.g. 90s, 15m, 2h or 1d", param, ctx)
        if seconds < 0:
            self.fail("a duration cannot be negative", param, ctx)
        return seconds


def retry_options(f: F) -> F:
    options = [
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            help="Tries again within a run after a transient failure [3].",
        ),
        click.option(
            "--retry-base",
            type=Duration(),
            help="Wait before the first retry in a later run, e.g. 10m; doubles each time [1m].",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(min=1),
            help="Runs that may fail on a link before it is failed_permanently [5].",
        ),
        click.option(
            "--host-delay", type=Duration(), help="Pause between two requests to one host [0]."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def setup_logging(verbose: int, quiet: bool) -> None:
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


def wayback_save_option(f: F) -> F:
    return click.option(
        "--wayback-save",
        is_flag=True,
        help="Ask the Wayback Machine to capture each newly archived article "
        "(keys in $EMBEDARC_IA_ACCESS and $EMBEDARC_IA_SECRET).",
    )(f)


def terminal_bar(enabled: bool, *columns: Any) -> Any:
    """A started rich progress bar on stderr when it is a terminal (and `enabled`), else None."""
    if not enabled or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress as Bar

    # stderr: stdout is for the summaries and --json.
    bar = Bar(*columns, transient=True, console=Console(stderr=True))
    bar.start()
    return bar


class Progress:
    """A progress bar on a terminal, log lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

        self.log = logging.getLogger("embedarc.progress")
        columns = (TextColumn("[bold]archiving"), BarColumn(), MofNCompleteColumn())
        self.bar = terminal_bar(enabled, *columns, TextColumn("{task.description}"))
        if self.bar is not None:
            self.task = self.bar.add_task("", total=0)

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


@contextlib.contextmanager
def open_index(settings: Settings, *, create: bool = False) -> Iterator[Index]:
    """The archive's index for a command that changes it; only `create` makes a new archive."""
    if create:
        Store(settings.archive_dir).ensure()
    else:
        require_archive(settings.archive_dir)
    index = Index(settings.archive_dir / INDEX_NAME)
    try:
        yield index
    finally:
        index.close()


@contextlib.contextmanager
def read_index(settings: Settings) -> Iterator[Index]:
    """The archive's index for a command that only reads it: a read-only archive is fine."""
    require_archive(settings.archive_dir)
    index = Index.for_reading(settings.archive_dir / INDEX_NAME)
    try:
        yield index
    finally:
        index.close()
