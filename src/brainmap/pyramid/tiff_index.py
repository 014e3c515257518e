"""The tile index of a tiled BigTIFF: where each page's tiles are and how they are compressed.

Parses the IFD chain (little-endian BigTIFF, as libvips writes pyramids) into one `TiledPage`
a page, for `tiles.PyramidTiles` to read tiles with ``pread``. Only layouts `tiles` can decode
are described; anything else (`read_tiled_pages` answers None) is left to libvips.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np

JPEG = 7
DEFLATE = (8, 32946)
_YCBCR = 6
_TAG_FORMATS = {3: "H", 4: "I", 16: "Q"}
_TAG_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1, 16: 8}
_MAX_TAGS = 1000

# TIFF tags
_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_SAMPLES, _PLANAR, _ORIENTATION, _PREDICTOR = 277, 284, 274, 317
_TILE_WIDTH, _TILE_HEIGHT, _TILE_OFFSETS, _TILE_COUNTS = 322, 323, 324, 325
_JPEG_TABLES, _SAMPLE_FORMAT = 347, 339


@dataclass(frozen=True)
class TiledPage:
    """One page: its size, tile grid, sample layout, codec and the tiles' byte ranges."""

    width: int
    height: int
    tile_width: int
    tile_height: int
    samples: int
    bits: int
    compression: int
    predictor: int
    offsets: np.ndarray
    counts: np.ndarray
    jpeg_tables: bytes = b""
    """JPEG pages: the shared tables without their EOI marker (a tile's stream follows its SOI)."""

    @property
    def across(self) -> int:
        return -(-self.width // self.tile_width)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"<u{self.bits // 8}")


_Tags = dict[int, tuple[int, int, bytes]]


def _values(tags: _Tags, tag: int) -> np.ndarray:
    kind, n, field = tags[tag]
    return np.frombuffer(field, dtype="<" + _TAG_FORMATS[kind], count=n)


def _scalar(tags: _Tags, tag: int, default: int = -1) -> int:
    return int(_values(tags, tag)[0]) if tag in tags else default


def _read(fd: int, offset: int, size: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise ValueError("truncated TIFF")
    return data


def _read_tags(fd: int, offset: int) -> tuple[_Tags, int]:
    """The tags of the IFD at `offset` and the offset of the next IFD (0 at the end)."""
    count = struct.unpack("<Q", _read(fd, offset, 8))[0]
    if count > _MAX_TAGS:
        raise ValueError("implausible IFD")
    block = _read(fd, offset + 8, 20 * count + 8)
    tags: _Tags = {}
    for i in range(count):
        tag, kind, n = struct.unpack_from("<HHQ", block, 20 * i)
        field = block[20 * i + 12 : 20 * i + 20]
        size = _TAG_SIZES.get(kind, 8) * n
        if size > 8:
            field = _read(fd, struct.unpack("<Q", field)[0], size)
        tags[tag] = (kind, n, field)
    return tags, struct.unpack_from("<Q", block, 20 * count)[0]


def _page(tags: _Tags) -> TiledPage | None:
    bits = {int(b) for b in _values(tags, _BITS)} if _BITS in tags else {1}
    compression = _scalar(tags, _COMPRESSION)
    samples = _scalar(tags, _SAMPLES, 1)
    if (
        len(bits) != 1
        or _TILE_WIDTH not in tags
        or _scalar(tags, _PLANAR, 1) != 1
        or _scalar(tags, _ORIENTATION, 1) != 1
        or _scalar(tags, _SAMPLE_FORMAT, 1) != 1
    ):
        return None
    (depth,) = bits
    tables = b""
    if compression == JPEG:
        tables = tags[_JPEG_TABLES][2][: tags[_JPEG_TABLES][1]] if _JPEG_TABLES in tags else b""
        if (
            _scalar(tags, _PHOTOMETRIC) != _YCBCR
            or samples != 3
            or depth != 8
            or tables[:2] != b"\xff\xd8"
            or tables[-2:] != b"\xff\xd9"
        ):
            return None
        tables = tables[:-2]
    elif compression not in DEFLATE or depth not in (8, 16, 32):
        return None
    predictor = _scalar(tags, _PREDICTOR, 1)
    if predictor not in (1, 2):
        return None
    return TiledPage(
        width=_scalar(tags, _WIDTH),
        height=_scalar(tags, _HEIGHT),
        tile_width=_scalar(tags, _TILE_WIDTH),
        tile_height=_scalar(tags, _TILE_HEIGHT),
        samples=samples,
        bits=depth,
        compression=compression,
        predictor=predictor,
        offsets=_values(tags, _TILE_OFFSETS).astype(np.int64),
        counts=_values(tags, _TILE_COUNTS).astype(np.int64),
        jpeg_tables=tables,
    )


def read_tiled_pages(fd: int) -> list[TiledPage] | None:
    """Every page of the little-endian BigTIFF open on `fd`, or None when it is not one, or
    when any page has a layout `tiles` does not decode (all pages or none: one reader a file).
    Raises OSError / ValueError / struct.error for unreadable or inconsistent files."""
    if _read(fd, 0, 4) != b"II+\x00":
        return None
    offset = struct.unpack("<Q", _read(fd, 8, 8))[0]
    pages: list[TiledPage] = []
    while offset:
        tags, offset = _read_tags(fd, offset)
        page = _page(tags)
        if page is None or len(page.offsets) != len(page.counts):
            return None
        pages.append(page)
    return pages or None
