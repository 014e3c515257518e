"""Regions too large for one response: cut on the tier grid, fetched concurrently, stitched.

Tiles are rectangles of the output image whose origins and sizes (except at the right and bottom
edges) are multiples of 16 output pixels: each starts on a full-resolution pixel the server maps
to the same pyramid sample as the whole region would (a multiple of ``2**downsample`` from the
region's corner), and on a JPEG 4:2:0 block boundary, so the stitched pixels equal the single
response's pixels (decoded as `brainmap.client.bulk.verify.decode` does).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from brainmap.errors import ApiError
from brainmap.geometry import RegionPlan
from brainmap.params import ImageRequest

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

BLOCK = 16
"""Tile sizes and origins are multiples of this many output pixels (a JPEG 4:2:0 block)."""

TOO_LARGE = 413

Pixels: TypeAlias = "NDArray[np.uint8]"
"""An RGB image: (height, width, 3) bytes."""

Fetch = Callable[[ImageRequest], Awaitable[Pixels]]


@dataclass(frozen=True)
class Tile:
    """A rectangle of output pixels: origin (`row`, `col`) and size."""

    row: int
    col: int
    height: int
    width: int

    def split(self) -> tuple[Tile, Tile]:
        """Two halves, cut across the longer side on the block grid; ValueError if too small."""
        if self.width >= self.height and self.width > BLOCK:
            cut = _block_middle(self.width)
            return (
                Tile(self.row, self.col, self.height, cut),
                Tile(self.row, self.col + cut, self.height, self.width - cut),
            )
        if self.height > BLOCK:
            cut = _block_middle(self.height)
            return (
                Tile(self.row, self.col, cut, self.width),
                Tile(self.row + cut, self.col, self.height - cut, self.width),
            )
        raise ValueError(f"a {self.width} x {self.height} tile cannot be split further")


def grid(plan: RegionPlan, max_pixels: int | None, max_side: int | None) -> list[Tile]:
    """Tiles covering the output of `plan`, each within the limits (one tile if it fits)."""
    width, height = plan.out_width, plan.out_height
    side = max_side or max(width, height)
    pixels = max_pixels or width * height
    if width <= side and height <= side and width * height <= pixels:
        return [Tile(0, 0, height, width)]
    tile_w = width if width <= side else _blocks_below(side)
    tile_h = min(height, _blocks_below(side), _blocks_below(pixels // tile_w))
    if tile_h <= 0:
        tile_w = tile_h = _blocks_below(math.isqrt(pixels))
    if tile_w <= 0:
        raise ValueError(f"limits of {pixels} pixels / {side} per side are below one block")
    return [
        Tile(row, col, min(tile_h, height - row), min(tile_w, width - col))
        for row in range(0, height, tile_h)
        for col in range(0, width, tile_w)
    ]


def tile_request(request: ImageRequest, plan: RegionPlan, tile: Tile) -> ImageRequest:
    """The request for one tile (the original request when the tile is the whole output)."""
    if (tile.row, tile.col, tile.width, tile.height) == (0, 0, plan.out_width, plan.out_height):
        return request
    return request.replace(
        downsample=plan.downsample,
        left=plan.box.left + tile.col * plan.scale,
        top=plan.box.top + tile.row * plan.scale,
        width=tile.width,
        height=tile.height,
        downsample_dimensions=None,
    )


async def fetch_tiled(
    fetch: Fetch, request: ImageRequest, plan: RegionPlan, tiles: list[Tile]
) -> Pixels:
    """Fetch `tiles` concurrently and stitch them; a tile the server refuses as too large
    (HTTP 413) is split in two and fetched again."""
    import numpy as np

    out = np.empty((plan.out_height, plan.out_width, 3), dtype=np.uint8)

    async def place(tile: Tile) -> None:
        try:
            pixels = await fetch(tile_request(request, plan, tile))
        except ApiError as error:
            if error.status != TOO_LARGE:
                raise
            try:
                halves = tile.split()
            except ValueError:
                raise error from None
            await asyncio.gather(*(place(half) for half in halves))
            return
        out[tile.row : tile.row + tile.height, tile.col : tile.col + tile.width] = pixels

    await asyncio.gather(*(place(tile) for tile in tiles))
    return out


def _blocks_below(length: int) -> int:
    return length // BLOCK * BLOCK


def _block_middle(length: int) -> int:
    return max(BLOCK, _blocks_below(length // 2))
