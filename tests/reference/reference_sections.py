"""Sections cut from synthetic volumes through planes known by construction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    lift_section,
)
from brainmap.reference.planes import PLANES, plane_axes

THICKNESS = 25.0
SECTION_NUMBER = 37


def rotation(degrees: tuple[float, float, float]) -> np.ndarray:
    """Rotations about the p, i and r axes, in that order."""
    out = np.eye(3)
    for axis, angle in enumerate(np.radians(degrees)):
        a, b = [k for k in range(3) if k != axis]
        turn = np.eye(3)
        turn[a, a] = turn[b, b] = np.cos(angle)
        turn[a, b], turn[b, a] = -np.sin(angle), np.sin(angle)
        out = turn @ out
    return out


@dataclass(frozen=True)
class Cut:
    """A section's alignments and its full-resolution size (width, height)."""

    section: SectionAlignment
    data_set: DataSetAlignment
    width: int
    height: int

    def centres(self, downsample: int) -> np.ndarray:
        """Full-resolution (x, y) of the pixel centres of the image at a downsample, (H, W, 2)."""
        scale = 1 << downsample
        rows, cols = self.height // scale, self.width // scale
        y, x = np.mgrid[0:rows, 0:cols].astype(np.float64) * scale + (scale - 1) / 2
        return np.stack([x, y], axis=-1)

    def image(self, field: Callable[[np.ndarray], np.ndarray], downsample: int) -> np.ndarray:
        """The section image at a downsample: `field` of the (N, 3) reference points."""
        centres = self.centres(downsample)
        points = image_to_reference(self.section, self.data_set, centres.reshape(-1, 2))
        return field(points).reshape(centres.shape[:2])


def cut(
    plane: str,
    centre_um: tuple[float, float, float],
    tilt_degrees: tuple[float, float, float] = (0, 0, 0),
    pixel_um: float = 5.0,
    size: tuple[int, int] = (360, 320),
    turn_degrees: float = 7.0,
) -> Cut:
    """A section of `plane` whose image centre lies at `centre_um`; image x runs along the grid's
    columns and y along its rows before the in-plane turn and the tilt."""
    normal, row_axis, col_axis = plane_axes(plane)
    assert PLANES[plane] == normal
    angle = np.radians(turn_degrees)
    tsv = np.array(
        [
            [pixel_um * np.cos(angle), -pixel_um * np.sin(angle), 0.0],
            [pixel_um * np.sin(angle), pixel_um * np.cos(angle), 0.0],
            [0.0, 0.0, 1.0],
        ]
    )
    stack = np.zeros((3, 3))  # volume (x, y, depth) -> reference (col axis, row axis, normal)
    stack[col_axis, 0] = stack[row_axis, 1] = stack[normal, 2] = 1.0
    linear = rotation(tilt_degrees) @ stack
    width, height = size
    centre_volume = tsv @ np.array([(width - 1) / 2, (height - 1) / 2, 1.0])
    centre_volume[2] = SECTION_NUMBER * THICKNESS
    tvr = np.eye(4)
    tvr[:3, :3] = linear
    tvr[:3, 3] = np.asarray(centre_um) - linear @ centre_volume
    section = SectionAlignment(
        lift_section(tsv[:2]), lift_section(np.linalg.inv(tsv)[:2]), SECTION_NUMBER
    )
    data_set = DataSetAlignment(tvr, np.linalg.inv(tvr), THICKNESS)
    return Cut(section, data_set, width, height)
