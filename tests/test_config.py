"""Settings: flags over EMBEDARC_* variables over archive/embedarc.toml over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedarc.config import Settings, load_settings
from embedarc.errors import ConfigError


def test_flags_beat_environment_beat_config_file_beat_defaults(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "embedarc.toml").write_text("timeout = 60\nper_host = 2\nthird_parties = false\n")
    env = {"EMBEDARC_ARCHIVE": str(archive), "EMBEDARC_PER_HOST": "3"}

    settings = load_settings({"per_host": None, "max_hops": 4}, env=env)

    assert settings.archive_dir == archive
    assert (settings.timeout, settings.per_host, settings.max_hops) == (60.0, 3, 4)
    assert settings.third_parties is False
    assert settings.retries == Settings().retries


def test_values_are_read_as_their_settings_types(tmp_path: Path) -> None:
    env = {
        "EMBEDARC_ARCHIVE": str(tmp_path),
        "EMBEDARC_CA_BUNDLE": "~/ca.pem",
        "EMBEDARC_ALLOW_HOSTS": "intranet.example, 10.0.0.0/8",
        "EMBEDARC_WAYBACK": "off",
    }
    settings = load_settings({}, env=env)
    assert settings.ca_bundle == Path("~/ca.pem").expanduser()
    assert settings.allow_hosts == ("intranet.example", "10.0.0.0/8")
    assert settings.wayback is False


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("timeout = 'soon'", "timeout: 'soon' is not a duration"),
        ("colour = 'blue'", "unknown setting"),
    ],
)
def test_a_bad_config_file_is_a_config_error(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "embedarc.toml").write_text(toml + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, env={"EMBEDARC_ARCHIVE": str(tmp_path)})
