"""The files pbs.twimg.com and video.twimg.com serve for a tweet's media.

Everything is deterministic from the tweet id and the item's position (keys, names, pixels),
so runs are reproducible and a test can recompute what a correct archive must contain.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import media as gen

_ALNUM = string.ascii_letters + string.digits
_KEY_CHARS = string.ascii_letters + string.digits + "_-"


def rng_for(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))


def seed_for(*parts: object) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16) % 1_000_000


def media_key(*parts: object) -> str:
    """A 15-character pbs.twimg.com media key such as FIa7QmXWQAIx3Zp."""
    rng = rng_for("key", *parts)
    return "F" + "".join(rng.choice(_KEY_CHARS) for _ in range(14))


def short_code(*parts: object, length: int = 10) -> str:
    rng = rng_for("code", *parts)
    return "".join(rng.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True)
class Photo:
    width: int = 800
    height: int = 600


@dataclass(frozen=True)
class Video:
    width: int = 640
    height: int = 360
    seconds: float = 1.0
    hls: bool = True
    hls_audio_group: bool = False  # audio as a separate #EXT-X-MEDIA rendition, as newer masters do


@dataclass(frozen=True)
class Gif:
    width: int = 320
    height: int = 240
    seconds: float = 0.6


@dataclass(frozen=True)
class MediaFile:
    """One file a CDN serves. role: "best" (what an archive must keep), "lesser" (a smaller
    rendition of the same media), "thumbnail", or "hls" (playlists and segments)."""

    url: str
    data: bytes = field(repr=False)
    sha256: str
    kind: str  # "photo" | "video" | "gif"
    width: int
    height: int
    content_type: str
    role: str

    @classmethod
    def of(
        cls, url: str, data: bytes, kind: str, width: int, height: int, content_type: str, role: str
    ) -> MediaFile:
        return cls(
            url, data, hashlib.sha256(data).hexdigest(), kind, width, height, content_type, role
        )


# name= renditions of pbs.twimg.com/media: (box, JPEG quality, square crop). orig is the upload.
PHOTO_RENDITIONS: dict[str, tuple[int, int, bool]] = {
    "large": (2048, 85, False),
    "medium": (1200, 80, False),
    "small": (680, 75, False),
    "thumb": (150, 70, True),
}


@dataclass
class BuiltMedia:
    """One media item of a tweet with everything the CDNs serve for it."""

    kind: str  # "photo" | "video" | "gif"
    index: int  # 1-based position in the tweet
    media_id: str
    media_key: str
    width: int
    height: int
    thumb_url: str  # media_url_https
    best: MediaFile
    files: list[MediaFile]  # every file served for this item, best included
    variants: list[dict[str, object]] = field(default_factory=list)  # video_info.variants
    duration_ms: int | None = None
    renditions: dict[str, bytes] = field(default_factory=dict)  # photos: name= -> bytes

    @property
    def api_type(self) -> str:
        return "animated_gif" if self.kind == "gif" else self.kind

    @property
    def media_key_id(self) -> str:  # GraphQL "media_key": type prefix + media id
        return {"photo": "3_", "video": "7_", "gif": "16_"}[self.kind] + self.media_id


def _even(n: int) -> int:
    return max(2, n - n % 2)


def build_photo(
    tweet_id: str, index: int, spec: Photo, media_id: str, cache: Path | None
) -> BuiltMedia:
    key = media_key(tweet_id, index)
    orig = gen.make_jpeg(spec.width, spec.height, seed_for(tweet_id, index), cache_dir=cache)
    base = f"https://pbs.twimg.com/media/{key}.jpg"
    renditions = {"orig": orig}
    files = [
        MediaFile.of(
            f"{base}?name=orig", orig, "photo", spec.width, spec.height, "image/jpeg", "best"
        )
    ]
    for name, (box, quality, crop) in PHOTO_RENDITIONS.items():
        data = gen.resize_jpeg(orig, box, box, quality, crop=crop)
        renditions[name] = data
        w, h = gen.jpeg_size(data)
        files.append(
            MediaFile.of(f"{base}?name={name}", data, "photo", w, h, "image/jpeg", "lesser")
        )
    return BuiltMedia(
        "photo",
        index,
        media_id,
        key,
        spec.width,
        spec.height,
        base,
        files[0],
        files,
        renditions=renditions,
    )


def _bitrate(width: int, height: int) -> int:
    return int(width * height * 3.6) // 1000 * 1000  # 640x360 -> 829000, near Twitter's 832000


def build_video(
    tweet_id: str, index: int, spec: Video, media_id: str, cache: Path | None
) -> BuiltMedia:
    seed, rng = seed_for(tweet_id, index), rng_for("video", tweet_id, index)

    def name() -> str:
        return "".join(rng.choice(_KEY_CHARS) for _ in range(16))

    root = f"https://video.twimg.com/ext_tw_video/{media_id}/pu"
    thumb_url = f"https://pbs.twimg.com/ext_tw_video_thumb/{media_id}/pu/img/{name()}.jpg"
    thumb = gen.make_jpeg(spec.width, spec.height, seed, cache_dir=cache)
    files = [
        MediaFile.of(thumb_url, thumb, "video", spec.width, spec.height, "image/jpeg", "thumbnail")
    ]
    sizes = [(spec.width, spec.height), (_even(spec.width // 2), _even(spec.height // 2))]
    variants: list[dict[str, object]] = []
    progressive: list[MediaFile] = []
    for w, h in sorted(sizes, key=lambda s: s[0] * s[1]):  # ascending, as the APIs list them
        data = gen.make_mp4(w, h, spec.seconds, seed, cache_dir=cache)
        url = f"{root}/vid/avc1/{w}x{h}/{name()}.mp4?tag=12"
        role = "best" if (w, h) == sizes[0] else "lesser"
        progressive.append(MediaFile.of(url, data, "video", w, h, "video/mp4", role))
        variants.append({"bitrate": _bitrate(w, h), "content_type": "video/mp4", "url": url})
    if spec.hls:
        master_url, hls_files = _build_hls(root, spec, seed, sizes, name, cache)
        variants.insert(0, {"content_type": "application/x-mpegURL", "url": master_url})
        files += hls_files
    best = next(f for f in progressive if f.role == "best")
    return BuiltMedia(
        "video",
        index,
        media_id,
        thumb_url.rsplit("/", 1)[1][:-4],
        spec.width,
        spec.height,
        thumb_url,
        best,
        [*progressive, *files],
        variants,
        int(spec.seconds * 1000),
    )


def _segment_name(stem: str, start_ms: int) -> str:
    """Each segment gets its own random-looking 16-character name, as on video.twimg.com."""
    return short_code(stem, start_ms, length=16)


def _video_segment_path(prefix: str, size: str, stem: str, start_ms: int, end_ms: int) -> str:
    return f"{prefix}/{start_ms}/{end_ms}/{size}/{_segment_name(stem, start_ms)}.ts"


def _media_playlist(
    stream: gen.HlsStream, segment_url: Callable[[int, int], str]
) -> tuple[str, list[tuple[str, bytes]]]:
    """Rewrite ffmpeg's playlist to CDN segment paths; fix its rounded-down target duration."""
    lines, segments, start, duration = [], [], 0.0, 0.0
    longest = 1.0
    for line in stream.playlist.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
            longest = max(longest, duration)
        if line and not line.startswith("#"):
            path = segment_url(int(start * 1000), int((start + duration) * 1000))
            segments.append((f"https://video.twimg.com{path}", stream.segments[line]))
            start += duration
            line = path
        lines.append(line)
    text = "\n".join(lines) + "\n"
    text = re.sub(
        r"#EXT-X-TARGETDURATION:\d+", f"#EXT-X-TARGETDURATION:{int(-(-longest // 1))}", text
    )
    return text, segments


def _build_hls(
    root: str,
    spec: Video,
    seed: int,
    sizes: list[tuple[int, int]],
    name: Callable[[], str],
    cache: Path | None,
) -> tuple[str, list[MediaFile]]:
    """Master -> variant playlists -> .ts segments, in video.twimg.com's path layout."""
    path_root = root.removeprefix("https://video.twimg.com")
    files: list[MediaFile] = []
    master = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    audio_attr = ""
    if spec.hls_audio_group:
        stream = gen.make_hls(0, 0, spec.seconds, seed, content="audio", cache_dir=cache)
        seg_name = name()
        text, segments = _media_playlist(
            stream,
            lambda a, b: f"{path_root}/vid/mp4a/{a}/{b}/128000/{_segment_name(seg_name, a)}.ts",
        )
        pl_path = f"{path_root}/pl/mp4a/128000/{name()}.m3u8"
        master.append(
            f'#EXT-X-MEDIA:NAME="Audio",TYPE=AUDIO,GROUP-ID="audio-128000",'
            f'AUTOSELECT=YES,URI="{pl_path}"'
        )
        audio_attr = ',AUDIO="audio-128000"'
        files.append(
            MediaFile.of(
                f"https://video.twimg.com{pl_path}",
                text.encode(),
                "video",
                0,
                0,
                "application/x-mpegURL",
                "hls",
            )
        )
        files += [MediaFile.of(u, d, "video", 0, 0, "video/MP2T", "hls") for u, d in segments]
    for w, h in sorted(sizes, key=lambda s: s[0] * s[1]):
        content = "video" if spec.hls_audio_group else "muxed"
        stream = gen.make_hls(w, h, spec.seconds, seed, content=content, cache_dir=cache)
        seg_name = name()
        text, segments = _media_playlist(
            stream,
            functools.partial(_video_segment_path, f"{path_root}/vid/avc1", f"{w}x{h}", seg_name),
        )
        pl_path = f"{path_root}/pl/avc1/{w}x{h}/{name()}.m3u8"
        bandwidth = _bitrate(w, h) + (0 if spec.hls_audio_group else 32000)
        master.append(
            f"#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH={bandwidth},BANDWIDTH={bandwidth},"
            f'RESOLUTION={w}x{h},CODECS="mp4a.40.2,avc1.640015"{audio_attr}'
        )
        master.append(pl_path)
        files.append(
            MediaFile.of(
                f"https://video.twimg.com{pl_path}",
                text.encode(),
                "video",
                w,
                h,
                "application/x-mpegURL",
                "hls",
            )
        )
        files += [MediaFile.of(u, d, "video", w, h, "video/MP2T", "hls") for u, d in segments]
    master_url = f"{root}/pl/master.m3u8?tag=12"
    files.insert(
        0,
        MediaFile.of(
            master_url,
            ("\n".join(master) + "\n").encode(),
            "video",
            0,
            0,
            "application/x-mpegURL",
            "hls",
        ),
    )
    return master_url, files


def build_gif(
    tweet_id: str, index: int, spec: Gif, media_id: str, cache: Path | None
) -> BuiltMedia:
    key = media_key(tweet_id, index)
    seed = seed_for(tweet_id, index)
    data = gen.make_mp4(spec.width, spec.height, spec.seconds, seed, audio=False, cache_dir=cache)
    url = f"https://video.twimg.com/tweet_video/{key}.mp4"
    best = MediaFile.of(url, data, "gif", spec.width, spec.height, "video/mp4", "best")
    thumb_url = f"https://pbs.twimg.com/tweet_video_thumb/{key}.jpg"
    thumb = gen.make_jpeg(spec.width, spec.height, seed, cache_dir=cache)
    files = [
        best,
        MediaFile.of(thumb_url, thumb, "gif", spec.width, spec.height, "image/jpeg", "thumbnail"),
    ]
    variants: list[dict[str, object]] = [{"bitrate": 0, "content_type": "video/mp4", "url": url}]
    return BuiltMedia(
        "gif", index, media_id, key, spec.width, spec.height, thumb_url, best, files, variants
    )
