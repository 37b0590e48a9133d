"""Run the simulated web by hand.

python -m tests.simweb                 serve the example world until Ctrl-C
python -m tests.simweb CMD ARGS...     run CMD inside the example world, then summarise
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections import Counter

from . import wayback
from .scenarios import example
from .web import SimWeb

DESCRIPTION = """\
Start the simulated web (a loopback proxy answering as t.co, ift.tt, Twitter/X, its CDNs,
fxtwitter and the example article would) loaded with the world of
examples/zerohedge-syria-strike.txt. Nothing leaves this machine.

Without COMMAND: print the environment variables that route a client through the proxy
and make it trust the test CA, then serve until Ctrl-C.
With COMMAND: run it with that environment, print a summary of the requests it made, and
exit with its status."""


def _summary(web: SimWeb, limit: int) -> str:
    requests = web.requests
    lines = [f"{len(requests)} requests served"]
    for host, count in sorted(Counter(r.host for r in requests).items()):
        lines.append(f"  {count:4d}  {host}")
    for r in requests[:limit]:
        lines.append(f"  {r.status:3d} {r.method:4s} {r.url}")
    if len(requests) > limit:
        lines.append(f"  ... {len(requests) - limit} more")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simweb",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--show",
        type=int,
        default=60,
        metavar="N",
        help="list at most N requests in the summary (default 60)",
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="command to run inside the simulated web"
    )
    args = parser.parse_args(argv)

    with SimWeb() as web:
        world = example(web)
        wayback.install(web)  # an empty Wayback Machine: it has captured nothing yet
        if args.command:
            result = subprocess.run(args.command, env={**os.environ, **web.env()}, check=False)
            print(_summary(web, args.show), file=sys.stderr)
            return result.returncode
        for name, value in web.env().items():
            print(f"export {name}={shlex.quote(value)}")
        print(f"# Simulated web on {web.proxy_url}; the example article is {world['article_url']}")
        print("# In another shell, run the export lines above, then:")
        print("#   embedarc archive examples/zerohedge-syria-strike.txt")
        print("# Ctrl-C here stops the web and prints the requests it served.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            # a second Ctrl-C (some launchers forward the signal twice) must not break shutdown
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("\n" + _summary(web, args.show), file=sys.stderr)
        return 0


if __name__ == "__main__":
    sys.exit(main())
