"""What every benchmark of the suite shares: running a program, measuring it, the lower bound.

The programs measured are the installed ones (the `embedarc` and `yt-dlp` beside this Python),
each run as a person would run it, against the simulated web through its loopback TLS proxy.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def program(name: str) -> str:
    """The installed program `name` of this environment (embedarc, yt-dlp)."""
    found = BIN / name
    if not found.exists():
        raise SystemExit(f"{name} is not installed in this environment ({BIN}): run `uv sync`")
    return str(found)


@dataclass(frozen=True)
class Measured:
    """One run of a program: how long it took, how it ended, the most memory it held."""

    wall: float  # seconds
    cpu: float  # seconds of CPU, user and system, of that process alone
    returncode: int
    max_rss_mb: float
    stdout: str
    stderr: str

    def check(self, what: str) -> Measured:
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-5:])
            raise SystemExit(f"{what} exited {self.returncode}:\n{tail}")
        return self


# Each program is started by this small launcher, which measures it. Started straight from
# the benchmark (which holds the simulated web and its media), a program's peak RSS would be
# at least the benchmark's own: Linux carries the larger of the two across exec. The launcher
# is small, so the program it forks starts small; it writes the program's wall time, CPU time,
# peak RSS and exit code to the file named by its first argument.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as f:
    f.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {status}")
"""


def run(
    command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run a command to its end; wall time from start to exit, the CPU time and peak RSS of
    that process alone (its own children included, once it waited for them)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.time_ns()}"
    report = Path(f"{out_path}.usage")
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), *command],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            check=False,
        )
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    try:
        wall, cpu, max_rss_kib, status = report.read_text().split()
    except (OSError, ValueError):
        raise SystemExit(f"could not measure {command[0]}:\n{stderr[-2000:]}") from None
    for suffix in (".out", ".err", ".usage"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    returncode = os.waitstatus_to_exitcode(int(status))
    # ru_maxrss is in KiB on Linux
    return Measured(float(wall), float(cpu), returncode, int(max_rss_kib) / 1024, stdout, stderr)


def drop_caches() -> bool:
    """Empty the page cache so both readers start cold (root on Linux only)."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def best_of(times: int, command: Sequence[str], **kwargs: Any) -> Measured:
    """The fastest of several runs (start-up times: the noise of a shared machine only adds)."""
    runs = [run(command, **kwargs) for _ in range(times)]
    return min(runs, key=lambda measured: measured.wall)


@dataclass(frozen=True)
class Bound:
    """The least wall time a batch of requests can take at these limits and this latency."""

    seconds: float
    critical_path: float  # the longest chain of requests that wait for each other
    total: float  # every request, `concurrency` at a time
    busiest_host: float  # the most requested host, `per_host` at a time
    host: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "critical_path": round(self.critical_path, 3),
            "total": round(self.total, 3),
            "busiest_host": round(self.busiest_host, 3),
            "host": self.host,
        }


def lower_bound(
    chains: Iterable[Sequence[str]], *, latency: float, concurrency: int, per_host: int
) -> Bound:
    """The lower bound for `chains`: each a sequence of hosts asked one after the other.

    Each request takes at least `latency`; a chain's requests wait for each other; at most
    `concurrency` requests are on the wire at once, at most `per_host` to one host. The bound
    is the largest of the three: no schedule can beat any of them.
    """
    chains = list(chains)
    longest = max((len(chain) for chain in chains), default=0)
    hosts = Counter(host for chain in chains for host in chain)
    requests = sum(hosts.values())
    host, most = hosts.most_common(1)[0] if hosts else ("", 0)
    critical = longest * latency
    total = math.ceil(requests / concurrency) * latency
    busiest = math.ceil(most / per_host) * latency
    return Bound(max(critical, total, busiest), critical, total, busiest, host)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": memory,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def cli_env(web_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """This process's environment with the simulated web's proxy and CA, and `extra`."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("EMBEDARC_", "HTTP", "ALL_PROXY", "NO_PROXY"))
        # Measured as installed: with bytecode caches (an installer writes them), not
        # compiling every module at every start as this variable would make it.
        and name != "PYTHONDONTWRITEBYTECODE"
    }
    return {**keep, **web_env, **extra}
