"""Colour annotation label maps (structure ids) into atlas plates.

Each structure takes its ``color_hex_triplet``; label 0 is background (white); one-pixel
boundaries between structures are drawn in a darker shade of the pixel's colour. With a
highlight set, every other structure is faded toward white.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

Colour = tuple[int, int, int]

BACKGROUND: Colour = (255, 255, 255)
UNKNOWN: Colour = (200, 200, 200)
BOUNDARY_SHADE = 0.55
FADE = 0.75


def parse_hex(triplet: str | None) -> Colour:
    """``'B0F0FF'`` -> ``(176, 240, 255)``; a missing colour is grey."""
    if not triplet or len(triplet) != 6:
        return UNKNOWN
    return (int(triplet[0:2], 16), int(triplet[2:4], 16), int(triplet[4:6], 16))


def colour_labels(
    labels: np.ndarray,
    colours: Mapping[int, Colour],
    highlight: Collection[int] | None = None,
) -> np.ndarray:
    """H x W uint32 labels -> H x W x 3 uint8 plate."""
    ids, inverse = np.unique(labels, return_inverse=True)
    palette = np.array([_colour_of(int(i), colours) for i in ids], dtype=np.float32)
    if highlight is not None:
        chosen = np.isin(ids, np.fromiter(highlight, dtype=np.int64)) | (ids == 0)
        palette[~chosen] = palette[~chosen] * (1 - FADE) + np.float32(255) * FADE
    plate = palette[inverse.reshape(labels.shape)]
    edges = np.zeros(labels.shape, dtype=bool)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    plate[edges] *= BOUNDARY_SHADE
    return np.rint(plate).astype(np.uint8)


def _colour_of(label: int, colours: Mapping[int, Colour]) -> Colour:
    if label == 0:
        return BACKGROUND
    return colours.get(label, UNKNOWN)
