"""`embedarc report`: the archive as static HTML pages, and the hook `archive` and `run` use."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings, load_settings
from ..errors import EmbedarcError
from ..keeping.store import ARTICLE_VIEW  # the archive's page bears the same name
from .main import cli
from .options import (
    EXIT_OK,
    archive_options,
    handle_errors,
    output_options,
    say,
    say_json,
    setup_logging,
)

if TYPE_CHECKING:
    from ..job.pipeline import Report

log = logging.getLogger(__name__)


def update_after(settings: Settings, reports: Iterable[Report]) -> None:
    """After `archive` or `run`: the pages of the articles written, and the archive's page.

    The footage is kept whatever happens here: a view that cannot be written is a warning.
    """
    if not settings.report:
        return
    written = [r.article_id for r in reports if r.article_id and r.folder]
    if not written and (settings.archive_dir / ARTICLE_VIEW).is_file():
        return  # nothing written (an idle run): the pages stand as they are
    from ..report import update_view

    try:
        update_view(settings.archive_dir, article_ids=written)
    except (EmbedarcError, OSError) as e:
        say(f"warning: the archive's pages were not updated: {e}", err=True)


def forget_in_view(settings: Settings, removed_media: Iterable[str]) -> None:
    """After `remove`: the article leaves the archive's page, its files' thumbnails go."""
    from ..report import forget_media, update_view

    forget_media(settings.archive_dir, [Path(path).name.split(".")[0] for path in removed_media])
    if not settings.report:
        return
    try:
        update_view(settings.archive_dir, article_ids=[])
    except (EmbedarcError, OSError) as e:
        say(f"warning: the archive's page was not updated: {e}", err=True)


@cli.command(name="report")
@archive_options
@output_options
@handle_errors
def report_command(as_json: bool, quiet: bool, verbose: int, **flags: Any) -> None:
    """Write the archive as static HTML: index.html, and one page in each article folder.

    Every page is made again, and every missing thumbnail (thumbs/). The pages need no
    network and no script: open index.html in a browser, from disk or any static host.
    `archive` and `run` update the pages they change themselves (unless --no-report).

    \b
    Examples:
      embedarc report
      embedarc report --archive-dir ~/footage && xdg-open ~/footage/index.html
    """
    from ..report import update_view

    setup_logging(verbose, quiet or as_json)
    settings = load_settings(flags)
    done = update_view(settings.archive_dir)
    if as_json:
        say_json(done.as_dict())
    elif not quiet:
        say(
            f"wrote {done.path} and {done.pages} article pages, {done.thumbnails} new "
            f"thumbnails in {done.seconds:.1f} s"
        )
    sys.exit(EXIT_OK)
