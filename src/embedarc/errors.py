"""Errors the library raises on purpose; the CLI turns each into a message and an exit code."""

from __future__ import annotations


class EmbedarcError(Exception):
    """Base class: anything embedarc reports to a person instead of a traceback."""

    exit_code = 1


class UsageError(EmbedarcError):
    """The command was given something it cannot work with."""

    exit_code = 2


class InputError(UsageError):
    """A local input (file, stdin) cannot be read as an article."""


class ConfigError(UsageError):
    """The configuration file or an EMBEDARC_* variable is invalid."""


class ArchiveError(EmbedarcError):
    """The archive folder cannot be written or is inconsistent."""


class NetworkError(EmbedarcError):
    """No HTTP answer: DNS, connection, proxy, TLS or timeout failure."""


class Cancelled(NetworkError):
    """A request or a download stopped because the run is being interrupted (Ctrl-C).

    A network error to those who only catch those, so a partial download is kept to resume.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; says what was finished and kept, for the message to the user."""

    def __init__(self, *, written: int, partial: int) -> None:
        super().__init__(f"{written} articles written, {partial} partial downloads kept")
        self.written = written  # articles whose folder and index rows were written
        self.partial = partial  # partial downloads in tmp/ that the next run resumes


class Refused(NetworkError):
    """The guard would not let a request go to this address (loopback, private, local name)."""


class BadURL(NetworkError):
    """No request can be made for this URL: malformed, or not http(s) (data:, javascript:).

    Final, unlike other network errors: the same URL fails the same way every time.
    `why` is the reason without the URL, for messages that show the URL already.
    """

    def __init__(self, message: str, *, why: str = "") -> None:
        super().__init__(message)
        self.why = why or message


class FetchFailed(EmbedarcError):
    """A server answered, but not with what was asked for (an HTTP error status)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TooLarge(EmbedarcError):
    """A file is larger than the configured maximum."""


class AnswerTooLarge(NetworkError, TooLarge):
    """An answer read into memory (a page, an API answer) is larger than allowed: a network
    error to those who only catch those, and final to those who ask."""


class ExportError(EmbedarcError):
    """An article cannot be exported as asked: its records are unreadable or were altered,
    or the output cannot be written."""
