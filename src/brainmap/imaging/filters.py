"""Steps 3 to 6 of the pixel pipeline (docs/rules.md, "Pixel pipeline"), as lazy pyvips operations.

Every step yields 8-bit values, rounded and clamped, so each can be checked against a plain
numpy formula. Nothing here reads files or knows HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyvips

from brainmap.imaging.colormaps import lookup_table
from brainmap.params import ColormapSpec, Number
from brainmap.service import TWELVE_BIT_SCALE

LUMINANCE = (0.299, 0.587, 0.114)


def to_uchar(image: pyvips.Image) -> pyvips.Image:
    """Round half up and clamp to 0..255 (libvips casts clamp out-of-range values)."""
    return (image + 0.5).cast("uchar")


def window(
    image: pyvips.Image, bounds: Sequence[Number] | None, scale: int = TWELVE_BIT_SCALE
) -> pyvips.Image:
    """Step 3: map each channel's ``[lo, hi]`` (on the image's scale) linearly onto 0..255.

    `bounds` is ``(rl, ru, gl, gu, bl, bu)``; ``None`` means ``0..scale`` for deep images
    (`scale` from the image's bit depth, `brainmap.service.image_scale`) and passes 8-bit
    images unchanged. 8-bit values are first scaled to 12 bits (``v * 4095/255``). Sources
    are 8- or 16-bit, so the window is one lookup per sample (a table per channel).
    """
    deep = image.format != "uchar"
    if bounds is None:
        if not deep:
            return image
        bounds = (0, scale) * 3
    pairs = tuple(zip(bounds[::2], bounds[1::2], strict=True))[: image.bands]
    return image.maplut(_window_table(pairs, deep))


@lru_cache(maxsize=64)
def _window_table(pairs: tuple[tuple[Number, Number], ...], deep: bool) -> pyvips.Image:
    levels = np.arange(65536 if deep else 256, dtype=np.float64)
    if not deep:
        levels *= TWELVE_BIT_SCALE / 255
    table = np.stack(
        [np.floor((levels - low) * 255 / (high - low) + 0.5) for low, high in pairs], axis=1
    )
    return pyvips.Image.new_from_array(np.clip(table, 0, 255).astype(np.uint8)[np.newaxis])


def gains(image: pyvips.Image, rgb: Sequence[Number]) -> pyvips.Image:
    """Step 4: multiply each channel by its gain."""
    return to_uchar(image.linear(list(rgb)[: image.bands], [0.0] * image.bands))


def contrast(image: pyvips.Image, gain: float, bias: float) -> pyvips.Image:
    """Step 5: ``y = (x - 0.5) * m + 0.5 + (bias - 0.5)`` on 0..1 with ``m = gain / (1 - gain)``."""
    slope = _contrast_slope(gain)
    offset = 127.5 * (1 - slope) + (bias - 0.5) * 255
    return to_uchar(image.linear(slope, offset))


def _contrast_slope(gain: float) -> float:
    gain = min(gain, 0.999)
    return gain / (1 - gain)


def luminance(image: pyvips.Image) -> pyvips.Image:
    """8-bit luminance of a 1- or 3-channel 8-bit image."""
    if image.bands == 1:
        return image
    return to_uchar(image.recomb([list(LUMINANCE)]))


def colormap_lut(spec: ColormapSpec) -> np.ndarray:
    """The 256 x 3 table mapping luminance to colour for `spec` (step 6)."""
    table = lookup_table(spec.table)
    levels = np.arange(256, dtype=np.float64)
    t = np.clip((levels - spec.low) / (spec.high - spec.low), 0.0, 1.0)
    shaped = t ** (math.log(0.5) / math.log(spec.gain))
    colours = table[np.clip(np.rint(shaped * 255), 0, 255).astype(np.intp)]
    colours[t < spec.threshold] = 0
    return colours


def apply_colormap(image: pyvips.Image, spec: ColormapSpec) -> pyvips.Image:
    """Step 6: colour each pixel's luminance through the lookup table."""
    lut = pyvips.Image.new_from_array(colormap_lut(spec)[np.newaxis, :, :])
    return luminance(image).maplut(lut)


def as_rgb(image: pyvips.Image) -> pyvips.Image:
    """Three channels: a grey image is repeated, extra channels dropped."""
    if image.bands == 1:
        return image.bandjoin([image, image])
    if image.bands > 3:
        return image.extract_band(0, n=3)
    return image
