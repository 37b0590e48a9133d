"""The benchmark suite keeps working: its smoke run (tiny sizes, no latency) end to end.

No figure is asserted on a time: these check that every benchmark still runs the installed
CLI against the simulated web and reports what it counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.__main__ import main


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
