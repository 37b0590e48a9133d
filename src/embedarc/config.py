"""One place resolves settings: flags > EMBEDARC_* variables > archive/embedarc.toml > defaults."""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .units import Duration, Size

log = logging.getLogger(__name__)

DEFAULT_ARCHIVE = Path("archive")
CONFIG_NAME = "embedarc.toml"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; built once by `load_settings`."""

    archive_dir: Path = DEFAULT_ARCHIVE
    proxy: str | None = None  # None: the standard *_PROXY variables apply
    ca_bundle: Path | None = None  # None: SSL_CERT_FILE, else the bundled certifi roots
    cookies: Path | None = None  # Netscape cookies.txt: yt-dlp, and a site's session for its API
    # Whether footage sources may ask services run by others than the site (a site's link
    # fixers' APIs) about its posts.
    third_parties: bool = True
    timeout: Duration = 30.0  # seconds without progress before a request is abandoned
    max_hops: int = 10
    max_links: int = 1000  # links kept per article; past it they are counted as skipped
    max_file_size: Size = 2 * 1024**3
    concurrency: int = 8  # requests in flight across the whole run
    per_host: int = 4  # requests in flight to one host
    allow_private: bool = False  # let requests reach loopback and private networks
    allow_hosts: tuple[str, ...] = ()  # host names (and hosts under them) or address ranges
    max_download_time: Duration = 3600.0  # seconds one download may take, however it trickles
    max_article_size: Size = 20 * 1024**2  # bytes of an article (file, stdin or fetched page)
    max_image_pixels: int = 89_478_485  # larger images are decompression bombs (Pillow's default)
    host_delay: Duration = 0.0  # seconds between two requests to one host
    retries: int = 3  # tries again within a run after a transient failure
    retry_pause: Duration = 1.0  # seconds before the first retry within a run; doubles each time
    retry_base: Duration = 60.0  # seconds before the first retry in a later run; doubles each time
    max_attempts: int = 5  # runs that may fail on a link before it is failed_permanently
    wayback: bool = True  # fall back to web archives' captures for dead links and tweets
    # A TimeMap aggregator asked besides the Wayback Machine and archive.today: the URL a
    # link is appended to (e.g. "https://timetravel.mementoweb.org/timemap/link/").
    memento_timemap: str | None = None
    # RFC 3161 time-stamping authorities each article's manifest is sent to (third parties:
    # none by default), and the CA certificates (PEM) their tokens are checked against.
    timestamp_urls: tuple[str, ...] = ()
    timestamp_ca: Path | None = None
    # Who holds the archive: the Source-Organization of the bags `export --bag` writes.
    source_organization: str | None = None
    report: bool = True  # update the archive's HTML pages after `archive` and `run`

    def with_updates(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


Reader = Callable[[Any], Any]


def _reader(hint: Any) -> Reader | type:
    """How a string (env) or TOML value is read for a field of this type.

    `Duration` and `Size` fields carry their parser (units.py); otherwise the type decides:
    `Path | None` -> Path, `tuple[str, ...]` -> tuple, `int` -> int.
    """
    if typing.get_origin(hint) is typing.Annotated:
        return next(meta for meta in hint.__metadata__ if callable(meta))  # type: ignore[no-any-return]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return typing.get_origin(hint) or hint  # type: ignore[no-any-return]


# Setting name -> how to read it from a string (env or toml), derived from Settings itself.
_FIELDS: dict[str, Reader | type] = {
    name: _reader(hint)
    for name, hint in typing.get_type_hints(Settings, include_extras=True).items()
}


# Settings known by another name before: former name -> current name. Whoever gave a setting
# its former name declares it (`rename`), so configuration files and EMBEDARC_ variables
# written for an older release keep their effect.
RENAMED: dict[str, str] = {}


def rename(renamed: Mapping[str, str]) -> None:
    """Read each former setting name (configuration key, EMBEDARC_ variable) as the current."""
    for old, new in renamed.items():
        if new not in _FIELDS or old in _FIELDS:
            raise ValueError(f"cannot read setting {old!r} as {new!r}")
        RENAMED[old] = new


def _current(
    found: dict[str, Any], former: dict[str, Any], origin: str, *, warn: bool = True
) -> dict[str, Any]:
    """Settings given by a former name, unless also given by the current one in one place."""
    for old, value in former.items():
        new = RENAMED[old]
        if warn:
            log.warning("%s: setting %r is now called %r", origin, old, new)
        found.setdefault(new, _convert(new, value, origin))
    return found


def _convert(name: str, value: Any, origin: str) -> Any:
    kind = _FIELDS[name]
    if not isinstance(kind, type):  # a duration or a size: its parser says what is wrong
        try:
            return kind(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{origin}: {name}: {e}") from None
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind is Path:
            return Path(os.path.expanduser(str(value)))
        if kind is tuple:
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            if not all(isinstance(item, str) for item in items):
                raise TypeError(value)
            return tuple(item.strip() for item in items if item.strip())
        if kind is int and isinstance(value, bool):
            raise TypeError(value)
        return kind(value)
    except (TypeError, ValueError):
        what = kind.__name__
        if kind is tuple:
            what = (
                "list of URLs"
                if name == "timestamp_urls"
                else "list of host names or address ranges"
            )
        raise ConfigError(f"{origin}: {name} must be a {what}, not {value!r}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _FIELDS:
        key = f"EMBEDARC_{name.upper()}"
        if key in env and env[key] != "":
            found[name] = _convert(name, env[key], key)
    for old in RENAMED:
        key = f"EMBEDARC_{old.upper()}"
        if env.get(key):
            _current(found, {old: env[key]}, key)
    if env.get("EMBEDARC_ARCHIVE"):
        found["archive_dir"] = _convert("archive_dir", env["EMBEDARC_ARCHIVE"], "EMBEDARC_ARCHIVE")
    return found


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from None
    found: dict[str, Any] = {}
    former: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name in RENAMED:
            former[name] = value
        elif name not in _FIELDS or name == "archive_dir":
            raise ConfigError(f"{path}: unknown setting {key!r}")
        else:
            found[name] = _convert(name, value, str(path))
    return _current(found, former, str(path))


def load_settings(
    flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Merge flags (None means not given) over environment over config file over defaults."""
    env = os.environ if env is None else env
    given = {k: v for k, v in (flags or {}).items() if v is not None and k not in RENAMED}
    given = _current(
        given,
        {k: v for k, v in (flags or {}).items() if v is not None and k in RENAMED},
        "options",
        warn=False,  # the command line warns of its own former options
    )
    from_env = _from_env(env)
    archive_dir = Path(given.get("archive_dir") or from_env.get("archive_dir") or DEFAULT_ARCHIVE)
    merged: dict[str, Any] = {}
    merged.update(_from_file(archive_dir / CONFIG_NAME))
    merged.update(from_env)
    merged.update(given)
    merged["archive_dir"] = archive_dir
    unknown = set(merged) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    settings = Settings(**merged)
    for name in ("timeout", "max_hops", "max_links", "max_file_size", "concurrency", "per_host"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be greater than zero")
    for name in ("host_delay", "retries", "retry_pause", "retry_base"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    for name in ("max_download_time", "max_article_size", "max_image_pixels", "max_attempts"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be greater than zero")
    if settings.memento_timemap is not None and not settings.memento_timemap.startswith(
        ("https://", "http://")
    ):
        raise ConfigError(
            f"memento_timemap must be an http(s) URL prefix, not {settings.memento_timemap!r}"
        )
    for url in settings.timestamp_urls:
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"timestamp_urls: a TSA must be an http(s) URL, not {url!r}")
    from .network.guard import Policy

    Policy.from_settings(settings.allow_private, settings.allow_hosts)  # ConfigError if malformed
    return settings
