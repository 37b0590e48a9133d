"""`list`, `show`, `search`: see what the archive kept."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..config import load_settings
from ..model import Outcome
from ..platforms import PLATFORMS
from .main import cli
from .options import (
    archive_options,
    handle_errors,
    output_options,
    printable,
    read_index,
    say,
    say_json,
    setup_logging,
)


class Moment(click.ParamType):  # type: ignore[type-arg]
    """2024-03-01, 2024-03-01T12:00:00Z, or an age such as 7d."""

    name = "when"

    def __init__(self, *, end: bool = False) -> None:
        self.end = end  # --until 2024-03-01 takes in that whole day

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..errors import UsageError
        from ..upkeep.query import parse_moment

        try:
            return parse_moment(str(value), end=self.end)
        except UsageError as e:
            self.fail(str(e), param, ctx)


def _console() -> Any:
    """Human output on stdout: strangers' text is shown as text (never markup, never a control
    sequence: see `_text`); rich styles it on a terminal and writes it plain elsewhere."""
    from rich.console import Console

    terminal = sys.stdout.isatty()
    return Console(
        file=sys.stdout,
        markup=False,
        highlight=False,
        emoji=False,
        width=None if terminal else 1000,  # a pipe gets whole lines, not wrapped ones
        soft_wrap=not terminal,
    )


def _text(value: object, style: str = "") -> Any:
    from rich.text import Text

    return Text(printable("" if value is None else str(value)), style=style)


def _line(*parts: Any) -> Any:
    from rich.text import Text

    line = Text()
    for part in parts:
        # Anything not already styled is text: a sidecar edited by hand may hold a number or
        # a list where a URL or a name belongs.
        line.append(part if isinstance(part, Text) else _text(part))
    return line


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items())


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _short(article_id: str) -> str:
    return article_id[:8]


# -- list --------------------------------------------------------------------------------------


@cli.command(name="list")
@click.option(
    "--outcome",
    "outcomes",
    multiple=True,
    type=click.Choice([str(o) for o in Outcome]),
    help="Only articles with a link that ended so; repeatable.",
)
@click.option(
    "--site",
    metavar="SITE",
    help="Only articles citing a post on this platform (the site of a post: "
    f"{', '.join(sorted(p.site for p in PLATFORMS))}) or whose URL is on this host (example.org).",
)
@click.option(
    "--since", type=Moment(), help="Only articles first archived since: 2024-03-01, or 7d ago."
)
@click.option(
    "--until",
    type=Moment(end=True),
    help="Only articles first archived before: 2024-03-31 (that day included).",
)
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="0: all.")
@archive_options
@output_options
@handle_errors
def list_command(
    outcomes: tuple[str, ...],
    site: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
    quiet: bool,
    verbose: int,
    **flags: Any,
) -> None:
    """List the archived articles, newest first: when, title, links, files, outcomes.

    \b
    Examples:
      embedarc list
      embedarc list --outcome failed --since 7d
      embedarc list --site example.org --json
    """
    from ..upkeep.query import Filters, list_articles

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    filters = Filters(outcomes=outcomes, site=site, since=since, until=until, limit=limit)
    with read_index(settings) as index:
        rows = list_articles(index, filters)
    if as_json:
        say_json([row.as_dict() for row in rows])
        return
    if quiet:
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, justify in [
        ("archived", "left"),
        ("id", "left"),
        ("title", "left"),
        ("links", "right"),
        ("media", "right"),
        ("outcomes", "left"),
    ]:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            _text((row.archived or "")[:19].replace("T", " ")),
            _text(_short(row.id)),
            _text(row.title or row.canonical_url or row.folder),
            _text(row.links),
            _text(row.media),
            _text(_outcomes(row.outcomes)),
        )
    console = _console()
    if rows:
        console.print(table)
    more = " (the newest; --limit shows more)" if limit and len(rows) == limit else ""
    console.print(_text(f"{_count(len(rows), 'article')}{more}"))


# -- show --------------------------------------------------------------------------------------


@cli.command(name="show")
@click.argument("article", metavar="ARTICLE")
@archive_options
@output_options
@handle_errors
def show_command(article: str, as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Show one article: its folder, every link with its outcome and hops, its posts, and
    every file with its SHA-256, type, size and path.

    ARTICLE is its id, the 8 characters that end its folder name, its folder name, or its
    canonical URL (as `remove` takes it).

    \b
    Examples:
      embedarc show 1a2b3c4d
      embedarc show --json 2022-01-04-us-launches-preemptive-strike-1a2b3c4d
    """
    from ..upkeep.query import show_article

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    with read_index(settings) as index:
        detail = show_article(settings.archive_dir, index, article)
    if as_json:
        say_json(detail)
    elif not quiet:
        _print_article(detail)


def _print_article(detail: dict[str, Any]) -> None:
    console = _console()
    out = console.print
    out(_text(detail["title"] or "(no title)", "bold"))
    for label, key in [
        ("folder", "folder"),
        ("id", "id"),
        ("url", "canonical_url"),
        ("source", "source"),
        ("published", "published"),
        ("archived", "first_archived"),
        ("written", "archived_at"),
        ("original", "original"),
        ("origin page", "origin_page"),
    ]:
        if detail.get(key):
            out(_line(_text(f"  {label:<12}", "dim"), detail[key]))
    links = detail["links"]
    out(_line(_text(f"links ({len(links)})", "bold")))
    for link in links:
        outcome = str(link["outcome"] or "")
        colour = "green" if outcome.startswith("archived") else "red" if "failed" in outcome else ""
        out(_line("  ", _text(outcome, colour), "  ", link["url"] or ""))
        facts = [f"{k}: {link[k]}" for k in ("kind", "found_in", "post") if link.get(k)]
        if facts:
            out(_line("      ", "; ".join(facts)))
        if link.get("reason"):
            out(_line("      reason: ", link["reason"]))
        for n, hop in enumerate(link["hops"]):
            status = "" if hop.get("status") is None else str(hop["status"])
            via = f" ({hop['via']})" if hop.get("via") else ""
            target = f" -> {hop['location']}" if hop.get("location") else ""
            out(_line(f"      hop {n}  {status:>3}  ", f"{hop.get('url') or ''}{target}{via}"))
        if link.get("final_url") and link["final_url"] != link["url"]:
            out(_line("      led to: ", link["final_url"]))
        check = link.get("check")
        if check:
            state = {1: "alive", 0: "dead"}.get(check.get("alive"), "unknown")
            since = f" since {check['first_dead']}" if state == "dead" else ""
            out(_line(f"      original {state}{since} (checked {check.get('last_checked')})"))
        retry = link.get("retry")
        if retry:
            out(
                _line(
                    f"      {retry.get('state')}: {retry.get('attempts')} attempts,"
                    f" next {retry.get('next_attempt')}"
                )
            )
        for sha in link["media"]:
            out(_line("      file ", str(sha)))
    if detail["posts"]:
        out(_line(_text(f"posts ({len(detail['posts'])})", "bold")))
        for post in detail["posts"]:
            who = " ".join(str(post[k]) for k in ("author", "author_name") if post.get(k))
            out(_line("  ", post.get("key") or "", "  ", who, "  ", post.get("created_at") or ""))
            if post.get("url"):
                out(_line("      ", post["url"]))
            for text_line in str(post.get("text") or "").splitlines():
                out(_line("      ", text_line))
    media = detail["media"]
    out(_line(_text(f"media ({len(media)})", "bold")))
    for item in media:
        size = f"{item['size']} bytes" if item.get("size") is not None else ""
        shape = f"{item['width']}x{item['height']}" if item.get("width") else ""
        seconds = f"{item['duration']} s" if item.get("duration") else ""
        about = "  ".join(str(f) for f in (item.get("mime"), size, shape, seconds) if f)
        out(_line("  ", item.get("sha256") or "", "  ", about))
        for key, label in (("path", "stored"), ("article_path", "linked"), ("source_url", "from")):
            if item.get(key):
                out(_line(f"      {label} ", item[key]))
        if item.get("archive"):
            out(_line(f"      from {item['archive']}, captured {item.get('captured_at')}"))


# -- search ------------------------------------------------------------------------------------


@cli.command(name="search")
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--fts",
    "raw",
    is_flag=True,
    help='Read TEXT as an SQLite FTS5 query: AND, OR, NOT, NEAR, "a phrase", prefix*.',
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Articles shown at most; 0 for all.",
)
@archive_options
@output_options
@handle_errors
def search_command(
    text: tuple[str, ...],
    raw: bool,
    limit: int,
    as_json: bool,
    quiet: bool,
    verbose: int,
    **flags: Any,
) -> None:
    """Find articles by the words of their titles, post texts, authors and URLs.

    Every word must appear (in any of them); word* is a prefix. Best matches first, each
    with what matched and the words around it.

    \b
    Examples:
      embedarc search airbase footage
      embedarc search @alice@social.example
      embedarc search --fts 'strike NOT drill' --json
    """
    from ..upkeep.search import END, START, search

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    with read_index(settings) as index:
        result = search(index, " ".join(text), raw=raw, limit=limit)
    if not result.full_text:
        say(
            "note: this index has no search tables (an older release's archive read as it"
            " is, or a rebuild-index that did not finish): words were matched as plain text",
            err=True,
        )
    if as_json:
        say_json([hit.as_dict() for hit in result.hits])
        return
    if quiet:
        return
    console = _console()
    for hit in result.hits:
        matched = ", ".join(hit.matched)
        console.print(
            _line(
                _text(_short(hit.article_id), "bold"), "  ", hit.title or hit.folder, "  "
            ).append(_text(f"({matched})", "dim"))
        )
        snippet = _line("    ")
        for n, piece in enumerate(printable(" ".join(hit.snippet.split())).split(START)):
            if n == 0:
                snippet.append(piece)
                continue
            word, _, rest = piece.partition(END)
            snippet.append(f"{START}{word}{END}", style="bold yellow")
            snippet.append(rest)
        console.print(snippet)
    console.print(_text(_count(len(result.hits), "article")))
