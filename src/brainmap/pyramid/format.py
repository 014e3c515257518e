"""Pyramidal tiled TIFF files: one per image and per alternate, written and read with pyvips.

Levels are TIFF pages, each half the size of the one before, down to one 256-pixel tile, so a
file has ``tier_count`` pages and page ``d`` holds the image at ``downsample=d``. Three kinds:

* ``rgb8``: 8-bit RGB with JPEG tiles at quality 89 (libvips stores YCbCr 4:2:0 below 90).
* ``lossless``: 8/12/16-bit channels, deflate with a horizontal predictor, bit-exact.
* ``labels``: uint32 structure-id label maps, deflate, levels by nearest neighbour (never averaged).
* ``blocks``: 8-bit colour-block images (tumour features), deflate, levels by nearest neighbour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path

import numpy as np
import pyvips

from brainmap.service import PYRAMID_JPEG_QUALITY

TILE = 256


class PyramidKind(str, Enum):
    """How a pyramid's pixels are stored."""

    RGB8 = "rgb8"
    LOSSLESS = "lossless"
    LABELS = "labels"
    BLOCKS = "blocks"


def _as_vips(pixels: np.ndarray | pyvips.Image) -> pyvips.Image:
    if isinstance(pixels, pyvips.Image):
        return pixels
    return pyvips.Image.new_from_array(np.ascontiguousarray(pixels))


def write_pyramid(pixels: np.ndarray | pyvips.Image, path: Path, kind: PyramidKind) -> None:
    """Write `pixels` (H x W [x C] array or vips image) as a pyramid at `path`, atomically."""
    image = _as_vips(pixels)
    options: dict[str, object] = {
        "tile": True,
        "tile_width": TILE,
        "tile_height": TILE,
        "pyramid": True,
        "bigtiff": True,
    }
    if kind is PyramidKind.RGB8:
        if image.format != "uchar" or image.bands != 3:
            raise ValueError(
                f"rgb8 pyramids need 3-band uchar pixels, got {image.bands} {image.format}"
            )
        options.update(compression="jpeg", Q=PYRAMID_JPEG_QUALITY)
    elif kind is PyramidKind.LOSSLESS:
        options.update(compression="deflate", predictor="horizontal")
    elif kind is PyramidKind.BLOCKS:
        options.update(compression="deflate", predictor="horizontal", region_shrink="nearest")
    else:
        if image.format != "uint" or image.bands != 1:
            raise ValueError(f"label pyramids need 1-band uint32 pixels, got {image.format}")
        options.update(compression="deflate", region_shrink="nearest")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        image.tiffsave(str(temporary), **options)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True)
class Pyramid:
    """A pyramid file opened lazily; `level(d)` is the image at downsample `d`."""

    path: Path

    @cached_property
    def levels(self) -> int:
        """Number of pages (tiers) in the file."""
        first = pyvips.Image.new_from_file(str(self.path), access="random")
        return int(first.get("n-pages")) if "n-pages" in first.get_fields() else 1

    @cached_property
    def width(self) -> int:
        return int(self.level(0).width)

    @cached_property
    def height(self) -> int:
        return int(self.level(0).height)

    def level(self, index: int) -> pyvips.Image:
        """Page `index` (0 = full resolution) as a lazy vips image."""
        if not 0 <= index < self.levels:
            raise IndexError(f"{self.path.name} has levels 0..{self.levels - 1}, not {index}")
        return pyvips.Image.new_from_file(str(self.path), page=index, access="random")


def tier_count(width: int, height: int) -> int:
    """Tiers of 256-pixel tiles needed for an image: ``1 + ceil(log2(max(w, h) / 256))``."""
    longest = max(width, height, 1)
    tiers = 1
    while longest > TILE * 2 ** (tiers - 1):
        tiers += 1
    return tiers


def whole_image(width: int, height: int) -> dict[str, int]:
    """The SubImage geometry fields of a `width` x `height` image recorded whole: its bounding
    box is the full pixel grid, and `tier_count` follows from the size."""
    return {
        "x": 0,
        "y": 0,
        "width": width,
        "height": height,
        "image_width": width,
        "image_height": height,
        "tier_count": tier_count(width, height),
    }
