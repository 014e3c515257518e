"""Plates cut from a reference volume, placed like sections: the Alignment2d/Alignment3d records
that make the image-sync maths land a plate pixel in the voxel it was cut from.

A plate of `plane` at index ``k`` along the plane's normal is the volume's plane ``k`` with the
grid's axes as rows and columns (as in `warp`: coronal i x r, sagittal p x i, horizontal p x r),
drawn ``u`` pixels per voxel: pixel ``(x, y)`` is centred on voxel coordinate
``((x + 0.5) / u - 0.5, (y + 0.5) / u - 0.5)``, so each voxel is a ``u x u`` block of pixels.
Its section number is ``k`` and its data set's section thickness the voxel size along the
normal, so ``s = k * thickness`` is the plane's position in µm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brainmap.reference.alignment import section_fields, volume_fields
from brainmap.reference.construct import tilted_data_set
from brainmap.reference.planes import plane_axes


@dataclass(frozen=True)
class PlateGeometry:
    """Where a plate lies: its size in pixels and the records a section would carry."""

    plane: str
    index: int
    width: int
    height: int
    section_thickness: float
    alignment2d: dict[str, float]
    alignment3d: dict[str, float]


def plate_geometry(
    plane: str,
    index: int,
    shape: tuple[int, int, int],
    resolution_um: tuple[float, float, float],
    pixels_per_voxel: int = 1,
) -> PlateGeometry:
    """The plate at `index` along `plane`'s normal of a volume of `shape` (p, i, r) voxels."""
    normal, row_axis, col_axis = plane_axes(plane)
    if not 0 <= index < shape[normal]:
        raise ValueError(f"plate {index} is outside the volume's {shape[normal]} {plane} planes")
    if pixels_per_voxel < 1:
        raise ValueError(f"pixels per voxel must be 1 or more, not {pixels_per_voxel}")
    u = pixels_per_voxel
    col_um, row_um = resolution_um[col_axis], resolution_um[row_axis]
    # Section pixels -> volume (x, y) in µm along the grid's columns and rows.
    shift = 0.5 / u - 0.5
    tsv = np.array([[col_um / u, 0.0, col_um * shift], [0.0, row_um / u, row_um * shift]])
    tvs = np.array([[u / col_um, 0.0, -u * shift], [0.0, u / row_um, -u * shift]])
    # Volume (x, y, depth) -> reference (p, i, r): the axes renamed.
    volume = tilted_data_set(plane, resolution_um[normal])
    return PlateGeometry(
        plane,
        index,
        width=shape[col_axis] * u,
        height=shape[row_axis] * u,
        section_thickness=volume.section_thickness,
        alignment2d=section_fields(tsv, tvs),
        alignment3d=volume_fields(volume.to_reference, volume.from_reference),
    )


def plate_indices(
    plane: str,
    shape: tuple[int, int, int],
    resolution_um: tuple[float, float, float],
    every_um: float,
) -> list[int]:
    """The planes to cut along `plane`'s normal every `every_um` µm from the first (nearest
    plane to each multiple); `every_um` must be at least the voxel size along the normal."""
    normal, _, _ = plane_axes(plane)
    step = resolution_um[normal]
    if not (math.isfinite(every_um) and every_um >= step * (1 - 1e-9)):
        raise ValueError(f"plates must be at least one voxel ({step} µm) apart, not {every_um} µm")
    count = math.floor((shape[normal] - 1) * step / every_um + 1e-9) + 1
    return [math.floor(k * every_um / step + 0.5) for k in range(count)]
