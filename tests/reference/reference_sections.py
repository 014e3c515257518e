"""Sections cut from synthetic volumes through planes known by construction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from brainmap.reference.alignment import DataSetAlignment, SectionAlignment, image_to_reference
from brainmap.reference.construct import tilted_data_set, turned_section
from brainmap.reference.planes import plane_axes

THICKNESS = 25.0


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
    """A section of `plane` whose image centre lies at `centre_um` (a multiple of the thickness
    along the normal), turned in its plane and tilted about its centre."""
    normal, row_axis, col_axis = plane_axes(plane)
    number = centre_um[normal] / THICKNESS
    assert number == int(number)
    width, height = size
    section = turned_section(
        number,
        pixel_um,
        turn_degrees,
        at_pixel=((width - 1) / 2, (height - 1) / 2),
        at_volume_um=(centre_um[col_axis], centre_um[row_axis]),
    )
    data_set = tilted_data_set(plane, THICKNESS, tilt_degrees, pivot_um=centre_um)
    return Cut(section, data_set, width, height)
