"""Commands import what they need when they need it: `--help` and `status` load no HTTP stack.

Checked by the modules a fresh interpreter holds after the command, not by a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.store import Store

HEAVY = (
    "httpx", "httpcore", "yt_dlp",
    "embedarc.job.pipeline", "embedarc.network.net", "embedarc.job.schedule",
    "numpy",
)  # fmt: skip

RUN = """\
import json, sys
from embedarc.cli import cli
sys.argv = ["embedarc", *json.loads(sys.argv[1])]
try:
    cli()
except SystemExit:
    pass
with open({out!r}, "w") as out:
    json.dump(sorted(sys.modules), out)
"""


def modules_after(args: list[str], tmp_path: Path) -> set[str]:
    """The modules loaded once `embedarc ARGS` has run in a fresh interpreter."""
    out = tmp_path / "modules.json"
    code = RUN.format(out=str(out))
    subprocess.run([sys.executable, "-c", code, json.dumps(args)], check=True, capture_output=True)
    return set(json.loads(out.read_text()))


def test_help_loads_neither_the_network_nor_the_pipeline(tmp_path: Path) -> None:
    loaded = modules_after(["--help"], tmp_path)
    assert "click" in loaded
    assert not loaded & {*HEAVY, "sqlite_utils", "rich", "embedarc.keeping.index"}


def test_status_loads_neither_the_network_nor_the_pipeline(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    Store(root).ensure()
    Index(root / INDEX_NAME).close()
    loaded = modules_after(["status", "--archive-dir", str(root)], tmp_path)
    assert "embedarc.job.status" in loaded  # the command ran
    assert not loaded & set(HEAVY)


def test_reading_commands_load_no_http_stack(tmp_path: Path) -> None:
    """list, show, search and verify read what is kept: the capture record's format included,
    which needs no HTTP stack."""
    root = tmp_path / "archive"
    Store(root).ensure()
    Index(root / INDEX_NAME).close()
    for command in (["list"], ["search", "anything"], ["verify"]):
        loaded = modules_after([*command, "--archive-dir", str(root)], tmp_path)
        assert "embedarc.cli" in loaded
        assert not loaded & set(HEAVY), command
