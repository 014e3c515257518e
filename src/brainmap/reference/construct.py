"""Alignments known by construction, for synthetic data whose registration is exact (the demo's
phantom, tests): a data set of sections of one plane, tilted against the reference planes, and
sections turned and scaled within their plane.

Untilted, a data set's volume is the reference space itself with its axes renamed: volume x runs
along the plane's grid columns, y along its rows and the depth along the normal (coronal: x = r,
y = i, depth = p), so section ``n`` of thickness ``t`` lies at ``n * t`` µm along the normal.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from brainmap.reference.alignment import DataSetAlignment, Matrix, SectionAlignment
from brainmap.reference.planes import plane_axes


def rotation(degrees: ArrayLike) -> Matrix:
    """Rotations about the p, i and r axes (in that order, angles in degrees), as one 3x3."""
    out = np.eye(3)
    for axis, angle in enumerate(np.radians(np.asarray(degrees, dtype=np.float64))):
        a, b = (k for k in range(3) if k != axis)
        turn = np.eye(3)
        turn[a, a] = turn[b, b] = np.cos(angle)
        turn[a, b], turn[b, a] = -np.sin(angle), np.sin(angle)
        out = turn @ out
    return out


def tilted_data_set(
    plane: str,
    thickness_um: float,
    tilt_degrees: ArrayLike = (0.0, 0.0, 0.0),
    pivot_um: ArrayLike = (0.0, 0.0, 0.0),
) -> DataSetAlignment:
    """A data set of `plane` sections, its volume turned by `tilt_degrees` about `pivot_um`
    (a reference point that stays where it is)."""
    normal, row_axis, col_axis = plane_axes(plane)
    rename = np.zeros((3, 3))
    rename[col_axis, 0] = rename[row_axis, 1] = rename[normal, 2] = 1.0
    turn = rotation(tilt_degrees)
    pivot = np.asarray(pivot_um, dtype=np.float64)
    tvr = np.eye(4)
    tvr[:3, :3] = turn @ rename
    tvr[:3, 3] = pivot - turn @ pivot
    return DataSetAlignment(tvr, np.linalg.inv(tvr).astype(np.float64), thickness_um)


def turned_section(
    section_number: float,
    pixel_um: float,
    turn_degrees: float = 0.0,
    at_pixel: ArrayLike = (0.0, 0.0),
    at_volume_um: ArrayLike = (0.0, 0.0),
) -> SectionAlignment:
    """A section whose pixels are `pixel_um` apart, turned by `turn_degrees` within its plane,
    with full-resolution pixel `at_pixel` at volume point `at_volume_um` (x, y)."""
    if not pixel_um > 0:
        raise ValueError(f"pixel size must be above 0 µm, not {pixel_um}")
    angle = np.radians(turn_degrees)
    linear = pixel_um * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tsv = np.eye(4)
    tsv[:2, :2] = linear
    tsv[:2, 3] = np.asarray(at_volume_um, dtype=np.float64) - linear @ np.asarray(at_pixel)
    tvs = np.linalg.inv(tsv).astype(np.float64)
    return SectionAlignment(tsv, tvs, float(section_number))
