"""The benchmark suite keeps working: its smoke run (tiny sizes, no latency) end to end.

No figure is asserted on a time: these check that every benchmark still runs the installed
CLI against the simulated web and reports what it counted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from benchmarks.__main__ import main
from benchmarks.harness import run


def test_benchmark_suite_smoke_run_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    assert main(["--smoke", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    bulk, incremental, large = result["bulk"], result["incremental"], result["large"]
    assert bulk["full"]["footage_bytes"] > 0
    assert bulk["full"]["requests"] >= bulk["needed_requests"] > 0
    assert bulk["again"]["requests"] == 0  # the same corpus again asks nothing
    assert bulk["ytdlp"]["files"] > 0  # yt-dlp got footage through the same proxy
    assert incremental["build"]["articles"] == 12
    assert incremental["idle_run_requests"] == 0
    assert incremental["requests_after_status"] == 0
    assert large["archive"]["stored_same_sha256"]  # embedarc stored what curl hashed
    assert large["verify"]["bytes"] == large["megabytes"] * 1024 * 1024
    assert "| verify |" in capsys.readouterr().out


def test_a_program_measured_from_a_large_benchmark_reports_its_own_peak_memory() -> None:
    """The benchmark holds the simulated web and its media; a program it starts must not
    report the benchmark's memory as its own peak (Linux carries the larger of the two across
    exec when a large process starts a small one)."""

    held = bytearray(300 * 1024 * 1024)  # the benchmark's own memory, touched
    for at in range(0, len(held), 4096):
        held[at] = 1
    measured = run([sys.executable, "-S", "-c", "import sys; sys.exit(3)"])

    assert measured.returncode == 3
    assert measured.max_rss_mb < 100, measured.max_rss_mb
    del held
