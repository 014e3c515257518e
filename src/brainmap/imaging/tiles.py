"""Direct reads of JPEG-compressed pyramid pages, decoded with libjpeg-turbo (simplejpeg).

The libvips bundled with pyvips-binary decodes a pyramid's JPEG tiles about 2-3x slower than
libjpeg-turbo's SIMD decoder (benchmarks/render.py: decoding was ~5 of 7 ms of a 1000 x 750
response). For the pyramids brainmap writes itself (``PyramidKind.RGB8``: tiled TIFF, JPEG,
YCbCr, 8-bit RGB, tables in ``JPEGTables``), `JpegTiles` reads each needed tile's bytes with
``pread``, splices them behind the shared tables into a complete JPEG stream and decodes it
with simplejpeg (the GIL is released while decoding). Identical pixels to libvips' read (same
IJG integer IDCT and upsampling). Any other layout (`JpegTiles.open` answers None) is left to
libvips.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import simplejpeg

_JPEG = 7
_YCBCR = 6
_TAG_FORMATS = {3: "H", 4: "I", 16: "Q"}
_TAG_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1, 16: 8}


@dataclass(frozen=True)
class _Page:
    width: int
    height: int
    tile_width: int
    tile_height: int
    offsets: np.ndarray
    counts: np.ndarray
    tables: bytes
    """The shared tables without their EOI marker: a tile's stream follows after its SOI."""

    @property
    def across(self) -> int:
        return -(-self.width // self.tile_width)


class TileCache:
    """Decoded tiles, least recently used first out, at most `capacity` bytes in all (shared
    by every pyramid of a process; render threads use it under a lock). Like iipsrv's tile
    cache: a popular view (a whole section at a coarse level) is decoded once, not per request.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self._tiles: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> np.ndarray | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: tuple[object, ...], tile: np.ndarray) -> None:
        with self._lock:
            if key in self._tiles or tile.nbytes > self.capacity:
                return
            self._tiles[key] = tile
            self.size += tile.nbytes
            while self.size > self.capacity:
                self.size -= self._tiles.popitem(last=False)[1].nbytes


TILE_CACHE = TileCache(64 * 1024 * 1024)
"""Decoded tiles kept per server process (64 MiB: ~340 tiles of 256 x 256 RGB)."""


class JpegTiles:
    """The pages of one JPEG-tiled TIFF, read and decoded tile by tile."""

    def __init__(self, fd: int, pages: list[_Page], identity: tuple[object, ...] = ()) -> None:
        self.pages = pages
        self._fd = fd
        self._identity = identity

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    @classmethod
    def open(cls, path: Path) -> JpegTiles | None:
        """The tile index of `path`, or None when its layout is not the one handled here."""
        try:
            fd = os.open(path, os.O_RDONLY)
            stat = os.fstat(fd)
        except OSError:
            return None
        try:
            pages = _read_pages(fd)
        except (OSError, struct.error, ValueError, KeyError, IndexError, OverflowError):
            pages = None
        if pages is None:
            os.close(fd)
            return None
        return cls(fd, pages, (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))

    def tile(self, page: int, index: int) -> np.ndarray:
        """Tile `index` (row-major) of `page`, decoded (from `TILE_CACHE` when held)."""
        key = (*self._identity, page, index)
        tile = TILE_CACHE.get(key) if self._identity else None
        if tile is None:
            level = self.pages[page]
            data = os.pread(self._fd, int(level.counts[index]), int(level.offsets[index]))
            tile = simplejpeg.decode_jpeg(level.tables + data[2:], colorspace="RGB")
            tile.flags.writeable = False
            if self._identity:
                TILE_CACHE.put(key, tile)
        return tile

    def region(self, page: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        """RGB pixels (height x width x 3, uint8) of `page` from (left, top), inside the page."""
        level = self.pages[page]
        out = np.empty((height, width, 3), dtype=np.uint8)
        tw, th = level.tile_width, level.tile_height
        for row in range(top // th, (top + height - 1) // th + 1):
            for column in range(left // tw, (left + width - 1) // tw + 1):
                tile = self.tile(page, row * level.across + column)
                x0, y0 = column * tw, row * th
                sx, sy = max(left - x0, 0), max(top - y0, 0)
                ex = min(left + width - x0, tw)
                ey = min(top + height - y0, th)
                out[y0 + sy - top : y0 + ey - top, x0 + sx - left : x0 + ex - left] = tile[
                    sy:ey, sx:ex
                ]
        return out


_Tags = dict[int, tuple[int, int, bytes]]


def _values(tags: _Tags, tag: int) -> np.ndarray:
    kind, n, field = tags[tag]
    return np.frombuffer(field, dtype="<" + _TAG_FORMATS[kind], count=n)


def _scalar(tags: _Tags, tag: int, default: int = -1) -> int:
    return int(_values(tags, tag)[0]) if tag in tags else default


def _read_pages(fd: int) -> list[_Page] | None:
    """Parse the IFD chain of a BigTIFF whose every page is JPEG-tiled 8-bit YCbCr RGB."""

    def read(offset: int, size: int) -> bytes:
        data = os.pread(fd, size, offset)
        if len(data) != size:
            raise ValueError("truncated TIFF")
        return data

    if read(0, 4) != b"II+\x00":
        return None
    offset = struct.unpack("<Q", read(8, 8))[0]
    pages: list[_Page] = []
    while offset:
        count = struct.unpack("<Q", read(offset, 8))[0]
        if count > 1000:
            return None
        block = read(offset + 8, 20 * count + 8)
        tags: _Tags = {}
        for i in range(count):
            tag, kind, n = struct.unpack_from("<HHQ", block, 20 * i)
            size = _TAG_SIZES.get(kind, 8) * n
            field = block[20 * i + 12 : 20 * i + 20]
            if size > 8:
                field = read(struct.unpack("<Q", field)[0], size)
            tags[tag] = (kind, n, field)
        offset = struct.unpack_from("<Q", block, 20 * count)[0]

        if (
            _scalar(tags, 259) != _JPEG
            or _scalar(tags, 262) != _YCBCR
            or _scalar(tags, 277) != 3
            or _scalar(tags, 284, 1) != 1
            or _scalar(tags, 274, 1) != 1
            or any(int(bits) != 8 for bits in _values(tags, 258))
            or 322 not in tags
            or 347 not in tags
        ):
            return None
        tables = tags[347][2][: tags[347][1]]
        if tables[:2] != b"\xff\xd8" or tables[-2:] != b"\xff\xd9":
            return None
        pages.append(
            _Page(
                width=_scalar(tags, 256),
                height=_scalar(tags, 257),
                tile_width=_scalar(tags, 322),
                tile_height=_scalar(tags, 323),
                offsets=_values(tags, 324).astype(np.int64),
                counts=_values(tags, 325).astype(np.int64),
                tables=tables[:-2],
            )
        )
    return pages or None


@lru_cache(maxsize=256)
def _cached(path: Path, mtime_ns: int, size: int) -> JpegTiles | None:
    return JpegTiles.open(path)


def jpeg_tiles(path: Path) -> JpegTiles | None:
    """The (cached) tile index of the pyramid at `path`, or None for libvips to read it."""
    stat = path.stat()
    return _cached(path, stat.st_mtime_ns, stat.st_size)
