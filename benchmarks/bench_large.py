"""A large file, and verify: memory and throughput against the plain tools on the same bytes.

    uv run python -m benchmarks.bench_large [--megabytes 2048]

One file of `--megabytes` is served by the simulated web (no added latency: this measures
bandwidth). `embedarc archive` downloads it (peak RSS, throughput), beside `curl | sha256sum`
fetching the same URL through the same proxy, and `curl -o FILE && sync FILE` (embedarc too
stores the file and syncs it before it counts as stored: this one shows what the disk allows).
Then `embedarc verify` hashes the archive beside `openssl dgst -sha256` over the same file (the
page cache is dropped first where allowed).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import tempfile
from pathlib import Path
from typing import Any

from tests.simweb import SimWeb

from .harness import cli_env, drop_caches, program, run

URL = "https://video.example-cdn.org/footage/large.mp4"
BLOCK = 1024 * 1024


def write_file(path: Path, size: int) -> None:
    """`size` bytes that no compression or deduplication can shortcut, quickly."""
    block = bytearray(os.urandom(BLOCK))
    with path.open("wb") as out:
        written, counter = 0, 0
        while written < size:
            block[:8] = counter.to_bytes(8, "big")  # every block differs
            n = min(BLOCK, size - written)
            out.write(block[:n])
            written += n
            counter += 1


def bench(folder: Path, *, megabytes: int) -> dict[str, Any]:
    size = megabytes * 1024 * 1024
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "large.mp4"
    write_file(source, size)
    archive = folder / "archive"
    article = folder / "article.txt"
    article.write_text(f"A long video\n\nThe whole recording: {URL}\n", encoding="utf-8")
    with SimWeb(media_dir=folder / "simweb-media") as web:
        web.large_file(URL, source, "video/mp4")
        env = cli_env(web.env())
        command = [program("embedarc"), "archive", "--quiet", "--archive-dir", str(archive)]
        command += ["--max-file-size", f"{megabytes * 2}M", str(article)]
        fetched = run(command, env=env).check("archive of the large file")
        curl = f"curl -sS --fail --proxy {shlex.quote(web.proxy_url)} "
        curl += f"--cacert {shlex.quote(str(web.ca_file))} {shlex.quote(URL)} | sha256sum"
        reference = run(["bash", "-o", "pipefail", "-c", curl], env=env).check("curl")
        # embedarc writes the file and syncs it before it counts as stored; so does this one
        saved = folder / "curl.out"
        to_disk = curl.replace(" | sha256sum", f" -o {shlex.quote(str(saved))}")
        to_disk += f" && sync {shlex.quote(str(saved))}"
        written = run(["bash", "-c", to_disk], env=env).check("curl -o")
        saved.unlink()
    stored = [p for p in (archive / "media").rglob("*") if p.is_file()]
    digest = reference.stdout.split()[0]
    same = [p for p in stored if p.name.startswith(digest)]
    cold = drop_caches()
    verified = run([program("embedarc"), "verify", "--archive-dir", str(archive)], env=env)
    verified.check("verify")
    drop_caches()
    openssl = run(["openssl", "dgst", "-sha256", *map(str, stored)]).check("openssl")
    total = sum(p.stat().st_size for p in stored)
    mb = size / 1e6
    return {
        "megabytes": megabytes,
        "archive": {
            "wall_s": round(fetched.wall, 3),
            "cpu_s": round(fetched.cpu, 3),
            "mb_per_s": round(mb / fetched.wall, 1),
            "max_rss_mb": round(fetched.max_rss_mb, 1),
            "stored_same_sha256": bool(same),
        },
        "curl_sha256sum": {
            "wall_s": round(reference.wall, 3),
            "mb_per_s": round(mb / reference.wall, 1),
        },
        "throughput_ratio": round(reference.wall / fetched.wall, 3),
        "curl_to_disk": {
            "wall_s": round(written.wall, 3),
            "mb_per_s": round(mb / written.wall, 1),
        },
        "ratio_to_curl_to_disk": round(written.wall / fetched.wall, 3),
        "verify": {
            "cold_cache": cold,
            "bytes": total,
            "embedarc_s": round(verified.wall, 3),
            "embedarc_mb_per_s": round(total / 1e6 / verified.wall, 1),
            "embedarc_max_rss_mb": round(verified.max_rss_mb, 1),
            "openssl_s": round(openssl.wall, 3),
            "openssl_mb_per_s": round(total / 1e6 / openssl.wall, 1),
            "ratio": round(openssl.wall / verified.wall, 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(bench(Path(tmp), megabytes=args.megabytes), indent=1))


if __name__ == "__main__":
    main()
