"""The phantom in a reference space: where its brain lies in (p, i, r) µm, and the alignments,
known by construction, of data sets cut through tilted planes and sections turned within them.

The phantom's brain coordinates (mm: ``x`` medio-lateral, ``y`` dorso-ventral, ``z``
antero-posterior) sit in the reference space at ``p = z + 0.6``, ``i = y + 0.6``, ``r = x + 5.7``
(mm), which puts the whole brain inside the CCF's 13.2 x 8 x 11.4 mm extent. A data set is
tilted about the brain's centre (:func:`~brainmap.reference.construct.tilted_data_set`); its
sections are numbered by their position along the normal and turned about their image centre
(:func:`~brainmap.reference.construct.turned_section`). The pixels are then cut through exactly
those planes (:func:`brain_points`), so warping a section by its records gives back the
phantom's own plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainmap.demo.phantom_anatomy import FIELDS, Plane
from brainmap.reference.alignment import DataSetAlignment, SectionAlignment, image_to_reference
from brainmap.reference.construct import tilted_data_set, turned_section

REFERENCE_SPACE_ID = 9
OFFSET_MM = np.array([0.6, 0.6, 5.7])
"""Reference (p, i, r) minus brain (z, y, x), in mm."""
PIVOT_UM = (6600.0, 3850.0, 5700.0)
"""The centre of both fields of view, in (p, i, r) µm: data sets are tilted about it."""
PLANE_NAMES = {Plane.CORONAL: "coronal", Plane.SAGITTAL: "sagittal"}
NORMAL = {Plane.CORONAL: 0, Plane.SAGITTAL: 2}
"""The reference axis along each plane's normal."""
_SWAP = np.array([[0.0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


def brain_mm(pir_um: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference points (N, 3) in µm as brain coordinates ``(x, y, z)`` in mm."""
    p, i, r = (np.asarray(pir_um, dtype=np.float64) / 1000.0 - OFFSET_MM).T
    return r, i, p


def data_set_alignment(
    plane: Plane, thickness_um: float, tilt_degrees: tuple[float, float, float]
) -> DataSetAlignment:
    """A data set cut in `plane`, turned by `tilt_degrees` about the p, i and r axes around the
    brain's centre. Its volume's x runs along the images' columns: r for coronal, p for
    sagittal (whose images lie on their side, anterior to the left)."""
    tilted = tilted_data_set(PLANE_NAMES[plane], thickness_um, tilt_degrees, PIVOT_UM)
    if plane is Plane.CORONAL:
        return tilted
    forward = tilted.to_reference @ _SWAP
    return DataSetAlignment(forward, np.linalg.inv(forward), thickness_um)


def _field_centre_um(plane: Plane) -> tuple[float, float]:
    """The volume (x, y) in µm of the centre of the plane's field of view."""
    p, i, r = PIVOT_UM
    return (r, i) if plane is Plane.CORONAL else (p, i)


@dataclass(frozen=True, eq=False)
class Placement:
    """A section image's size, pixel size (mm) and alignments."""

    width: int
    height: int
    step: float
    section: SectionAlignment
    data_set: DataSetAlignment

    @property
    def section_number(self) -> int:
        return round(self.section.section_number)


def place(
    plane: Plane,
    data_set: DataSetAlignment,
    depth_mm: float,
    size: tuple[int, int],
    turn_degrees: float,
) -> Placement:
    """The section of a data set nearest `depth_mm` along the normal (brain ``z`` for coronal,
    ``x`` for sagittal), `size` pixels spanning the plane's field of view, turned in its plane."""
    width, height = size
    step = FIELDS[plane].width / width
    along = (depth_mm + OFFSET_MM[NORMAL[plane]]) * 1000.0
    number = round(along / data_set.section_thickness)
    section = turned_section(
        number,
        step * 1000.0,
        turn_degrees,
        at_pixel=((width - 1) / 2, (height - 1) / 2),
        at_volume_um=_field_centre_um(plane),
    )
    return Placement(width, height, step, section, data_set)


def brain_points(
    placement: Placement, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where full-resolution pixels (`x`, `y`: arrays of one shape) of a placed section lie in
    the brain (mm), each coordinate shaped as `x`."""
    pixels = np.column_stack([np.ravel(x), np.ravel(y)])
    points = image_to_reference(placement.section, placement.data_set, pixels)
    bx, by, bz = brain_mm(points)
    shape = np.shape(x)
    return bx.reshape(shape), by.reshape(shape), bz.reshape(shape)
