"""Full-resolution pixels of the phantom, as lazy pyvips pipelines.

Anatomy is decided on a coarse grid with numpy (one value per `factor` x `factor` block);
pyvips upsamples those fields and multiplies them with small seamless texture tiles (cells,
fibres) repeated across the image, so a 16,000-pixel section costs seconds, not minutes.
Stains go through a 256-entry colour table (optical density -> RGB).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyvips

TILE = 1024
TWELVE_BIT_MAX = 4095


def as_image(array: np.ndarray) -> pyvips.Image:
    """A numpy array as a vips image (which keeps the array alive)."""
    return pyvips.Image.new_from_array(np.ascontiguousarray(array))


def _seamless(points: np.ndarray, blur: pyvips.Image | float) -> np.ndarray:
    """Blur a tile as if it repeated forever, scaled to 0..255."""
    tiled = as_image(points).replicate(3, 3)
    smooth = tiled.conv(blur) if isinstance(blur, pyvips.Image) else tiled.gaussblur(blur)
    middle: np.ndarray = smooth.crop(TILE, TILE, TILE, TILE).numpy().astype(np.float32)
    return middle * (255.0 / max(float(middle.max()), 1e-6))


@cache
def cell_tile(seed: int, cells: int, radius: float) -> pyvips.Image:
    """Seamless uchar tile of `cells` round cell bodies of about `radius` pixels (0 between)."""
    rng = np.random.default_rng(seed)
    points = np.zeros((TILE, TILE), np.float32)
    rows, columns = rng.integers(0, TILE, (2, cells))
    points[rows, columns] = rng.uniform(0.4, 1.0, cells)
    smooth = _seamless(points, radius)
    cutoff = 255.0 * np.exp(-2.0)
    smooth = np.where(smooth > cutoff * smooth.max() / 255.0, smooth, 0.0)
    return as_image(np.clip(smooth * 1.6, 0, 255).astype(np.uint8))


@cache
def fibre_tile(seed: int, fibres: int) -> pyvips.Image:
    """Seamless uchar tile of short straight axon segments in a few directions."""
    rng = np.random.default_rng(seed)
    strokes = np.zeros((TILE, TILE), np.float32)
    for angle in (0.0, 0.5, 2.2):
        points = np.zeros((TILE, TILE), np.float32)
        rows, columns = rng.integers(0, TILE, (2, fibres))
        points[rows, columns] = rng.uniform(0.5, 1.0, fibres)
        steps = np.arange(-24, 25)
        mask = np.zeros((49, 49), np.float32)
        mask[np.round(24 + steps * np.sin(angle)).astype(int), 24 + steps] = 1.0
        strokes = np.maximum(strokes, _seamless(points, as_image(mask)))
    return as_image(np.clip(strokes * 1.4, 0, 255).astype(np.uint8))


def texture(tile: pyvips.Image, width: int, height: int, offset: int) -> pyvips.Image:
    """`tile` repeated over `width` x `height`, shifted by `offset` pixels."""
    left, top = offset % TILE, (offset * 7) % TILE
    across = (width + left) // TILE + 1
    down = (height + top) // TILE + 1
    return tile.replicate(across, down).crop(left, top, width, height)


def upsample(field: np.ndarray, factor: int, width: int, height: int) -> pyvips.Image:
    """A coarse uint8/uint16 field, enlarged `factor` times (bilinear to a quarter, then blocks)."""
    coarse = as_image(field).gaussblur(0.7)
    if factor >= 4 and factor % 4 == 0:
        smooth = coarse.resize(factor // 4, kernel="linear").zoom(4, 4)
    else:
        smooth = coarse.resize(factor, kernel="linear")
    return smooth.crop(0, 0, width, height).cast(coarse.format)


def labels(field: np.ndarray, factor: int, width: int, height: int) -> pyvips.Image:
    """A coarse label map enlarged by pixel replication (labels are never interpolated)."""
    return as_image(field.astype(np.uint32)).zoom(factor, factor).crop(0, 0, width, height)


def stain_table(
    paper: tuple[int, int, int], absorbance: tuple[float, float, float]
) -> pyvips.Image:
    """Colour table: optical density 0..255 -> RGB of a dye with `absorbance` on `paper`."""
    density = np.arange(256, dtype=np.float64)[:, None] / 255.0 * 3.0
    rgb = np.asarray(paper, np.float64) * np.exp(-density * np.asarray(absorbance))
    return as_image(np.round(rgb).astype(np.uint8)[None, :, :])


def heat_table(threshold: int) -> pyvips.Image:
    """Colour table for masks: black below `threshold`, then blue, cyan, green, yellow, red."""
    stops = np.array([[0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]], float)
    position = np.clip((np.arange(256) - threshold) / (255.0 - threshold), 0.0, 1.0) * 4.0
    rgb = np.stack([np.interp(position, np.arange(5), stops[:, band]) for band in range(3)], 1)
    rgb[: threshold + 1] = 0
    return as_image(np.round(rgb).astype(np.uint8)[None, :, :])


def modulate(field: pyvips.Image, tile: pyvips.Image, shift: int = 8) -> pyvips.Image:
    """``field * tile >> shift`` in integers: a smooth level carried by a texture."""
    return (field.cast("ushort") * tile.cast("ushort")) >> shift


def colour(density: pyvips.Image, table: pyvips.Image) -> pyvips.Image:
    """Optical density (clipped to 0..255) through a colour table: 3-band uchar."""
    return density.cast("uchar").maplut(table)
