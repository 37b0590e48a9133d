"""What the evidence costs per article: PDQ hashes, C2PA reading, the manifest and its RFC 3161
timestamp, checking a token; and what it adds on disk.

    uv run python -m benchmarks.bench_proof [--repeat 5]

Makes a 2048x1536 JPEG photo (a tweet's `name=orig` size), a 30 s 1280x720 H.264 video and a
C2PA-signed copy of the photo, then times each step over `--repeat` runs and prints the
median. The timestamp is asked of a TSA on loopback that signs with `openssl ts -reply` (a
new process per reply): a real TSA adds its network round trip, typically 0.1-0.5 s.
"""

from __future__ import annotations

import argparse
import http.server
import io
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw, ImageFilter
from tests.simweb.messages import Request
from tests.tsa import LocalTSA

from embedarc.config import Settings
from embedarc.evidence import credentials, perceptual, timestamps
from embedarc.keeping.index import INDEX_NAME, Index
from embedarc.keeping.store import Store
from embedarc.network.net import Net


def photo(path: Path) -> Path:
    rnd = random.Random(1)
    image = Image.new("RGB", (2048, 1536), (90, 90, 90))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y, r = rnd.randint(0, 2048), rnd.randint(0, 1536), rnd.randint(10, 300)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randint(0, 255) for _ in "rgb"))
    image.filter(ImageFilter.GaussianBlur(2)).save(path, "JPEG", quality=90)
    return path


def video(path: Path) -> Path:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i"]
    command += ["testsrc2=size=1280x720:rate=30:duration=30", "-pix_fmt", "yuv420p"]
    command += ["-c:v", "libx264", "-preset", "veryfast", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return path


def signed_photo(source: Path, target: Path) -> Path:
    import c2pa
    from tests.test_credentials import CAPTURE, make_signer

    sign = make_signer()

    manifest = {
        "claim_generator_info": [{"name": "bench", "version": "1"}],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]},
            }
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(sign, "image/jpeg", io.BytesIO(source.read_bytes()), out)
    target.write_bytes(out.getvalue())
    return target


def timed(repeat: int, step: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def serve(tsa: LocalTSA) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = Request("POST", "/", "127.0.0.1", "/", "", {}, body=body)
            answer = tsa.answer(request)
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        jpg = photo(root / "photo.jpg")
        mp4 = video(root / "video.mp4")
        c2pa_jpg = signed_photo(jpg, root / "signed.jpg")
        print(f"photo {jpg.stat().st_size / 1e6:.2f} MB, video {mp4.stat().st_size / 1e6:.2f} MB")
        rows = [
            ("PDQ, photo 2048x1536", lambda: perceptual.image_hash(jpg, max_pixels=10**9)),
            (
                "PDQ, video 30 s 720p (30 frames)",
                lambda: perceptual.video_hashes(mp4, duration=30.0),
            ),
            ("C2PA read, photo without", lambda: credentials.read(jpg, "image/jpeg")),
            ("C2PA read, signed photo", lambda: credentials.read(c2pa_jpg, "image/jpeg")),
            ("C2PA read, video without", lambda: credentials.read(mp4, "video/mp4")),
        ]
        for name, step in rows:
            print(f"{name:40} {timed(args.repeat, step) * 1000:8.1f} ms")
        bench_timestamps(root, args.repeat)
        bench_index_rows(root)


def bench_timestamps(root: Path, repeat: int) -> None:
    tsa = LocalTSA(root / "tsa")
    server = serve(tsa)
    url = f"http://127.0.0.1:{server.server_address[1]}/tsr"
    archive = root / "archive"
    store = Store(archive)
    store.ensure()
    folder = archive / "articles" / "2024-01-01-story-00000000"
    store.write_file(folder / "article.html", b"<p>story</p>" * 5000)
    store.write_file(folder / "article.json", b"{}" * 20000)
    for n in range(5):
        store.write_file(folder / "evidence" / f"{n}.json", b"{}" * 2000)
        store.write_file(folder / "media" / f"{n:064x}.jpg", b"x")
    settings = Settings(archive_dir=archive, allow_private=True)
    with Net(settings) as net:
        manifest = timestamps.manifest(folder)
        print(
            f"{'manifest of a folder of 12 files':40} "
            f"{timed(repeat, lambda: timestamps.manifest(folder)) * 1000:8.1f} ms"
        )
        token = timestamps.request(net, url, manifest)
        stamp_time = timed(repeat, lambda: timestamps.request(net, url, manifest))
        print(f"{'timestamp (loopback TSA, openssl)':40} {stamp_time * 1000:8.1f} ms")
        roots = timestamps.load_roots(tsa.ca_file)
        check_time = timed(repeat, lambda: timestamps.check(token, manifest, roots))
        print(f"{'checking a token (verify)':40} {check_time * 1000:8.1f} ms")
    server.shutdown()
    print(
        f"disk: manifest {len(manifest)} B for 12 files ({len(manifest) // 12} B a file), "
        f"token {len(token)} B per TSA"
    )


def bench_index_rows(root: Path) -> None:
    index = Index(root / INDEX_NAME)

    def size() -> int:
        (pages,) = index.db.execute("pragma page_count").fetchone()
        (page,) = index.db.execute("pragma page_size").fetchone()
        return int(pages) * int(page)

    index.db.execute("pragma wal_checkpoint(TRUNCATE)")
    before = size()
    rnd = random.Random(2)
    with index.write():
        index.db.table("perceptual_hashes").insert_all(
            {
                "sha256": f"{n // 30:064x}",
                "frame": n % 30,
                "time": float(n % 30),
                "pdq": f"{rnd.getrandbits(256):064x}",
                "mirror": f"{rnd.getrandbits(256):064x}",
                "quality": 100,
            }
            for n in range(30_000)
        )
    index.db.execute("pragma wal_checkpoint(TRUNCATE)")
    per_frame = (size() - before) / 30_000
    print(f"index: {per_frame:.0f} B per hashed frame (a photo 1, a video up to 60)")
    index.close()


if __name__ == "__main__":
    main()
