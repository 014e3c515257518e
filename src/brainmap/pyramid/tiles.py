"""Tiles of a pyramid TIFF read and decoded directly, from any binary file object, and cached.

libvips (as bundled with pyvips-binary) decodes JPEG tiles 2-3x slower than libjpeg-turbo's SIMD
code and keeps no decoded tiles between requests. For the layouts `write_pyramid` produces
(little-endian BigTIFF, tiled, interleaved unsigned samples; JPEG YCbCr RGB with shared tables,
or deflate with or without the horizontal predictor), `TileReader` reads each page's tile index
with tifffile (a page when it is first needed), reads a tile's bytes from the file object (a
local file, or an fsspec file on object storage) and decodes it: deflate and the predictor by
tifffile's page decoder (imagecodecs: libdeflate and a C delta decoder), JPEG by simplejpeg (the
tile behind the page's tables; faster than imagecodecs' JPEG decoder, `benchmarks/tiles.py`).
The pixels are libvips' own (same IJG integer IDCT and upsampling; deflate is lossless). Decoded
tiles are kept in `TILE_CACHE`, shared by every pyramid of a process (its hits and misses are
reported to `brainmap.events`); a tile that does not decode raises `DamagedPyramid` and is not
kept.
"""

from __future__ import annotations

import operator
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

import cachetools
import numpy as np
import simplejpeg
import tifffile
from tifffile import COMPRESSION, PHOTOMETRIC, PLANARCONFIG, PREDICTOR, SAMPLEFORMAT

from brainmap import events
from brainmap.pyramid.reader import DamagedPyramid, LevelFormat

TileKey = tuple[Hashable, int, int]
"""A decoded tile's key: its file's identity, its level and its index in the level."""
Decoder = Callable[[bytes, int], np.ndarray]
"""Decodes a tile's bytes, given its index in the level, to tile height x width x bands."""
PageDecoder = Callable[..., tuple[np.ndarray | None, tuple[int, ...], tuple[int, ...]]]
"""tifffile's decoder of a page's tiles: (pixels, position, shape) from (bytes, index)."""
Fetch = Callable[[Sequence[tuple[int, int]]], list[bytes]]
"""Reads byte ranges, each (offset, count), of a file: the bytes of each (short at its end)."""

_DEFLATE = (COMPRESSION.ADOBE_DEFLATE, COMPRESSION.DEFLATE)
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"


def tile_cache(capacity: int) -> cachetools.LRUCache[TileKey, np.ndarray]:
    """Decoded tiles, least recently used out first, at most `capacity` bytes in all."""
    return cachetools.LRUCache(maxsize=capacity, getsizeof=operator.attrgetter("nbytes"))


TILE_CACHE = tile_cache(64 * 1024 * 1024)
"""Decoded tiles kept per server process (64 MiB: ~340 tiles of 256 x 256 8-bit RGB, ~170 of
16-bit RGB), as iipsrv keeps its tiles: a popular view is decoded once, not per request."""
_TILE_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class TiledLevel:
    """One page read directly: its format, tile grid, the tiles' byte ranges and decoder."""

    format: LevelFormat
    tile_width: int
    tile_height: int
    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    decode: Decoder

    @property
    def across(self) -> int:
        """Tiles in a row."""
        return -(-self.format.width // self.tile_width)


def _decode_jpeg(tables: bytes, data: bytes, index: int) -> np.ndarray:
    # an abbreviated stream: the tile's markers follow its SOI, the tables end before their EOI
    pixels: np.ndarray = simplejpeg.decode_jpeg(tables[:-2] + data[2:], colorspace="RGB")
    return pixels


def _decode_page(decode: PageDecoder, data: bytes, index: int) -> np.ndarray:
    pixels, _, shape = decode(data, index)
    if pixels is None:
        raise ValueError(f"tile {index} is empty")
    return pixels.reshape(shape[1:])


def _tiled_level(page: tifffile.TiffPage | tifffile.TiffFrame) -> TiledLevel | None:
    """`page` as a `TiledLevel`, or None when its layout is not one `write_pyramid` produces."""
    if not isinstance(page, tifffile.TiffPage) or page.dtype is None:
        return None
    if not (
        page.parent.is_bigtiff
        and page.parent.byteorder == "<"
        and page.is_tiled
        and page.planarconfig == PLANARCONFIG.CONTIG
        and page.sampleformat == SAMPLEFORMAT.UINT
        and page.tags.valueof("Orientation", 1) == 1
        and page.bitspersample in (8, 16, 32)
    ):
        return None
    decode: Decoder
    if page.compression == COMPRESSION.JPEG:
        tables = page.jpegtables or b""
        if (
            page.photometric != PHOTOMETRIC.YCBCR
            or page.samplesperpixel != 3
            or page.bitspersample != 8
            or not (tables.startswith(_JPEG_START) and tables.endswith(_JPEG_END))
        ):
            return None
        decode = partial(_decode_jpeg, tables)
    elif page.compression in _DEFLATE and page.predictor in (PREDICTOR.NONE, PREDICTOR.HORIZONTAL):
        decode = partial(_decode_page, page.decode)
    else:
        return None
    return TiledLevel(
        format=LevelFormat(page.imagewidth, page.imagelength, page.samplesperpixel, page.dtype),
        tile_width=page.tilewidth,
        tile_height=page.tilelength,
        offsets=tuple(page.dataoffsets),
        counts=tuple(page.databytecounts),
        decode=decode,
    )


class TileReader:
    """The pages of one pyramid TIFF, read from `file` tile by tile (file reads under a lock, so
    render threads share a reader), or through `fetch` when given (ranges of an object read
    concurrently); `identity` names the file's version in `TILE_CACHE`."""

    def __init__(
        self,
        file: BinaryIO,
        tiff: tifffile.TiffFile,
        identity: Hashable,
        first: TiledLevel,
        fetch: Fetch | None = None,
    ) -> None:
        self.identity = identity
        self.levels = len(tiff.pages)
        self._file = file
        self._tiff = tiff
        self._lock = threading.Lock()
        self._parsed: dict[int, TiledLevel | None] = {0: first}
        self._fetch = fetch or self._read_ranges
        weakref.finalize(self, file.close)

    @classmethod
    def open(
        cls, file: BinaryIO, identity: Hashable, fetch: Fetch | None = None
    ) -> TileReader | None:
        """A reader of `file` (tiles read from it, or by `fetch`), which it closes when
        collected; None (`file` left open) when the first page of `file` has a layout not read
        here; DamagedPyramid when `file` is not a TIFF or its first page cannot be read."""
        try:
            tiff = tifffile.TiffFile(file)
            if not tiff.pages:
                raise DamagedPyramid("is damaged: no page can be read (is the file cut short?)")
            first = _tiled_level(tiff.pages.first)
        except (OSError, ValueError, KeyError, IndexError) as error:
            raise DamagedPyramid(f"is damaged: {error}") from None
        return None if first is None else cls(file, tiff, identity, first, fetch)

    def level(self, index: int) -> TiledLevel | None:
        """Page `index` (its index parsed when first asked for), or None when its layout is not
        read here; DamagedPyramid when its index cannot be read."""
        with self._lock:
            if index not in self._parsed:
                try:
                    self._parsed[index] = _tiled_level(self._tiff.pages[index])
                except (OSError, ValueError, KeyError) as error:
                    raise DamagedPyramid(f"is damaged: level {index}: {error}") from None
            return self._parsed[index]

    def decoded_level(self, index: int) -> TiledLevel:
        """Page `index`, which must have a layout read here (ValueError otherwise)."""
        tiled = self.level(index)
        if tiled is None:
            raise ValueError(f"page {index} has a layout not read directly")
        return tiled

    def tile(self, level: int, index: int) -> np.ndarray:
        """Tile `index` (row-major) of page `level`, decoded to tile height x width x bands and
        read-only (from `TILE_CACHE` when held)."""
        return self.tiles(level, [index])[index]

    def tiles(self, level: int, indices: Sequence[int]) -> dict[int, np.ndarray]:
        """Tiles `indices` of page `level`, decoded and read-only: those `TILE_CACHE` holds from
        it, the others read in one `fetch` (concurrent ranged reads on object storage), decoded
        and kept there. DamagedPyramid for a tile cut short or that does not decode (not kept)."""
        tiled = self.decoded_level(level)
        with _TILE_CACHE_LOCK:
            found = {index: TILE_CACHE.get((self.identity, level, index)) for index in indices}
        missing = [index for index, tile in found.items() if tile is None]
        events.lookups("tiles", len(found) - len(missing), len(missing))
        ranges = [(tiled.offsets[index], tiled.counts[index]) for index in missing]
        for index, data in zip(missing, self._fetch(ranges), strict=True):
            tile = _decode(tiled, level, index, data)
            with _TILE_CACHE_LOCK:
                TILE_CACHE[self.identity, level, index] = tile
            found[index] = tile
        return {index: tile for index, tile in found.items() if tile is not None}

    def read_bytes(self, offset: int, count: int) -> bytes:
        """`count` bytes of the file from `offset`."""
        with self._lock:
            self._file.seek(offset)
            return self._file.read(count)

    def _read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        return [self.read_bytes(offset, count) for offset, count in ranges]

    def region(self, level: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        """Pixels (height x width x bands) of page `level` from (left, top), inside the page."""
        tiled = self.decoded_level(level)
        page = tiled.format
        if left < 0 or top < 0 or width < 1 or height < 1:
            raise ValueError(f"empty or negative region {left}, {top}, {width} x {height}")
        if left + width > page.width or top + height > page.height:
            raise ValueError(f"region beyond page {level} ({page.width} x {page.height})")
        out = np.empty((height, width, page.bands), dtype=page.dtype)
        tw, th = tiled.tile_width, tiled.tile_height
        rows = range(top // th, (top + height - 1) // th + 1)
        columns = range(left // tw, (left + width - 1) // tw + 1)
        tiles = self.tiles(
            level, [row * tiled.across + column for row in rows for column in columns]
        )
        for row in rows:
            for column in columns:
                tile = tiles[row * tiled.across + column]
                x0, y0 = column * tw, row * th
                sx, sy = max(left - x0, 0), max(top - y0, 0)
                ex, ey = min(left + width - x0, tw), min(top + height - y0, th)
                out[y0 + sy - top : y0 + ey - top, x0 + sx - left : x0 + ex - left] = tile[
                    sy:ey, sx:ex
                ]
        return out


def _decode(tiled: TiledLevel, level: int, index: int, data: bytes) -> np.ndarray:
    """Tile `index` of `tiled` (page `level`) decoded from its bytes `data`, read-only."""
    where = f"tile {index} of level {level}"
    if len(data) < tiled.counts[index]:
        raise DamagedPyramid(f"is cut short: {where} lies beyond its end")
    try:
        tile = tiled.decode(data, index)
    except Exception as error:  # whatever the decoder says of bytes that are not a tile
        raise DamagedPyramid(f"is damaged: {where} does not decode ({error})") from None
    expected = (tiled.tile_height, tiled.tile_width, tiled.format.bands)
    if tile.shape != expected:
        raise DamagedPyramid(f"is damaged: {where} decodes to {tile.shape}, not {expected}")
    tile.flags.writeable = False
    return tile
