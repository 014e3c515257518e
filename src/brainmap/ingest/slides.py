"""Slide-scanner files read through OpenSlide: Aperio SVS, Hamamatsu NDPI, Leica SCN, MIRAX
and the other vendor formats OpenSlide detects.

The image is level 0, read in strips of whole rows. OpenSlide gives RGBA: alpha is opaque
inside the scanned region and transparent outside it (where the scanner stored nothing), so
pixels are laid over the slide's background colour (white when it names none). A generic tiled
TIFF is left to libvips, which keeps its bit depth and channels (OpenSlide would reduce it to
8-bit RGB).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openslide
import pyvips

from brainmap.ingest.errors import IngestError

STRIP_PIXELS = 1 << 22  # pixels read at a time: 16 MiB of RGBA
GENERIC = "generic-tiff"
WHITE = "FFFFFF"


def vendor(path: Path) -> str | None:
    """The OpenSlide vendor of a slide-scanner file; None for anything else."""
    found: str | None = openslide.OpenSlide.detect_format(str(path))
    return None if found in (None, GENERIC) else found


def _background(slide: openslide.OpenSlide) -> np.ndarray:
    colour = slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR) or WHITE
    return np.array([int(colour[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.uint32)


def _flattened(slide: openslide.OpenSlide) -> Iterator[np.ndarray]:
    """Level 0 as RGB rows laid over the background, strip by strip, top to bottom."""
    width, height = slide.dimensions
    background = _background(slide)
    rows = max(1, STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        size = (width, min(rows, height - top))
        rgba = np.asarray(slide.read_region((0, top), 0, size), dtype=np.uint32)
        alpha = rgba[..., 3:]
        yield ((rgba[..., :3] * alpha + background * (255 - alpha) + 127) // 255).astype(np.uint8)


@contextmanager
def _opened(path: Path) -> Iterator[openslide.OpenSlide]:
    """The slide open; OpenSlide's errors (on opening or on any tile) become IngestError."""
    try:
        with openslide.OpenSlide(str(path)) as slide:
            yield slide
    except openslide.OpenSlideError as error:
        raise IngestError(f"{path}: unreadable slide ({error})") from None


def check(path: Path) -> tuple[int, int, np.ndarray, float | None]:
    """Decode level 0 in full: width, height, 256 x 3 histogram, µm per pixel if stated."""
    histogram = np.zeros((256, 3), dtype=np.int64)
    with _opened(path) as slide:
        for rgb in _flattened(slide):
            for channel in range(3):
                histogram[:, channel] += np.bincount(rgb[..., channel].ravel(), minlength=256)
        mpp = slide.properties.get(openslide.PROPERTY_NAME_MPP_X)
        same = mpp == slide.properties.get(openslide.PROPERTY_NAME_MPP_Y)
        width, height = slide.dimensions
    return width, height, histogram, float(mpp) if mpp and same else None


def level_zero(path: Path, scratch: Path) -> pyvips.Image:
    """Level 0 as an RGB image, decoded into a raw file under `scratch` (the caller removes
    it)."""
    raw = scratch / f"{path.name}.rgb"
    with _opened(path) as slide, raw.open("wb") as handle:
        for rgb in _flattened(slide):
            handle.write(rgb.tobytes())
        width, height = slide.dimensions
    return pyvips.Image.rawload(str(raw), width, height, 3).copy(interpretation="srgb")
