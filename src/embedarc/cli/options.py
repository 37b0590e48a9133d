"""What many commands share: option decorators, parameter types, logging, progress, errors."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .. import platforms
from ..config import Settings
from ..errors import EmbedarcError, Interrupted
from ..units import parse_duration, parse_size

if TYPE_CHECKING:  # imported where used: `--help` and `status` start faster without them
    from ..keeping.index import Index

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells and schedulers expect after Ctrl-C


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    """500M, 2G, 1048576: read by units.parse_size, as the config file and variables are."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            size = parse_size(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if size <= 0:
            self.fail("the size must be greater than zero", param, ctx)
        return size


class Duration(click.ParamType):  # type: ignore[type-arg]
    """90, 90s, 15m, 2h, 1d: read by units.parse_duration, as the config file and variables are."""

    name = "duration"

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive  # zero is meaningless here (a timeout, a loop's period)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = parse_duration(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if self.positive and seconds <= 0:
            self.fail("the duration must be greater than zero", param, ctx)
        return seconds


# What a terminal acts on: C0 controls but the tab, DEL and the C1 controls (0x9b is an 8-bit
# CSI). Titles, URLs, file names and reasons come from strangers: shown escaped, never obeyed.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0))
}
# json.dumps escapes C0 itself, but leaves DEL and C1 raw when it may write non-ASCII.
_JSON_CONTROLS = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """One line of output with every control character escaped (`\\x1b`)."""
    return text.translate(_CONTROLS)


def say(text: object = "", *, err: bool = False) -> None:
    """Print one line, its control characters escaped."""
    click.echo(printable(str(text)), err=err)


def say_json(value: object) -> None:
    """Print one JSON document on one line, DEL and C1 controls escaped too."""
    click.echo(json.dumps(value, ensure_ascii=False).translate(_JSON_CONTROLS))


class _Printable(logging.Filter):
    """Log records with their control characters escaped, whatever the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = printable(record.getMessage()), None
        return True


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
        "-q",
        "--quiet",
        is_flag=True,
        callback=_with_group,
        help="No progress and no summary; errors only.",
    )(f)
    f = click.option(
        "-v",
        "--verbose",
        count=True,
        callback=_with_group,
        help="Debug detail: each request and hop, yt-dlp's messages.",
    )(f)
    return f


def _with_group(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """`embedarc -v archive ...` means what `embedarc archive -v ...` means."""
    root = ctx.find_root()
    given = root.params.get(param.name or "") if root is not ctx else None
    if isinstance(value, int) and not isinstance(value, bool):  # -v counts
        return value + (given or 0)
    return bool(value or given)


def _apply(f: F, options: list[Callable[[Any], Any]]) -> F:
    for option in reversed(options):
        f = option(f)
    return f


# Each command lists only the options it uses: the ones `Net` reads are the transport's,
# the ones the collectors read are footage options, and so on.
_PROXY = click.option(
    "--proxy", metavar="URL", help="Proxy for every request [default: $HTTPS_PROXY etc.]."
)
_CA_BUNDLE = click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust these CA certificates (PEM) [default: $SSL_CERT_FILE, else certifi].",
)
_TIMEOUT = click.option(
    "--timeout",
    type=Duration(positive=True),
    help="How long a request may stall, e.g. 30s or 2m [30s].",
)


def _renamed(now: str, ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        say(f"Warning: {param.opts[0]} is deprecated, use {now}", err=True)
    return value


_NO_THIRD_PARTIES = [
    click.option(
        "--no-third-parties",
        "third_parties",
        flag_value=False,
        default=None,
        help="Never ask services run by others than a site (its link fixers' APIs) about "
        "its posts.",
    ),
    # The options of settings renamed since, still obeyed (hidden, with a warning): given
    # under their former name, which load_settings reads as the current one.
    *(
        click.option(
            f"--no-{old.replace('_', '-')}",
            old,
            flag_value=False,
            default=None,
            hidden=True,
            callback=functools.partial(_renamed, "--no-third-parties"),
        )
        for old, new in platforms.renamed_settings().items()
        if new == "third_parties"
    ),
]


def service_options(f: F) -> F:
    """What `doctor` needs to reach the services: the proxy, the CA, the timeout."""
    return _apply(f, [_PROXY, _CA_BUNDLE, _TIMEOUT, *_NO_THIRD_PARTIES])


def connection_options(f: F) -> F:
    """Everything `Net` reads: how requests leave, where they may go, how many at once."""
    options = [
        _PROXY,
        _CA_BUNDLE,
        _TIMEOUT,
        click.option(
            "--concurrency", type=click.IntRange(min=1), help="Requests in flight in all [8]."
        ),
        click.option(
            "--per-host", type=click.IntRange(min=1), help="Requests in flight per host [4]."
        ),
        click.option(
            "--host-delay",
            type=Duration(),
            help="Pause between two requests to one host, e.g. 1s [0].",
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
    ]
    return _apply(f, options)


def footage_options(f: F) -> F:
    """What finding and downloading footage reads: sources asked, limits on what is kept."""
    options = [
        click.option(
            "--cookies",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Netscape cookies.txt for yt-dlp and the sites that honour it (protected posts).",
        ),
        *_NO_THIRD_PARTIES,
        click.option(
            "--no-wayback",
            "wayback",
            flag_value=False,
            default=None,
            help="Never ask web archives (Wayback Machine, archive.today, a TimeMap "
            "aggregator) for captures of dead links and deleted posts.",
        ),
        click.option(
            "--memento-timemap",
            metavar="URL-PREFIX",
            help="Also ask this Memento TimeMap aggregator: URL-PREFIX + a link gives its "
            "TimeMap (application/link-format).",
        ),
        click.option(
            "--max-hops", type=click.IntRange(min=1), help="Redirects followed per link [10]."
        ),
        click.option(
            "--max-links",
            type=click.IntRange(min=1),
            help="Links followed per article; the rest are recorded as skipped [1000].",
        ),
        click.option("--max-file-size", type=ByteSize(), help="Largest file kept, e.g. 500M [2G]."),
        click.option(
            "--max-download-time",
            type=Duration(positive=True),
            help="Longest one download may take, however slowly it arrives, e.g. 1h [1h].",
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
    return _apply(f, options)


TIMESTAMP_CA = click.option(
    "--timestamp-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificates (PEM) the TSAs' tokens are checked against [certifi's roots].",
)


def timestamp_options(f: F) -> F:
    """Which time-stamping authorities stamp each article (third parties: none by default)."""
    options = [
        click.option(
            "--timestamp",
            "timestamp_urls",
            multiple=True,
            metavar="TSA-URL",
            callback=lambda _ctx, _param, value: tuple(value) or None,
            help="Have this RFC 3161 time-stamping authority stamp each article's manifest; "
            "repeatable [none].",
        ),
        TIMESTAMP_CA,
    ]
    return _apply(f, options)


def network_options(f: F) -> F:
    """`archive` and `run`: every connection and footage option, and the timestamps."""
    return connection_options(footage_options(timestamp_options(f)))


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
    ]
    return _apply(f, options)


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, show_time=False)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.addFilter(_Printable())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("embedarc").setLevel(level)


def handle_errors(f: F) -> F:
    """Turn library errors into a message and a documented exit status, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except EmbedarcError as e:
            say(f"Error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt as e:
            stop_interrupted(e)

    return wrapper  # type: ignore[return-value]


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def stop_interrupted(interrupt: KeyboardInterrupt) -> NoReturn:
    """Ctrl-C: say what was kept, exit 130 at once (instead of click's "Aborted!" and 1)."""
    if isinstance(interrupt, Interrupted):
        kept = (
            f"{_count(interrupt.partial, 'partial download')} kept in tmp/ for the next run"
            if interrupt.partial
            else "no partial download to keep"
        )
        say(f"interrupted: {_count(interrupt.written, 'article')} written, {kept}", err=True)
    else:
        say("interrupted", err=True)
    stuck = [
        t
        for t in threading.enumerate()
        if t.is_alive() and not t.daemon and t is not threading.current_thread()
    ]
    if stuck:
        # A worker blocked in a read would hold the exit until its timeout. Leaving without
        # it is safe: the index is written only by this thread, the files of articles not
        # written were taken out again, and a read in progress fills only a partial file
        # the next run hashes again and resumes.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)


def wayback_save_option(f: F) -> F:
    return click.option(
        "--wayback-save",
        is_flag=True,
        help="Ask the Wayback Machine to capture each newly archived article "
        "(keys in $EMBEDARC_IA_ACCESS and $EMBEDARC_IA_SECRET).",
    )(f)


def report_option(f: F) -> F:
    """`--no-report`: leave the archive's HTML pages as they are (`embedarc report` later)."""
    return click.option(
        "--no-report",
        "report",
        flag_value=False,
        default=None,
        help="Do not update the archive's HTML pages (index.html) afterwards.",
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
        self.bar = terminal_bar(enabled, *columns, TextColumn("{task.description}", markup=False))
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
    from ..keeping.index import INDEX_NAME, Index
    from ..keeping.store import Store, require_archive

    if create:
        Store(settings.archive_dir).ensure()
    else:
        require_archive(settings.archive_dir)
    with Index(settings.archive_dir / INDEX_NAME) as index:
        yield index


@contextlib.contextmanager
def read_index(settings: Settings) -> Iterator[Index]:
    """The archive's index for a command that only reads it: a read-only archive is fine."""
    from ..keeping.index import INDEX_NAME, Index
    from ..keeping.store import require_archive

    require_archive(settings.archive_dir)
    with Index.for_reading(settings.archive_dir / INDEX_NAME) as index:
        yield index
