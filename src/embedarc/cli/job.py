"""The scheduled job: `sources`, `run`, `status`, `check`, `doctor`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import load_settings
from .archive import print_reports, save_to_wayback
from .main import cli
from .options import (
    EXIT_FAILED,
    EXIT_OK,
    Duration,
    Progress,
    archive_options,
    connection_options,
    handle_errors,
    network_options,
    open_index,
    output_options,
    read_index,
    report_option,
    retry_options,
    say,
    say_json,
    service_options,
    setup_logging,
    wayback_save_option,
)
from .report import update_after

if TYPE_CHECKING:  # the pipeline and the network are imported by the commands that use them
    from ..job import schedule


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
    from ..job import sources

    settings = load_settings({"archive_dir": archive_dir})
    with open_index(settings, create=True) as index:
        source = sources.add(index, location)
    say(f"added {source.kind} #{source.id}: {source.shown}")


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
    from ..job import sources

    settings = load_settings({"archive_dir": archive_dir})
    with read_index(settings) as index:
        found = sources.all_sources(index)
    if as_json:
        say_json([s.as_dict() for s in found])
        return
    for s in found:
        state = (
            f"last polled {s.last_polled} ({s.last_status})" if s.last_polled else "never polled"
        )
        error = f" error: {s.last_error}" if s.last_error else ""
        say(f"#{s.id} {s.kind:6} {s.shown}  {state}{error}")


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
    from ..job import sources

    settings = load_settings({"archive_dir": archive_dir})
    with open_index(settings) as index:
        source = sources.remove(index, location)
    say(f"removed {source.kind} #{source.id}: {source.shown}")


@cli.command(name="run")
@archive_options
@network_options
@retry_options
@output_options
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also try links and source items that failed permanently, afresh.",
)
@click.option("--loop", is_flag=True, help="Keep running, one run every --every.")
@click.option(
    "--every",
    type=Duration(positive=True),
    default="15m",
    show_default=True,
    help="Time between runs with --loop.",
)
@click.option("--runs", type=click.IntRange(min=1), help="With --loop: stop after this many runs.")
@wayback_save_option
@report_option
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
    from ..job import schedule

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    keys = schedule.wayback_keys() if wayback_save else None
    failed = False

    def show(report: schedule.RunReport) -> None:
        nonlocal failed
        failed = failed or report.failed
        if report.busy_pid is not None:
            if as_json:
                say_json(report.as_dict())
            elif not quiet:
                say(f"another run is in progress (pid {report.busy_pid}); nothing to do", err=True)
            return
        if as_json:
            say_json(report.as_dict())
        else:
            for error in report.source_errors:
                say(f"source error: {error}", err=True)
            print_reports(list(report.reports), as_json=False, quiet=quiet)
            if not quiet:
                say(
                    f"run: {report.polled} sources polled, {report.new_items} new items, "
                    f"{len(report.reports)} articles archived or retried"
                )
        update_after(settings, report.reports)
        save_to_wayback(settings, list(report.reports), keys)

    if loop:  # until --runs, or Ctrl-C (exit status 130)
        schedule.run_loop(
            settings, every=every, runs=runs, on_report=show, retry_failed=retry_failed
        )
    else:
        progress = Progress(not quiet and not as_json)
        try:
            report = schedule.run_once(settings, retry_failed=retry_failed, progress=progress)
        finally:
            progress.stop()
        show(report)
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

    Exits 1 when something needs attention (a link or a source item failed permanently, a
    link newly dead on the web, a source whose last poll failed), so monitoring can alert on it.

    \b
    Example:
      embedarc status --json
    """
    from datetime import timedelta

    from ..job.status import status

    settings = load_settings({"archive_dir": archive_dir})
    with read_index(settings) as index:
        found = status(index, since=timedelta(seconds=since))
    if as_json:
        say_json(found.as_dict())
    else:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(found.links.items())) or "none"
        say(f"{found.articles} articles, links: {outcomes}")
        say(f"{found.media_files} media files, {found.media_bytes / 1e6:.1f} MB")
        say(
            f"retries: {found.retry_due} due now, {found.retry_later} later"
            + (f" (next {found.next_retry})" if found.next_retry else "")
        )
        last = found.last_check or "never"
        say(f"gone from the web since archived: {found.dead} (last check {last})")
        for row in found.newly_dead:
            say(f"  newly dead: {row['url']} (first seen dead {row['first_dead']})")
        for row in found.failed_permanently:
            say(f"  failed permanently: {row['url']}: {row['last_reason']}")
        if found.items:
            states = ", ".join(f"{n} {name}" for name, n in sorted(found.items.items()))
            say(f"source items: {states}")
            say(
                f"item retries: {found.items_retry_due} due now, {found.items_retry_later} later"
                + (f" (next {found.items_next_retry})" if found.items_next_retry else "")
            )
        for row in found.items_failed_permanently:
            say(
                f"  item failed permanently: {row['target']} (from {row['source']}):"
                f" {row['last_error']}"
            )
        if found.timestamps:
            states = ", ".join(f"{n} {name}" for name, n in sorted(found.timestamps.items()))
            waiting = found.timestamps.get("failed", 0) + found.timestamps.get("pending", 0)
            again = " (asked again by the next run or `embedarc timestamp`)" if waiting else ""
            say(f"timestamps: {states}{again}")
        for s in found.sources:
            failed = f"; last poll FAILED: {s['last_error']}" if s["last_error"] else ""
            say(
                f"source #{s['id']} {s['location']}: last polled {s['last_polled'] or 'never'}"
                + failed
            )
    sys.exit(EXIT_FAILED if found.needs_attention else EXIT_OK)


@cli.command(name="check")
@archive_options
@connection_options
@output_options
@handle_errors
def check_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Re-test archived links: record which originals have since died (link rot).

    Cheap: one request per short link, one lookup per post, a HEAD per media URL.
    Exit status 1 when a link is newly dead, or when some could not be checked (no network,
    a server error): the reasons are listed on stderr.

    \b
    Example:
      embedarc check && embedarc status
    """
    from ..job.linkrot import check

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    with open_index(settings) as index:
        report = check(index, settings)
    if as_json:
        say_json(report.as_dict())
    elif not quiet:
        say(
            f"checked {report.checked} links: {report.alive} alive, {report.dead} dead, "
            f"{report.unknown} unknown"
        )
        for url in report.newly_dead:
            say(f"  newly dead: {url}")
    if report.unknown and not as_json:
        shown = report.unknown_reasons[:5]
        more = len(report.unknown_reasons) - len(shown)
        say(f"could not check {report.unknown} links:", err=True)
        for reason in shown:
            say(f"  {reason}", err=True)
        if more:
            say(f"  ... and {more} more", err=True)
    sys.exit(EXIT_FAILED if report.newly_dead or report.unknown else EXIT_OK)


@cli.command(name="doctor")
@archive_options
@service_options
@click.option("--json", "as_json", is_flag=True, help="A JSON array of findings on stdout.")
@handle_errors
def doctor_command(as_json: bool, **flags: Any) -> None:
    """Is this machine ready: proxy, CA, archive folder, ffmpeg, yt-dlp, each service reachable.

    \b
    Example:
      embedarc doctor
    """
    from ..job.doctor import diagnose

    findings = diagnose(load_settings(flags))
    if as_json:
        say_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            say(f"{'ok  ' if f.ok else 'FAIL'} {f.name}: {f.detail}")
    sys.exit(EXIT_OK if all(f.ok for f in findings) else EXIT_FAILED)
