"""How each outcome looks: its words and its colour class, one place for both pages."""

from __future__ import annotations

from ..model import Outcome

LABELS = {
    Outcome.ARCHIVED: "archived",
    Outcome.ARCHIVED_FROM_WAYBACK: "archived from the Wayback Machine",
    Outcome.ARCHIVED_FROM_WEB_ARCHIVE: "archived from a web archive",
    Outcome.GONE: "gone",
    Outcome.LOGIN_REQUIRED: "login required",
    Outcome.NO_MEDIA: "no media",
    Outcome.REFUSED: "refused",
    Outcome.TOO_LARGE: "too large",
    Outcome.FAILED: "failed for now",
    Outcome.FAILED_PERMANENTLY: "failed permanently",
}
# The colour says what to do about it: nothing (kept), nothing possible (lost), a look (failed).
TONES = {
    Outcome.ARCHIVED: "kept",
    Outcome.ARCHIVED_FROM_WAYBACK: "kept",
    Outcome.ARCHIVED_FROM_WEB_ARCHIVE: "kept",
    Outcome.GONE: "lost",
    Outcome.LOGIN_REQUIRED: "locked",
    Outcome.NO_MEDIA: "none",
    Outcome.REFUSED: "none",
    Outcome.TOO_LARGE: "locked",
    Outcome.FAILED: "failed",
    Outcome.FAILED_PERMANENTLY: "broken",
}
ORDER = [str(o) for o in LABELS]


def label(outcome: object) -> str:
    try:
        return LABELS[Outcome(str(outcome))]
    except ValueError:
        return str(outcome)


def tone(outcome: object) -> str:
    try:
        return TONES[Outcome(str(outcome))]
    except ValueError:
        return "none"
