"""The phantom brain: a 3-D arrangement of ellipsoids, labelled at any point in space.

Coordinates are millimetres: ``x`` medio-lateral (0 = midline, right positive), ``y``
dorso-ventral (0 = top of the brain), ``z`` antero-posterior (0 = tip of the olfactory bulb).
Every image of the demo store (Nissl plates, ISH, connectivity) is rendered from the labels at
the points its pixels lie on (:mod:`~brainmap.demo.phantom_space`), and the reference space's
annotation volume from the labels on its voxel grid, so stain, annotation, expression and the
atlas always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from brainmap.demo.phantom_ontology import BY_ACRONYM

Vector = tuple[float, float, float]


class Plane(Enum):
    """Cutting plane; the value is the PlaneOfSection id."""

    CORONAL = 1
    SAGITTAL = 2


@dataclass(frozen=True)
class Field:
    """Physical window of a section image: top-left corner and size in mm (u across, v down)."""

    left: float
    top: float
    width: float
    height: float


FIELDS = {
    Plane.CORONAL: Field(-5.6, -0.6, 11.2, 7.7),
    Plane.SAGITTAL: Field(-0.6, -0.6, 13.2, 7.7),
}


@dataclass(frozen=True)
class Blob:
    """An axis-aligned ellipsoid painted with `acronym` (``""`` clears to background).

    `power` 2 is an ellipsoid, more is boxier; `shell` keeps only normalised radii in
    ``[lo, hi)``; `below` keeps ``y >= below`` and `above` keeps ``y < above``; `folia` is the
    depth of the lobules rippling the surface (cerebellar folds); `mirror` paints a copy at ``-x``.
    """

    acronym: str
    center: Vector
    radii: Vector
    power: float = 2.0
    shell: tuple[float, float] = (0.0, 1.0)
    above: float = math.inf
    below: float = -math.inf
    folia: float = 0.0
    mirror: bool = False


_CEREBRUM = ((0.0, 2.9, 5.3), (4.4, 2.8, 3.7))
_CEREBELLUM = ((0.0, 3.0, 10.3), (3.0, 2.0, 1.7))
_HIPPOCAMPUS = ((1.9, 2.5, 7.2), (1.6, 1.0, 1.3))
_BULB = ((0.75, 2.7, 1.3), (0.75, 1.1, 1.3))

# Painted in order: later blobs cover earlier ones.
BLOBS: tuple[Blob, ...] = (
    Blob("MY", (0.0, 4.9, 10.6), (1.5, 1.2, 2.3)),
    Blob("P", (0.0, 5.4, 9.4), (1.6, 0.9, 1.0)),
    Blob("MB", (0.0, 3.9, 8.2), (2.0, 1.8, 1.5)),
    Blob("SC", (0.0, 2.5, 8.1), (1.5, 0.6, 0.8)),
    Blob("IC", (0.0, 3.0, 9.2), (1.5, 0.6, 0.5)),
    Blob("PAG", (0.0, 3.9, 8.5), (0.55, 0.55, 1.0)),
    Blob("CNU", *_CEREBRUM, power=2.4),
    Blob("TH", (0.0, 3.7, 6.6), (1.8, 1.2, 1.3)),
    Blob("HY", (0.0, 5.3, 6.0), (1.2, 0.75, 1.6)),
    Blob("CP", (1.9, 3.6, 4.4), (1.3, 1.5, 1.5), mirror=True),
    Blob("ACB", (0.9, 4.7, 3.7), (0.7, 0.6, 0.8), mirror=True),
    Blob("PAL", (2.2, 4.6, 5.4), (0.8, 0.8, 0.9), mirror=True),
    Blob("int", (2.65, 4.0, 5.9), (0.25, 1.2, 0.9), mirror=True),
    Blob("ac", (0.0, 4.75, 4.8), (1.7, 0.2, 0.25)),
    Blob("HPF", *_HIPPOCAMPUS, mirror=True),
    Blob("CA", *_HIPPOCAMPUS, shell=(0.62, 0.76), mirror=True),
    Blob("DG", (1.9, 2.8, 7.3), (0.85, 0.35, 0.9), shell=(0.55, 1.0), mirror=True),
    Blob("cc", *_CEREBRUM, power=2.4, shell=(0.76, 0.8), above=3.4),
    Blob("ISO6", *_CEREBRUM, power=2.4, shell=(0.8, 0.83), above=4.2),
    Blob("ISO5", *_CEREBRUM, power=2.4, shell=(0.83, 0.875), above=4.2),
    Blob("ISO4", *_CEREBRUM, power=2.4, shell=(0.875, 0.91), above=4.2),
    Blob("ISO2/3", *_CEREBRUM, power=2.4, shell=(0.91, 0.965), above=4.2),
    Blob("ISO1", *_CEREBRUM, power=2.4, shell=(0.965, 1.0), above=4.2),
    Blob("PIR", *_CEREBRUM, power=2.4, shell=(0.8, 1.0), below=4.2),
    Blob("", (0.0, 0.0, 5.3), (0.05, 0.65, 3.7)),
    Blob("arb", *_CEREBELLUM, folia=0.08),
    Blob("CBXgr", *_CEREBELLUM, shell=(0.55, 0.9), folia=0.08),
    Blob("CBXmo", *_CEREBELLUM, shell=(0.9, 1.0), folia=0.08),
    Blob("CBN", (1.2, 3.7, 10.2), (0.45, 0.3, 0.4), mirror=True),
    Blob("OLF", *_BULB, mirror=True),
    Blob("MOB", *_BULB, shell=(0.0, 0.8), mirror=True),
    Blob("VL", (0.95, 3.0, 4.7), (0.1, 0.75, 0.8), mirror=True),
    Blob("V3", (0.0, 4.4, 6.5), (0.07, 1.5, 1.1)),
    Blob("AQ", (0.0, 3.9, 8.5), (0.1, 0.14, 1.0)),
    Blob("V4", (0.0, 4.3, 10.9), (0.6, 0.15, 0.6)),
)


def _radius(blob: Blob, cu: np.ndarray, cv: np.ndarray, cw: np.ndarray) -> np.ndarray:
    """The blob's normalised radius at offsets `cu`, `cv`, `cw` from a centre (along x, y, z,
    divided by the radii; arrays that broadcast)."""
    power = blob.power
    radius = (np.abs(cu) ** power + np.abs(cv) ** power + np.abs(cw) ** power) ** (1.0 / power)
    if blob.folia:  # lobules along the antero-posterior arc of the cerebellum
        radius = radius * (1.0 + blob.folia * (1.0 - np.abs(np.sin(6.0 * np.arctan2(cv, cw)))))
    out: np.ndarray = radius
    return out


def _kept(blob: Blob, radius: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where points of normalised `radius`, at height `y` mm, belong to `blob`."""
    keep: np.ndarray = (radius >= blob.shell[0]) & (radius < blob.shell[1])
    return keep & (y < blob.above) & (y >= blob.below)


def _centres(blob: Blob) -> list[Vector]:
    cx, cy, cz = blob.center
    return [(cx, cy, cz), (-cx, cy, cz)] if blob.mirror else [(cx, cy, cz)]


def _label(blob: Blob) -> int:
    return BY_ACRONYM[blob.acronym].id if blob.acronym else 0


Points = tuple[np.ndarray, np.ndarray, np.ndarray]
Near = Callable[[Vector, Vector], np.ndarray]
"""Indices of the points that may lie in the box of half-sides `radii` about `centre`."""


def _painted(size: int, points: Callable[[np.ndarray], Points], near: Near) -> np.ndarray:
    """Labels of `size` points, painting each blob on the points `near` its box finds (their
    coordinates in mm from `points(indices)`); consecutive blobs of one shape (the shells of
    the cortex, of the cerebellum) share its radii, computed once."""
    labels = np.zeros(size, dtype=np.uint32)
    shape: tuple[object, ...] = ()
    for blob in BLOBS:
        for centre in _centres(blob):
            key = (centre, blob.radii, blob.power, blob.folia)
            if key != shape:
                shape = key
                index = near(centre, blob.radii)
                found = points(index)
                offsets = [
                    (axis - c) / r for axis, c, r in zip(found, centre, blob.radii, strict=True)
                ]
                inside = (np.abs(offsets[0]) < 1) & (np.abs(offsets[1]) < 1)
                inside &= np.abs(offsets[2]) < 1
                cu, cv, cw = (offset[inside] for offset in offsets)
                index, heights, radius = index[inside], found[1][inside], _radius(blob, cu, cv, cw)
            labels[index[_kept(blob, radius, heights)]] = _label(blob)
    return labels


def labels_at(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Structure ids (uint32, 0 outside the brain) at brain points: `x`, `y`, `z` in mm, arrays
    of one shape (the answer's)."""
    xs, ys, zs = (np.asarray(a, dtype=np.float64).ravel() for a in (x, y, z))

    def near(centre: Vector, radii: Vector) -> np.ndarray:
        index = np.flatnonzero(np.abs(ys - centre[1]) < radii[1])  # one axis at a time: faster
        index = index[np.abs(xs[index] - centre[0]) < radii[0]]
        return index[np.abs(zs[index] - centre[2]) < radii[2]]

    labels = _painted(xs.size, lambda index: (xs[index], ys[index], zs[index]), near)
    return labels.reshape(np.shape(x))


def labels_on_plane(
    origin: Vector, along_rows: Vector, along_cols: Vector, shape: tuple[int, int]
) -> np.ndarray:
    """`labels_at` on a planar grid of `shape` (rows, cols): point ``(row, col)`` at ``origin +
    row * along_rows + col * along_cols`` (x, y, z in mm). Each blob is evaluated only on the
    columns of each row that its box crosses."""
    rows, cols = shape
    start, down, across = (
        np.asarray(v, dtype=np.float64) for v in (origin, along_rows, along_cols)
    )
    row_index = np.arange(rows, dtype=np.float64)

    def points(index: np.ndarray) -> Points:
        row, col = np.divmod(index, cols)
        x, y, z = (start[k] + row * down[k] + col * across[k] for k in range(3))
        return x, y, z

    def near(centre: Vector, radii: Vector) -> np.ndarray:
        first, last = np.zeros(rows), np.full(rows, cols - 1.0)
        for k in range(3):
            offset = start[k] + down[k] * row_index - centre[k]  # at column 0
            if across[k] == 0:
                last = np.where(np.abs(offset) < radii[k], last, -1.0)
                continue
            ends = (-radii[k] - offset) / across[k], (radii[k] - offset) / across[k]
            first = np.maximum(first, np.minimum(*ends))
            last = np.minimum(last, np.maximum(*ends))
        starts, stops = np.ceil(first).astype(np.intp), np.floor(last).astype(np.intp) + 1
        counts = np.maximum(stops - starts, 0)
        before = np.repeat(np.cumsum(counts) - counts, counts)
        columns = np.repeat(starts, counts) + np.arange(int(counts.sum())) - before
        index: np.ndarray = np.repeat(np.arange(rows), counts) * cols + columns
        return index

    labels: np.ndarray = _painted(rows * cols, points, near).reshape(shape)
    return labels


def labels_on_grid(xs: np.ndarray, ys: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """Structure ids on the grid of increasing axes `xs`, `ys`, `zs` (mm), indexed (z, y, x):
    `labels_at` on every grid point, painting only each blob's box."""
    labels = np.zeros((zs.size, ys.size, xs.size), dtype=np.uint32)
    for blob in BLOBS:
        rx, ry, rz = blob.radii
        for cx, cy, cz in _centres(blob):
            spans = [
                slice(*np.searchsorted(axis, (c - r, c + r), side="right"))
                for axis, c, r in ((zs, cz, rz), (ys, cy, ry), (xs, cx, rx))
            ]
            cw = ((zs[spans[0]] - cz) / rz)[:, None, None]
            cv = ((ys[spans[1]] - cy) / ry)[None, :, None]
            cu = ((xs[spans[2]] - cx) / rx)[None, None, :]
            inside = (np.abs(cw) < 1) & (np.abs(cv) < 1) & (np.abs(cu) < 1)
            keep = inside & _kept(blob, _radius(blob, cu, cv, cw), ys[spans[1]][None, :, None])
            labels[tuple(spans)][keep] = _label(blob)
    return labels
