"""Near-duplicate footage: pairs of stored files whose PDQ hashes are close.

The distance of two images is the number of bits in which their PDQ hashes differ (0 to
256; the same picture resized or re-encoded is usually under 20, a crop of a tenth under
~40, unrelated pictures around 128). A video is its sampled frames: two videos (or a video
and an image) are as far apart as the median, over the frames of the one with fewer frames,
of each frame's distance to the nearest frame of the other, so a clip re-encoded, cut
shorter or cropped is near its original. Each comparison is also made with the mirror image,
and the nearer is taken (`mirrored` says so). Frames too flat for PDQ (quality under 50: a
black intro) are left out when a file has better ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..keeping.index import Index

DEFAULT_THRESHOLD = 31  # PDQ's authors suggest 31 for near-duplicate photos
MIN_QUALITY = 50


@dataclass(frozen=True)
class Copy:
    """One stored file and where it came from."""

    sha256: str
    path: str
    mime: str
    frames: int
    cited_by: tuple[dict[str, Any], ...] = field(default=())  # article, folder, link, post

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "path": self.path,
            "mime": self.mime,
            "frames": self.frames,
            "cited_by": list(self.cited_by),
        }


@dataclass(frozen=True)
class Pair:
    distance: int
    mirrored: bool
    a: Copy
    b: Copy

    def as_dict(self) -> dict[str, Any]:
        return {
            "distance": self.distance,
            "mirrored": self.mirrored,
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
        }


def _bits(hexes: list[str]) -> Any:
    import numpy as np

    raw = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8)
    return np.unpackbits(raw.reshape(len(hexes), 32), axis=1).astype(np.float32)


def _distances(a: Any, b: Any) -> Any:
    """Hamming distances between every row of a and every row of b (0/1 matrices)."""
    return a @ (1 - b).T + (1 - a) @ b.T


def _frames(index: Index) -> dict[str, tuple[list[str], list[str]]]:
    """sha256 -> (PDQ hashes, their mirror images), flat frames left out where possible."""
    rows: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    sql = "select sha256, pdq, mirror, quality from perceptual_hashes order by sha256, frame"
    for sha, pdq, mirror, quality in index.db.execute(sql):
        rows[str(sha)].append((str(pdq), str(mirror), int(quality or 0)))
    found = {}
    for sha, frames in rows.items():
        good = [f for f in frames if f[2] >= MIN_QUALITY] or frames
        found[sha] = ([f[0] for f in good], [f[1] for f in good])
    return found


def _citations(index: Index) -> dict[str, list[dict[str, Any]]]:
    sql = (
        "select lm.sha256, a.id, a.folder, a.title, l.url, coalesce(lm.post, l.post)"
        " from link_media lm join links l on l.id = lm.link_id"
        " join articles a on a.id = l.article_id order by a.folder, l.url"
    )
    cited: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sha, article_id, folder, title, url, post in index.db.execute(sql):
        cited[str(sha)].append(
            {"article": article_id, "folder": folder, "title": title, "link": url, "post": post}
        )
    return cited


def find(index: Index, *, threshold: int = DEFAULT_THRESHOLD) -> list[Pair]:
    """Every pair of distinct stored files within `threshold`, nearest first."""
    import numpy as np

    frames = _frames(index)
    if len(frames) < 2:
        return []
    media = {str(r["sha256"]): r for r in index.db.query("select sha256, path, mime from media")}
    cited = _citations(index)
    shas = sorted(frames)
    plain = _bits([h for sha in shas for h in frames[sha][0]])
    mirror = _bits([h for sha in shas for h in frames[sha][1]])
    starts = np.cumsum([0, *(len(frames[sha][0]) for sha in shas)])
    pairs = []
    for i, sha in enumerate(shas):
        mine = plain[starts[i] : starts[i + 1]]
        rest = slice(starts[i + 1], None)
        if starts[i + 1] >= len(plain):
            break
        for flip, others in ((False, plain[rest]), (True, mirror[rest])):
            matrix = _distances(mine, others)  # my frames x the later files' frames
            offsets = starts[i + 1 :] - starts[i + 1]
            for j, start in enumerate(offsets[:-1]):
                block = matrix[:, start : offsets[j + 1]]
                # each frame of the file with fewer frames, to its nearest in the other
                side = block.min(axis=1) if block.shape[0] <= block.shape[1] else block.min(axis=0)
                value = int(np.median(side))
                if value <= threshold:
                    pairs.append((value, flip, sha, shas[i + 1 + j]))
    best: dict[tuple[str, str], tuple[int, bool]] = {}
    for value, flip, a, b in pairs:
        if (a, b) not in best or value < best[(a, b)][0]:
            best[(a, b)] = (value, flip)

    def copy(sha: str) -> Copy:
        row = media.get(sha, {})
        return Copy(
            sha,
            str(row.get("path") or ""),
            str(row.get("mime") or ""),
            len(frames[sha][0]),
            tuple(cited.get(sha, [])),
        )

    found = [Pair(v, flip, copy(a), copy(b)) for (a, b), (v, flip) in best.items()]
    return sorted(found, key=lambda p: (p.distance, p.a.sha256, p.b.sha256))
