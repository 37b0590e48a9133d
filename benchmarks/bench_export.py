"""What `export --warc` costs: time and peak memory, for many small articles and one large file.

    uv run python -m benchmarks.bench_export [--articles 30] [--megabytes 200] [--repeat 3]

Two archives are made through the simulated web (no added latency): `--articles` articles as
`bench_evidence` makes them (a gzip-encoded page, a tweet photo, a redirected MP4: about eight
exchanges each), and one article whose only footage is a file of `--megabytes` that no
compression can shrink. Each is exported by the installed `embedarc export --warc --all`, as a
person runs it: wall and CPU time (medians of `--repeat` runs), peak RSS of that process. Beside
the large file, `gzip -9` over the same file: the export compresses every byte at that level,
so it bounds what the export can do; and `embedarc export` of a one-page article, for the
memory any export takes whatever it holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.simweb import SimWeb

from embedarc.config import Settings
from embedarc.job.pipeline import archive

from .bench_evidence import batch
from .bench_large import write_file
from .harness import cli_env, program, run

URL = "https://video.example-cdn.org/footage/large.mp4"


def exported(archive_dir: Path, out: Path, repeat: int) -> dict[str, Any]:
    """Median wall and CPU time of `repeat` exports, and their largest peak RSS."""
    command = [program("embedarc"), "export"]
    command += ["--archive-dir", str(archive_dir), "--warc", "--all", "-o", str(out)]
    runs = [run(command, env=cli_env({})).check("export") for _ in range(repeat)]
    return {
        "wall_s": round(statistics.median(r.wall for r in runs), 3),
        "cpu_s": round(statistics.median(r.cpu for r in runs), 3),
        "max_rss_mb": round(max(r.max_rss_mb for r in runs), 1),
        "warc_bytes": out.stat().st_size,
    }


def build(folder: Path, *, articles: int, megabytes: int) -> dict[str, Path]:
    """The archives exported: many articles, one large file, one small article."""
    source = folder / "large.mp4"
    write_file(source, megabytes * 1024 * 1024)
    made = {name: folder / name for name in ("many", "large", "one_small")}
    story = folder / "story.txt"
    story.write_text(f"A long video\n\nThe whole recording: {URL}\n", encoding="utf-8")
    with SimWeb(media_dir=folder / "simweb-media") as web:
        os.environ.update(web.env())
        inputs = batch(web, articles, 40, folder / "mp4")
        web.large_file(URL, source, "video/mp4")
        archive(inputs=inputs, settings=Settings(archive_dir=made["many"]))
        archive(inputs=inputs[:1], settings=Settings(archive_dir=made["one_small"]))
        command = [program("embedarc"), "archive", "--quiet", "--archive-dir", str(made["large"])]
        command += ["--max-file-size", f"{megabytes * 2}M", str(story)]
        run(command, env=cli_env(web.env())).check("archive of the large file")
    return made


def bench(folder: Path, *, articles: int, megabytes: int, repeat: int) -> dict[str, Any]:
    made = build(folder, articles=articles, megabytes=megabytes)
    results: dict[str, Any] = {"articles": articles, "megabytes": megabytes}
    for name, archive_dir in made.items():
        results[name] = exported(archive_dir, folder / f"{name}.warc.gz", repeat)
    source = shlex.quote(str(folder / "large.mp4"))
    gzip9 = run(["bash", "-c", f"gzip -9 -c {source} > /dev/null"]).check("gzip")
    results["gzip_9_large_s"] = round(gzip9.wall, 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="export runs of each; medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found = bench(
            Path(tmp), articles=args.articles, megabytes=args.megabytes, repeat=args.repeat
        )
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
