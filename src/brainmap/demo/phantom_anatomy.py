"""The phantom brain: a 3-D arrangement of ellipsoids, cut into coronal or sagittal label maps.

Coordinates are millimetres: ``x`` medio-lateral (0 = midline, right positive), ``y``
dorso-ventral (0 = top of the brain), ``z`` antero-posterior (0 = tip of the olfactory bulb).
Every image of the demo store (Nissl plates, ISH, connectivity) is rendered from these label
maps, so stain, annotation and expression always agree.
"""

from __future__ import annotations

import math
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


def _paint(
    labels: np.ndarray, blob: Blob, plane: Plane, u: np.ndarray, v: np.ndarray, depth: float
) -> None:
    """Paint one ellipsoid's cut at `depth` into `labels` (pixel centres at `u`, `v`)."""
    cx, cy, cz = blob.center
    rx, ry, rz = blob.radii
    label = BY_ACRONYM[blob.acronym].id if blob.acronym else 0
    for x0 in (cx, -cx) if blob.mirror else (cx,):
        if plane is Plane.CORONAL:
            du, ru, dw = u - x0, rx, (depth - cz) / rz
        else:
            du, ru, dw = u - cz, rz, (depth - x0) / rx
        if abs(dw) >= 1.0:
            continue
        reach = (1.0 - abs(dw) ** blob.power) ** (1.0 / blob.power)
        columns = np.flatnonzero(np.abs(du) < ru * reach)
        rows = np.flatnonzero(np.abs(v - cy) < ry * reach)
        if columns.size == 0 or rows.size == 0:
            continue
        cu = (du[columns] / ru)[None, :]
        cv = ((v[rows] - cy) / ry)[:, None]
        power = blob.power
        radius = (np.abs(cu) ** power + np.abs(cv) ** power + abs(dw) ** power) ** (1.0 / power)
        if blob.folia:
            along = dw if plane is Plane.CORONAL else cu
            radius = radius * (
                1.0 + blob.folia * (1.0 - np.abs(np.sin(6.0 * np.arctan2(cv, along))))
            )
        ys = v[rows][:, None]
        keep = (radius >= blob.shell[0]) & (radius < blob.shell[1])
        keep &= (ys < blob.above) & (ys >= blob.below)
        window = labels[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
        window[keep] = label


def section_labels(plane: Plane, depth: float, columns: int, rows: int, step: float) -> np.ndarray:
    """Structure ids (uint32, 0 outside the brain) of the cut at `depth` mm.

    `depth` is ``z`` for a coronal cut and ``x`` for a sagittal one. The grid has `columns` x
    `rows` pixels of `step` mm from the top-left corner of the plane's :data:`FIELDS` window.
    """
    u, v = _axes(plane, columns, rows, step)
    labels = np.zeros((rows, columns), dtype=np.uint32)
    for blob in BLOBS:
        _paint(labels, blob, plane, u, v, depth)
    return labels


def section_points(
    plane: Plane, depth: float, columns: int, rows: int, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brain coordinates ``(x, y, z)`` in mm of the pixel centres of the same grid."""
    u, v = _axes(plane, columns, rows, step)
    across, down = np.meshgrid(u, v)
    fixed = np.full_like(across, depth)
    if plane is Plane.CORONAL:
        return across, down, fixed
    return fixed, down, across


def _axes(plane: Plane, columns: int, rows: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    window = FIELDS[plane]
    u = window.left + (np.arange(columns) + 0.5) * step
    v = window.top + (np.arange(rows) + 0.5) * step
    return u, v
