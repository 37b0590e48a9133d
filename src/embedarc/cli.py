"""The command line: parse, build settings, make one library call, print."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from . import __version__, articles, schedule, sources
from .config import Settings, load_settings
from .errors import EmbedarcError, InputError
from .index import INDEX_NAME, Index
from .pipeline import Input, Report, archive
from .store import Store

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
            help="Never look for Wayback Machine captures of dead links.",
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


def _inputs(sources: tuple[str, ...], max_size: int) -> list[Input]:
    found: list[Input] = []
    for source in sources:
        if source == "-":
            raw = sys.stdin.buffer.read(max_size + 1)
            found.append(Input("-", article=articles.read_stdin(raw, max_size=max_size)))
        elif source.lower().startswith(("http://", "https://")):
            found.append(Input(source, url=source))
        else:
            article = articles.read_path(Path(source), max_size=max_size)
            found.append(Input(source, article=article))
    return found


def wayback_save_option(f: F) -> F:
    return click.option(
        "--wayback-save",
        is_flag=True,
        help="Ask the Wayback Machine to capture each newly archived article "
        "(keys in $EMBEDARC_IA_ACCESS and $EMBEDARC_IA_SECRET).",
    )(f)


def _save_to_wayback(
    settings: Settings, reports: list[Report], keys: tuple[str, str] | None
) -> None:
    if keys is None:
        return
    for result in schedule.submit_to_wayback(settings, reports, keys):
        if result.status not in ("success", "pending"):
            click.echo(
                f"Wayback Machine: {result.status} for {result.url}: {result.message}", err=True
            )


@cli.command(name="archive")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@archive_options
@network_options
@retry_options
@output_options
@wayback_save_option
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
    keys = schedule.wayback_keys() if wayback_save else None
    inputs = _inputs(sources, settings.max_article_size)
    progress = _Progress(enabled=not quiet and not as_json)
    try:
        reports = archive(inputs=inputs, settings=settings, progress=progress)
    finally:
        progress.stop()
    _print_reports(reports, as_json=as_json, quiet=quiet)
    _save_to_wayback(settings, reports, keys)
    sys.exit(EXIT_FAILED if any(r.failed for r in reports) else EXIT_OK)


@cli.command(name="verify")
@archive_options
@output_options
@handle_errors
def verify_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Check that the archive's files, sidecars and index still agree.

    Every file in media/ is hashed again (one whose SHA-256 is not its name is altered),
    each article folder is checked against its article.json, and the index against both.
    Problems are listed as missing, altered or unindexed (nothing refers to it).

    Exit status: 0 when the archive is sound, 1 otherwise.

    \b
    Examples:
      embedarc verify
      embedarc verify --json --archive-dir ~/footage
    """
    from .verify import verify

    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    bar: Any = None
    if not quiet and not as_json and sys.stderr.isatty():
        from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

        bar = Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
        task = bar.add_task("verifying", total=None)
        bar.start()

    def on_progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(task, completed=done, total=total)

    try:
        report = verify(settings.archive_dir, on_progress=on_progress)
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for kind in ("missing", "altered", "unindexed"):
            for problem in getattr(report, kind):
                click.echo(f"{kind}: {problem.path}: {problem.reason}", err=not quiet)
        if not quiet:
            click.echo(report.summary())
    sys.exit(EXIT_OK if report.sound else EXIT_FAILED)


@cli.command(name="rebuild-index")
@archive_options
@output_options
@handle_errors
def rebuild_index_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Rebuild the index's article, link, media and tweet tables from the sidecars.

    Tables that do not come from sidecars (sources, retries, ...) are kept. A sidecar that
    cannot be read is reported and skipped.

    Exit status: 0 when every sidecar was indexed, 1 when one was skipped.

    \b
    Example:
      embedarc rebuild-index --archive-dir ~/footage
    """
    from .maintenance import rebuild_index

    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    skipped: list[tuple[Path, str]] = []
    count = rebuild_index(
        settings.archive_dir, on_skipped=lambda path, why: skipped.append((path, why))
    )
    if as_json:
        gaps = [{"path": str(path), "reason": why} for path, why in skipped]
        click.echo(json.dumps({"articles": count, "skipped": gaps}, ensure_ascii=False))
    else:
        for path, why in skipped:
            click.echo(f"skipped {path}: {why}", err=True)
        if not quiet:
            click.echo(f"indexed {count} articles, skipped {len(skipped)}")
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
    from .maintenance import remove_article

    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    removal = remove_article(settings.archive_dir, article, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(removal.as_dict(), ensure_ascii=False))
    elif not quiet:
        verb = "would remove" if dry_run else "removed"
        click.echo(f"{verb} {removal.folder} ({removal.title!r})")
        for path in removal.removed_media:
            click.echo(f"{verb} {path}")
        for path in removal.kept_media:
            click.echo(f"kept {path} (another article refers to it)")


def _print_reports(reports: list[Report], *, as_json: bool, quiet: bool) -> None:
    for report in reports:
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        elif report.error:
            click.echo(report.summary(), err=True)
        elif not quiet:
            click.echo(report.summary())


@cli.group(name="sources")
def sources_group() -> None:
    """The feeds, folders and URL lists `embedarc run` polls.

    \b
    Examples:
      embedarc sources add https://feeds.example.com/world.xml
      embedarc sources add ~/inbox/
      embedarc sources add links.txt
      embedarc sources list --json
      embedarc sources remove https://feeds.example.com/world.xml
    """


@sources_group.command(name="add")
@click.argument("location")
@archive_options
@handle_errors
def sources_add(location: str, archive_dir: Path | None) -> None:
    """Add an RSS/Atom feed URL, a folder of article files, or a file of article URLs.

    \b
    Example:
      embedarc sources add https://feeds.example.com/world.xml
    """
    settings = load_settings({"archive_dir": archive_dir})
    with _open_index(settings) as index:
        source = sources.add(index, location)
    click.echo(f"added {source.kind} #{source.id}: {source.location}")


@sources_group.command(name="list")
@archive_options
@click.option("--json", "as_json", is_flag=True, help="A JSON array on stdout.")
@handle_errors
def sources_list(archive_dir: Path | None, as_json: bool) -> None:
    """List the sources with when each was last polled.

    \b
    Example:
      embedarc sources list
    """
    settings = load_settings({"archive_dir": archive_dir})
    with _open_index(settings) as index:
        found = sources.all_sources(index)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in found], ensure_ascii=False))
        return
    for s in found:
        state = (
            f"last polled {s.last_polled} ({s.last_status})" if s.last_polled else "never polled"
        )
        error = f" error: {s.last_error}" if s.last_error else ""
        click.echo(f"#{s.id} {s.kind:6} {s.location}  {state}{error}")


@sources_group.command(name="remove")
@click.argument("location")
@archive_options
@handle_errors
def sources_remove(location: str, archive_dir: Path | None) -> None:
    """Stop polling a source (by location or #id); what it brought stays archived.

    \b
    Example:
      embedarc sources remove links.txt
    """
    settings = load_settings({"archive_dir": archive_dir})
    with _open_index(settings) as index:
        source = sources.remove(index, location)
    click.echo(f"removed {source.kind} #{source.id}: {source.location}")


@contextlib.contextmanager
def _open_index(settings: Settings) -> Iterator[Index]:
    Store(settings.archive_dir).ensure()
    index = Index(settings.archive_dir / INDEX_NAME)
    try:
        yield index
    finally:
        index.close()


@cli.command(name="run")
@archive_options
@network_options
@retry_options
@output_options
@click.option(
    "--retry-failed", is_flag=True, help="Also try links that failed permanently, afresh."
)
@click.option("--loop", is_flag=True, help="Keep running, one run every --every.")
@click.option(
    "--every",
    type=Duration(),
    default="15m",
    show_default=True,
    help="Time between runs with --loop.",
)
@click.option("--runs", type=click.IntRange(min=1), help="With --loop: stop after this many runs.")
@wayback_save_option
@handle_errors
def run_command(
    as_json: bool, quiet: bool, verbose: int, retry_failed: bool, loop: bool, every: float,
    runs: int | None, wayback_save: bool, **flags: Any,
) -> None:  # fmt: skip
    """Poll every source once, archive new articles, retry what is due, exit.

    Safe to schedule: one run at a time per archive (a second one exits 0 at once),
    quiet with --quiet unless something needs attention. Exit status as for `archive`.

    \b
    Examples:
      embedarc run
      embedarc run --quiet                 # from cron or a systemd timer
      embedarc run --loop --every 15m      # without cron
      embedarc run --retry-failed
    """
    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    keys = schedule.wayback_keys() if wayback_save else None
    failed = False

    def show(report: schedule.RunReport) -> None:
        nonlocal failed
        failed = failed or report.failed
        if report.busy_pid is not None:
            if not quiet:
                click.echo(
                    f"another run is in progress (pid {report.busy_pid}); nothing to do", err=True
                )
            return
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            for error in report.source_errors:
                click.echo(f"source error: {error}", err=True)
            _print_reports(list(report.reports), as_json=False, quiet=quiet)
            if not quiet:
                click.echo(
                    f"run: {report.polled} sources polled, {report.new_items} new items, "
                    f"{len(report.reports)} articles archived or retried"
                )
        _save_to_wayback(settings, list(report.reports), keys)

    if loop:
        with contextlib.suppress(KeyboardInterrupt):
            schedule.run_loop(
                settings, every=every, runs=runs, on_report=show, retry_failed=retry_failed
            )
    else:
        show(
            schedule.run_once(
                settings, retry_failed=retry_failed, progress=_Progress(not quiet and not as_json)
            )
        )
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


@cli.command(name="status")
@archive_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option(
    "--since",
    type=Duration(),
    default="1d",
    show_default=True,
    help="How recent a death counts as new.",
)
@handle_errors
def status_command(archive_dir: Path | None, as_json: bool, since: float) -> None:
    """What is archived, pending, failed and gone; when each source was last polled.

    Exits 1 when links need attention (failed permanently, or newly dead on the web), so
    monitoring can alert on it.

    \b
    Example:
      embedarc status --json
    """
    from datetime import timedelta

    from .status import status

    settings = load_settings({"archive_dir": archive_dir})
    with _open_index(settings) as index:
        found = status(index, since=timedelta(seconds=since))
    if as_json:
        click.echo(json.dumps(found.as_dict(), ensure_ascii=False))
    else:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(found.links.items())) or "none"
        click.echo(f"{found.articles} articles, links: {outcomes}")
        click.echo(f"{found.media_files} media files, {found.media_bytes / 1e6:.1f} MB")
        click.echo(
            f"retries: {found.retry_due} due now, {found.retry_later} later"
            + (f" (next {found.next_retry})" if found.next_retry else "")
        )
        last = found.last_check or "never"
        click.echo(f"gone from the web since archived: {found.dead} (last check {last})")
        for row in found.newly_dead:
            click.echo(f"  newly dead: {row['url']} (first seen dead {row['first_dead']})")
        for row in found.failed_permanently:
            click.echo(f"  failed permanently: {row['url']}: {row['last_reason']}")
        for s in found.sources:
            click.echo(
                f"source #{s['id']} {s['location']}: last polled {s['last_polled'] or 'never'}"
            )
    sys.exit(EXIT_FAILED if found.needs_attention else EXIT_OK)


@cli.command(name="check")
@archive_options
@network_options
@output_options
@handle_errors
def check_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Re-test archived links: record which originals have since died (link rot).

    Cheap: one request per short link, one tweet lookup per tweet, a HEAD per media URL.

    \b
    Example:
      embedarc check && embedarc status
    """
    from .linkrot import check

    _setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    with _open_index(settings) as index:
        report = check(index, settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    elif not quiet:
        click.echo(
            f"checked {report.checked} links: {report.alive} alive, {report.dead} dead, "
            f"{report.unknown} unknown"
        )
        for url in report.newly_dead:
            click.echo(f"  newly dead: {url}")
    sys.exit(EXIT_FAILED if report.newly_dead else EXIT_OK)


@cli.command(name="doctor")
@archive_options
@network_options
@click.option("--json", "as_json", is_flag=True, help="A JSON array of findings on stdout.")
@handle_errors
def doctor_command(as_json: bool, **flags: Any) -> None:
    """Is this machine ready: proxy, CA, archive folder, ffmpeg, yt-dlp, each service reachable.

    \b
    Example:
      embedarc doctor
    """
    from .doctor import diagnose

    findings = diagnose(load_settings(flags))
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False))
    else:
        for f in findings:
            click.echo(f"{'ok  ' if f.ok else 'FAIL'} {f.name}: {f.detail}")
    sys.exit(EXIT_OK if all(f.ok for f in findings) else EXIT_FAILED)


def main() -> None:  # pragma: no cover - console entry point alias
    cli()


__all__ = ["InputError", "cli"]
