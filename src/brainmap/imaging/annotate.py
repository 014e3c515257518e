"""Colour annotation label maps (structure ids) into atlas plates, lazily with libvips.

Each structure takes its ``color_hex_triplet``; label 0 is background (white), an id missing from
the palette is grey; a pixel that differs from its left or upper neighbour is a boundary, drawn
in a darker shade (x 0.55) of its own colour. With a highlight set, every other structure is faded
75 % toward white.

Ids are uint32 and libvips lookup tables hold at most 65,536 entries, so an id is split into its
high and low 16 bits: a table over the high half picks a bucket (one per distinct high half among
the palette's ids), one table band per bucket maps the low half to a dense palette index, and
``case`` takes the bucket's answer. Every step is a per-pixel libvips operation, so memory stays
bounded by libvips' tile buffers whatever the size of the plate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pyvips

Colour = tuple[int, int, int]

BACKGROUND: Colour = (255, 255, 255)
UNKNOWN: Colour = (200, 200, 200)
BOUNDARY_SHADE = 0.55
FADE = 0.75
MAX_BUCKETS = 255
_HALF = 1 << 16


def parse_hex(triplet: str | None) -> Colour:
    """``'B0F0FF'`` -> ``(176, 240, 255)``; a missing colour is grey."""
    if not triplet or len(triplet) != 6:
        return UNKNOWN
    return (int(triplet[0:2], 16), int(triplet[2:4], 16), int(triplet[4:6], 16))


@dataclass(frozen=True)
class PlatePalette:
    """Lookup tables turning label ids into plate colours (dense index 0 = unknown id)."""

    buckets: np.ndarray  # 65536 uint8: high half -> bucket (0 = no palette id there)
    dense: np.ndarray  # 65536 x buckets uint16: low half -> dense index, one band per bucket
    fill: np.ndarray  # (ids + 1) x 3 uint8: dense index -> colour
    boundary: np.ndarray  # (ids + 1) x 3 uint8: dense index -> boundary colour

    @classmethod
    def build(
        cls, colours: Mapping[int, Colour], highlight: Collection[int] | None = None
    ) -> PlatePalette:
        """Tables for `colours` (structure id -> RGB); `highlight` fades every other id."""
        ids = np.array(sorted({0, *colours}), dtype=np.int64)
        rgb = np.array(
            [UNKNOWN] + [BACKGROUND if i == 0 else colours[int(i)] for i in ids], np.float64
        )
        if highlight is not None:
            kept = np.isin(ids, np.fromiter(highlight, dtype=np.int64, count=len(highlight)))
            faded = np.concatenate([[True], ~kept & (ids != 0)])  # unknown ids fade too
            rgb[faded] = rgb[faded] * (1 - FADE) + 255 * FADE
        highs, bucket_of = np.unique(ids >> 16, return_inverse=True)
        if len(highs) > MAX_BUCKETS:
            raise ValueError(f"label ids span {len(highs)} high halves, at most {MAX_BUCKETS}")
        buckets = np.zeros(_HALF, dtype=np.uint8)
        buckets[highs] = np.arange(1, len(highs) + 1)
        dense = np.zeros((_HALF, len(highs)), dtype=np.uint16)
        dense[ids & 0xFFFF, bucket_of] = np.arange(1, len(ids) + 1)
        return cls(
            buckets,
            dense,
            np.rint(rgb).astype(np.uint8),
            np.rint(rgb * BOUNDARY_SHADE).astype(np.uint8),
        )

    def paint(self, labels: pyvips.Image) -> pyvips.Image:
        """A 1-band uint label image -> the 3-band uchar plate (lazy)."""
        labels = labels.cast("uint")
        high = (labels >> 16).cast("ushort")
        low = (labels & 0xFFFF).cast("ushort")
        per_bucket = low.maplut(_table(self.dense))
        bands = [per_bucket[b] for b in range(per_bucket.bands)]
        index = high.maplut(_table(self.buckets)).case([bands[0] & 0, *bands]).cast("ushort")
        edges = _differs(labels, 1, 0) | _differs(labels, 0, 1)
        return edges.ifthenelse(
            index.maplut(_table(self.boundary)), index.maplut(_table(self.fill))
        )


def _table(values: np.ndarray) -> pyvips.Image:
    """A one-row lookup-table image from a 1-D (entries) or 2-D (entries x bands) array."""
    rows = values[np.newaxis, :] if values.ndim == 1 else values[np.newaxis, :, :]
    return pyvips.Image.new_from_array(np.ascontiguousarray(rows))


def _differs(labels: pyvips.Image, dx: int, dy: int) -> pyvips.Image:
    """Pixels whose label differs from the one `dx` left / `dy` up (edges compare to themselves).

    The shift is embedded in a canvas grown by (`dx`, `dy`) and then cropped: libvips refuses an
    offset as large as the image, which a one-pixel-wide plate would otherwise need."""
    width, height = labels.width, labels.height
    shifted = labels.embed(dx, dy, width + dx, height + dy, extend="copy").crop(0, 0, width, height)
    return labels.relational(shifted, "noteq")
