"""The size and duration of an MP4/MOV file from its header, read in-process.

Running ffmpeg to measure a video costs tens of milliseconds of CPU per file, about half of a
bulk run's; the header says the same in a few reads. Only the boxes on the way are read (their
8 or 16 byte headers, then mvhd, tkhd, hdlr and the first sample entry, each a few hundred
bytes at most): the media data is skipped by seeking, whatever its size.

The file is hostile input: every box must lie inside its parent, a box smaller than its own
header ends the reading, the depth and the number of boxes looked at are capped, and nothing is
ever read whole. Whatever does not parse is None, for the caller to measure another way.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Boxes whose children lead to the ones read; every other box is skipped.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
MAX_BOXES = 4096  # a real header has a few dozen on the way
MAX_DEPTH = 6  # moov/trak/mdia/minf/stbl/stsd
_READ = 256  # the most read of one box's payload


@dataclass(frozen=True)
class Header:
    """What the header says; None where it says nothing (or nothing sensible)."""

    width: int | None
    height: int | None
    duration: float | None


@dataclass
class _Track:
    handler: bytes = b""
    width: int | None = None  # from the sample entry: the coded size, as ffmpeg reports it
    height: int | None = None
    tkhd_width: int | None = None  # the presentation size, when no sample entry says
    tkhd_height: int | None = None


class _Malformed(Exception):
    pass


class _Reader:
    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size
        self.boxes = 0
        self.duration: float | None = None
        self.tracks: list[_Track] = []

    def read_at(self, offset: int, count: int) -> bytes:
        self.stream.seek(offset)
        return self.stream.read(count)

    def walk(self, start: int, end: int, depth: int, track: _Track | None) -> None:
        """Each box from `start` to `end`; containers on the way are walked in turn."""
        offset = start
        while offset + 8 <= end:
            self.boxes += 1
            if self.boxes > MAX_BOXES or depth > MAX_DEPTH:
                raise _Malformed("too many boxes")
            head = self.read_at(offset, 16)
            if len(head) < 8:
                raise _Malformed("cut off")
            size, kind = struct.unpack(">I4s", head[:8])
            header = 8
            if size == 1:  # a 64-bit size follows
                if len(head) < 16:
                    raise _Malformed("cut off")
                size = struct.unpack(">Q", head[8:16])[0]
                header = 16
            elif size == 0:  # to the end of the enclosing space
                size = end - offset
            if size < header or offset + size > end:
                raise _Malformed(f"box {kind!r} does not fit")
            body, body_end = offset + header, offset + size
            if kind == b"trak":
                track = _Track()
                self.tracks.append(track)
                self.walk(body, body_end, depth + 1, track)
                track = None
            elif kind in _CONTAINERS:
                self.walk(body, body_end, depth + 1, track)
            else:
                self.leaf(kind, self.read_at(body, min(_READ, size - header)), track)
            offset = body_end

    def leaf(self, kind: bytes, data: bytes, track: _Track | None) -> None:
        if kind == b"mvhd":
            self.duration = _movie_duration(data)
        elif track is None:
            return
        elif kind == b"tkhd":
            track.tkhd_width, track.tkhd_height = _track_size(data)
        elif kind == b"hdlr" and len(data) >= 12 and not track.handler:
            # the media's handler comes first; a QuickTime file's data handler (minf) follows
            track.handler = data[8:12]
        elif kind == b"stsd":
            track.width, track.height = _sample_entry_size(data)


def _movie_duration(data: bytes) -> float | None:
    if not data:
        return None
    if data[0] == 1 and len(data) >= 32:  # version 1: 64-bit times
        timescale, duration = struct.unpack(">IQ", data[20:32])
    elif data[0] == 0 and len(data) >= 20:
        timescale, duration = struct.unpack(">II", data[12:20])
    else:
        return None
    # all ones: "unknown"; 0: fragmented, the fragments carry the time
    if not timescale or not duration or duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return float(duration / timescale)


def _track_size(data: bytes) -> tuple[int | None, int | None]:
    at = 88 if data[:1] == b"\x01" else 76  # width, height: 16.16 fixed point at the end
    if len(data) < at + 8:
        return None, None
    width, height = struct.unpack(">II", data[at : at + 8])
    return _dimension(width >> 16), _dimension(height >> 16)


def _sample_entry_size(data: bytes) -> tuple[int | None, int | None]:
    # full box (4), entry count (4), then the first entry: size, format, 6 reserved, data
    # reference index (2), 16 bytes of predefined and reserved, then width and height (16 bits)
    if len(data) < 8 + 8 + 28:
        return None, None
    width, height = struct.unpack(">HH", data[8 + 8 + 24 : 8 + 8 + 28])
    return _dimension(width), _dimension(height)


def _dimension(value: int) -> int | None:
    return value if 0 < value <= 65535 else None


def _read(stream: BinaryIO, size: int) -> Header | None:
    reader = _Reader(stream, size)
    try:
        reader.walk(0, size, 0, None)
    except _Malformed:
        return None
    if reader.boxes == 0:
        return None
    width = height = None
    for track in reader.tracks:
        if track.handler == b"vide":
            width = track.width or track.tkhd_width
            height = track.height or track.tkhd_height
            break
    return Header(width, height, reader.duration)


def read_header(path: Path) -> Header | None:
    """The header of the MP4/MOV file at `path`, or None when it is not one that parses."""
    try:
        with path.open("rb") as stream:
            if stream.read(8)[4:8] not in (b"ftyp", b"moov", b"free", b"mdat", b"wide", b"skip"):
                return None
            size = path.stat().st_size
            return _read(stream, size)
    except OSError:
        return None
