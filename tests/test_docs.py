"""The README documents every command and every option."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from embedarc.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every command, subcommands of groups included, by its full name ("sources add")."""
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        found[full] = command
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{full} "))
    return found


ALL = _commands(cli)
COMMANDS = sorted(ALL)


@pytest.mark.parametrize("name", COMMANDS)
def test_readme_documents_command(name: str) -> None:
    top, _, sub = name.partition(" ")
    assert f"### `embedarc {top}" in README
    if sub:
        assert f"embedarc {name}" in README


@pytest.mark.parametrize(
    ("name", "option"),
    [
        (name, opt)
        for name in COMMANDS
        for param in ALL[name].params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ],
)
def test_readme_documents_option(name: str, option: str) -> None:
    assert f"`{option}" in README


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_has_an_example(name: str) -> None:
    assert f"embedarc {name}" in (ALL[name].help or "")


def test_ci_runs_the_readme_test_command() -> None:
    assert "uv run pytest" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.strip().endswith("uv run pytest")
    for check in ("uv run ruff check", "uv run ruff format --check", "uv run mypy"):
        assert check in ci


def test_archive_folder_readme_is_kept() -> None:
    assert (ROOT / "archive" / "README.md").is_file()


def test_readme_documents_every_setting_variable() -> None:
    import dataclasses

    from embedarc.config import Settings

    for field in dataclasses.fields(Settings):
        assert f"`EMBEDARC_{field.name.upper()}`" in README, field.name
