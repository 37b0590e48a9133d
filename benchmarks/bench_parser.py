"""What reading one hostile page costs: time for deep nesting, peak memory for many links.

    uv run python -m benchmarks.bench_parser [--src DIR] [--limit SECONDS]

Each figure comes from a fresh Python process that imports embedarc from `--src` (default:
this checkout's src/; give another checkout's src/ to compare), reads one page built in memory
with `articles.read_html`, and reports its wall time and peak resident memory above what the
process held before reading. A process still reading after `--limit` seconds is stopped.

- nested: 200,000 nested <div>s (2.2 MB) around a link, then a link after them;
- nested content: 5,000 nested <div class="content">s, each a candidate for the article body;
- links: 10,000 and 100,000 links in one <article> (0.6 and 6.1 MB), read with the default
  --max-links when the code has one. Most of what is left is lexbor's tree (about 72 MB for
  the 6.1 MB page), which grows with the page, not with the links kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_CHILD = r"""
import inspect, json, resource, sys, time
try:
    from embedarc.reading import articles
except ImportError:  # a tree from before the modules moved into packages (--src)
    from embedarc import articles

kind, count = sys.argv[1], int(sys.argv[2])
if kind == "links":
    row = '<p><a href="https://media.example.org/v/{0}">v{0}</a></p>'
    rows = "".join(row.format(n) for n in range(count))
    page = f"<html><body><article>{rows}</article></body></html>"
else:
    attrs = ' class="content"' if kind == "nested-content" else ""
    page = (
        "<html><body>" + f"<div{attrs}>" * count + '<a href="https://t.co/inside01">x</a>'
        + "</div>" * count + '<p><a href="https://t.co/after001">y</a></p></body></html>'
    )
raw = page.encode()
del page
kwargs = {}
if "max_links" in inspect.signature(articles.read_html).parameters:
    from embedarc.config import Settings
    kwargs["max_links"] = Settings().max_links
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
article = articles.read_html(raw, source="bench.html", **kwargs)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "bytes": len(raw), "seconds": elapsed, "peak_mb": (peak - before) / 1024,
    "links": len(article.links), "skipped": getattr(article, "links_skipped", None),
    "module": articles.__file__,
}))
"""

CASES = (("nested", 200_000), ("nested-content", 5_000), ("links", 10_000), ("links", 100_000))


def measure(src: Path, kind: str, count: int, limit: float) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(count)],
            capture_output=True,
            text=True,
            env=env,
            timeout=limit,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", type=Path, default=Path(__file__).parents[1] / "src")
    parser.add_argument("--limit", type=float, default=300.0)
    args = parser.parse_args()
    print(f"embedarc from {args.src.resolve()}")
    for kind, count in CASES:
        result = measure(args.src, kind, count, args.limit)
        if result is None:
            print(f"  {kind:15} {count:>7,}: not finished after {args.limit:.0f} s")
            continue
        print(
            f"  {kind:15} {count:>7,}: {result['bytes'] / 1e6:4.1f} MB page, "
            f"{result['seconds']:6.2f} s, peak +{result['peak_mb']:5.0f} MB, "
            f"{result['links']} links kept, {result['skipped']} skipped"
        )


if __name__ == "__main__":
    main()
