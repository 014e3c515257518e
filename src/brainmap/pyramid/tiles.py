"""Direct reads of pyramid tiles, decoded in Python's native libraries, with a tile cache.

The libvips bundled with pyvips-binary decodes a pyramid's JPEG tiles about 2-3x slower than
libjpeg-turbo's SIMD decoder (benchmarks/render.py: decoding was ~5 of 7 ms of a 1000 x 750
response), and it keeps no decoded tiles between requests. For the layouts brainmap writes
(`tiff_index`: JPEG YCbCr RGB with shared tables, and deflate with or without the horizontal
predictor, 8/16/32-bit), `PyramidTiles` reads each needed tile's bytes with ``pread`` and
decodes it: JPEG with simplejpeg (the tile spliced behind the shared tables), deflate with zlib
and a cumulative sum (both release the GIL for large buffers). Identical pixels to libvips'
read (same IJG integer IDCT and upsampling; deflate is lossless). Decoded tiles are kept in
`TILE_CACHE`. Any other layout (`PyramidTiles.open` answers None) is left to libvips.
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
import simplejpeg

from brainmap.pyramid.tiff_index import JPEG, TiledPage, read_tiled_pages


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
"""Decoded tiles kept per server process (64 MiB: ~340 tiles of 256 x 256 8-bit RGB, ~170
of 16-bit RGB)."""


class PyramidTiles:
    """The pages of one tiled pyramid file, read and decoded tile by tile."""

    def __init__(self, fd: int, pages: list[TiledPage], identity: tuple[object, ...] = ()) -> None:
        self.pages = pages
        self._fd = fd
        self._identity = identity

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    @classmethod
    def open(cls, path: Path) -> PyramidTiles | None:
        """The tile index of `path`, or None when its layout is not one handled here."""
        try:
            fd = os.open(path, os.O_RDONLY)
            stat = os.fstat(fd)
        except OSError:
            return None
        try:
            pages = read_tiled_pages(fd)
        except (OSError, struct.error, ValueError, KeyError, IndexError, OverflowError):
            pages = None
        if pages is None:
            os.close(fd)
            return None
        return cls(fd, pages, (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))

    def tile(self, page: int, index: int) -> np.ndarray:
        """Tile `index` (row-major) of `page`, decoded to tile_height x tile_width x samples
        (from `TILE_CACHE` when held)."""
        key = (*self._identity, page, index)
        tile = TILE_CACHE.get(key) if self._identity else None
        if tile is None:
            level = self.pages[page]
            data = os.pread(self._fd, int(level.counts[index]), int(level.offsets[index]))
            tile = _decode(level, data)
            tile.flags.writeable = False
            if self._identity:
                TILE_CACHE.put(key, tile)
        return tile

    def region(self, page: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        """Pixels (height x width x samples) of `page` from (left, top), inside the page."""
        level = self.pages[page]
        out = np.empty((height, width, level.samples), dtype=level.dtype)
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


def _decode(page: TiledPage, data: bytes) -> np.ndarray:
    if page.compression == JPEG:
        pixels: np.ndarray = simplejpeg.decode_jpeg(page.jpeg_tables + data[2:], colorspace="RGB")
        return pixels
    shape = (page.tile_height, page.tile_width, page.samples)
    pixels = np.frombuffer(zlib.decompress(data), dtype=page.dtype).reshape(shape)
    if page.predictor == 2:  # horizontal differencing, per sample, modulo the sample size
        return np.cumsum(pixels, axis=1, dtype=page.dtype)
    return pixels


@lru_cache(maxsize=256)
def _cached(path: Path, mtime_ns: int, size: int) -> PyramidTiles | None:
    return PyramidTiles.open(path)


def pyramid_tiles(path: Path) -> PyramidTiles | None:
    """The (cached) tile index of the pyramid at `path`, or None for libvips to read it."""
    stat = path.stat()
    return _cached(path, stat.st_mtime_ns, stat.st_size)
