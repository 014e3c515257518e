"""Writing pyramids: one tiled BigTIFF per image and per alternate, with pyvips.

Levels are TIFF pages, each half the size of the one before, down to one 256-pixel tile, so a
file has ``tier_count`` pages and page ``d`` holds the image at ``downsample=d``. Four kinds:

* ``rgb8``: 8-bit RGB with JPEG tiles at quality 89 (libvips stores YCbCr 4:2:0 below 90).
* ``lossless``: 8/12/16-bit channels, deflate with a horizontal predictor, bit-exact.
* ``labels``: uint32 structure-id label maps, deflate, levels by nearest neighbour (never averaged).
* ``blocks``: 8-bit colour-block images (tumour features), deflate, levels by nearest neighbour.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

import numpy as np
import pyvips

from brainmap.pyramid.tiers import TILE
from brainmap.service import PYRAMID_JPEG_QUALITY


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
