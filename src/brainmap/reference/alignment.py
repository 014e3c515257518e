"""The alignment maths: section image pixels <-> 3-D reference space (µm), vectorised, float64.

A section image maps to its data set's *volume* by its Alignment2d (``tsv``, back ``tvs``: 2x3),
the volume to the reference space by the data set's Alignment3d (``tvr``, back ``trv``: 3x4).
A pixel ``(x, y)`` of the section numbered ``n`` in a data set cut ``t`` µm thick sits at volume
depth ``s = n * t``. Lifted to 4x4 (`lift_section`, `lift_volume`):

    [p, i, r, 1] = tvr · L(tsv) · [x, y, s, 1]        (image -> reference)
    [x, y, s', 1] = L(tvs) · trv · [p, i, r, 1]       (reference -> image; s' / t is fractional)

Points are arrays of shape (N, 2) (pixels) or (N, 3) (µm, in (p, i, r) order); a single point
may be given as a flat pair or triple. Facts: registration.md §2-3; rules: DECISIONS.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Matrix = NDArray[np.float64]
Points = NDArray[np.float64]

# Record field order of the matrices' cells, row-major (registration.md §2).
SECTION_FIELDS = ((0, 1, 4), (2, 3, 5))
VOLUME_FIELDS = ((0, 1, 2, 9), (3, 4, 5, 10), (6, 7, 8, 11))


def _field(record: object, name: str, kind: str) -> float:
    """One finite number of a record given as a mapping or an object with attributes."""
    value = record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)
    ident = record.get("id") if isinstance(record, Mapping) else getattr(record, "id", None)
    label = f"{kind} {ident}" if ident is not None else kind
    if value is None:
        raise ValueError(f"{label}: {name} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{label}: {name} is not a number: {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{label}: {name} is not finite: {value!r}")
    return number


def _matrix(record: object, prefix: str, layout: tuple[tuple[int, ...], ...], kind: str) -> Matrix:
    rows = [[_field(record, f"{prefix}_{cell:02d}", kind) for cell in row] for row in layout]
    return np.array(rows, dtype=np.float64)


def section_matrix(record: object, prefix: Literal["tsv", "tvs"]) -> Matrix:
    """The 2x3 matrix ``[[t00, t01, t04], [t02, t03, t05]]`` of an Alignment2d record."""
    return _matrix(record, prefix, SECTION_FIELDS, "Alignment2d")


def volume_matrix(record: object, prefix: Literal["tvr", "trv"]) -> Matrix:
    """The 3x4 matrix of an Alignment3d record (linear part row-major, translation last)."""
    return _matrix(record, prefix, VOLUME_FIELDS, "Alignment3d")


def _fields(matrix: Matrix, prefix: str, layout: tuple[tuple[int, ...], ...]) -> dict[str, float]:
    return {
        f"{prefix}_{cell:02d}": float(matrix[row, col])
        for row, cells in enumerate(layout)
        for col, cell in enumerate(cells)
    }


def section_fields(tsv: ArrayLike, tvs: ArrayLike) -> dict[str, float]:
    """An Alignment2d record's ``tsv_*`` and ``tvs_*`` fields from two 2x3 (or lifted 4x4)."""

    def flat(matrix: ArrayLike) -> Matrix:
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape == (4, 4):
            return np.delete(m[:2], 2, axis=1)
        return lift_section(m)[:2][:, [0, 1, 3]]  # checks the shape

    return _fields(flat(tsv), "tsv", SECTION_FIELDS) | _fields(flat(tvs), "tvs", SECTION_FIELDS)


def volume_fields(tvr: ArrayLike, trv: ArrayLike) -> dict[str, float]:
    """An Alignment3d record's ``tvr_*`` and ``trv_*`` fields from two 3x4 (or 4x4) matrices."""
    forward, back = (np.asarray(m, dtype=np.float64)[:3] for m in (tvr, trv))
    return _fields(forward, "tvr", VOLUME_FIELDS) | _fields(back, "trv", VOLUME_FIELDS)


def lift_section(matrix: ArrayLike) -> Matrix:
    """A 2x3 section matrix as a 4x4 that passes the volume depth (third coordinate) through."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 3):
        raise ValueError(f"a section matrix is 2x3, not {m.shape}")
    lifted = np.eye(4)
    lifted[:2, :2] = m[:, :2]
    lifted[:2, 3] = m[:, 2]
    return lifted


def lift_volume(matrix: ArrayLike) -> Matrix:
    """A 3x4 volume matrix as a 4x4 (the row ``[0, 0, 0, 1]`` appended)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (3, 4):
        raise ValueError(f"a volume matrix is 3x4, not {m.shape}")
    return np.vstack([m, [0.0, 0.0, 0.0, 1.0]])


def apply(matrix: Matrix, points: Points) -> Points:
    """Apply a 4x4 affine to points of shape (N, 3)."""
    out: Points = points @ matrix[:3, :3].T + matrix[:3, 3]
    return out


def as_points(values: ArrayLike, width: int) -> Points:
    """Points as a float64 array (N, width); a flat pair or triple is one point."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"points must have shape (N, {width}), not {np.shape(values)}")
    if not np.isfinite(array).all():
        raise ValueError("points must be finite numbers")
    return array


def _number(value: object, name: str) -> float:
    """A finite number given beside a record (a section number, a thickness)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if not np.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class SectionAlignment:
    """A section image's Alignment2d, lifted: ``to_volume = L(tsv)``, ``from_volume = L(tvs)``."""

    to_volume: Matrix
    from_volume: Matrix
    section_number: float

    @classmethod
    def from_record(cls, record: object, section_number: float) -> SectionAlignment:
        """From an Alignment2d record (a mapping or an object with ``tsv_00``... attributes)."""
        tsv = lift_section(section_matrix(record, "tsv"))
        tvs = lift_section(section_matrix(record, "tvs"))
        return cls(tsv, tvs, _number(section_number, "section_number"))


@dataclass(frozen=True)
class DataSetAlignment:
    """A data set's Alignment3d as 4x4s and its section thickness (µm)."""

    to_reference: Matrix
    from_reference: Matrix
    section_thickness: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.section_thickness) and self.section_thickness > 0):
            raise ValueError(f"section_thickness must be above 0, not {self.section_thickness}")

    @classmethod
    def from_record(cls, record: object, section_thickness: float) -> DataSetAlignment:
        """From an Alignment3d record (a mapping or an object with ``tvr_00``... attributes)."""
        tvr = lift_volume(volume_matrix(record, "tvr"))
        trv = lift_volume(volume_matrix(record, "trv"))
        return cls(tvr, trv, _number(section_thickness, "section_thickness"))


def image_to_reference_matrix(section: SectionAlignment, data_set: DataSetAlignment) -> Matrix:
    """``tvr · L(tsv)``: maps ``[x, y, s, 1]`` of this section to ``[p, i, r, 1]``."""
    return data_set.to_reference @ section.to_volume


def reference_to_image_matrix(section: SectionAlignment, data_set: DataSetAlignment) -> Matrix:
    """``L(tvs) · trv``: maps ``[p, i, r, 1]`` to ``[x, y, s', 1]`` of this section."""
    return section.from_volume @ data_set.from_reference


def image_to_reference(
    section: SectionAlignment, data_set: DataSetAlignment, xy: ArrayLike
) -> Points:
    """Full-resolution pixels (N, 2) of a section -> reference points (N, 3) in µm (p, i, r)."""
    pixels = as_points(xy, 2)
    depth = section.section_number * data_set.section_thickness
    homogeneous = np.column_stack([pixels, np.full(len(pixels), depth)])
    return apply(image_to_reference_matrix(section, data_set), homogeneous)


def reference_to_section(
    section: SectionAlignment, data_set: DataSetAlignment, pir: ArrayLike
) -> Points:
    """Reference points (N, 3) -> ``(x, y, fractional section number)`` by this section's tvs."""
    out = apply(reference_to_image_matrix(section, data_set), as_points(pir, 3))
    out[:, 2] /= data_set.section_thickness
    return out


def nearest_sections(section_numbers: ArrayLike, fractional: ArrayLike) -> NDArray[np.intp]:
    """Index into `section_numbers` of the nearest to each fractional number; ties go lower."""
    numbers = np.asarray(section_numbers, dtype=np.float64).ravel()
    targets = np.asarray(fractional, dtype=np.float64)
    if numbers.size == 0:
        raise ValueError("no sections to choose from")
    if not (np.isfinite(numbers).all() and np.isfinite(targets).all()):
        raise ValueError("section numbers must be finite")
    order = np.argsort(numbers, kind="stable")
    ranked = numbers[order]
    above = np.clip(np.searchsorted(ranked, targets, side="left"), 0, ranked.size - 1)
    below = np.clip(above - 1, 0, ranked.size - 1)
    # searchsorted(side="left") finds the first of equal numbers; step back past duplicates so a
    # tie between equal section numbers keeps the first listed.
    below = np.searchsorted(ranked, ranked[below], side="left")
    take_above = np.abs(ranked[above] - targets) < np.abs(targets - ranked[below])
    return order[np.where(take_above, above, below)]


@dataclass(frozen=True)
class ImagePoints:
    """Points found on a data set's images: which image (index into the sections given), its
    section number, the pixel there (not clipped to the image) and the fractional section."""

    index: NDArray[np.intp]
    section_number: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    fractional: NDArray[np.float64]


def reference_to_image(
    data_set: DataSetAlignment, sections: Sequence[SectionAlignment], pir: ArrayLike
) -> ImagePoints:
    """Reference points (N, 3) -> the nearest section of the data set and the pixel on it."""
    volume = apply(data_set.from_reference, as_points(pir, 3))
    fractional = volume[:, 2] / data_set.section_thickness
    numbers = np.array([section.section_number for section in sections], dtype=np.float64)
    index = nearest_sections(numbers, fractional)
    tvs = np.stack([section.from_volume for section in sections])[index]
    x = tvs[:, 0, 0] * volume[:, 0] + tvs[:, 0, 1] * volume[:, 1] + tvs[:, 0, 3]
    y = tvs[:, 1, 0] * volume[:, 0] + tvs[:, 1, 1] * volume[:, 1] + tvs[:, 1, 3]
    return ImagePoints(index, numbers[index], x, y, fractional)


def image_to_image(
    source: SectionAlignment,
    source_set: DataSetAlignment,
    target_set: DataSetAlignment,
    target_sections: Sequence[SectionAlignment],
    xy: ArrayLike,
) -> ImagePoints:
    """Pixels of one section -> the nearest section of another data set, via the reference."""
    pir = image_to_reference(source, source_set, xy)
    return reference_to_image(target_set, target_sections, pir)


def image_to_image_2d(source: SectionAlignment, target: SectionAlignment, xy: ArrayLike) -> Points:
    """Pixels (N, 2) of one section -> pixels of another by ``tvs_target · tsv_source`` only."""
    pixels = as_points(xy, 2)
    both = target.from_volume @ source.to_volume
    out: Points = pixels @ both[:2, :2].T + both[:2, 3]
    return out


def pixel_size_um(section: SectionAlignment, data_set: DataSetAlignment) -> tuple[float, float]:
    """µm in the reference space of one full-resolution pixel step along x and along y."""
    linear = image_to_reference_matrix(section, data_set)[:3, :2]
    size_x, size_y = np.linalg.norm(linear, axis=0)
    return float(size_x), float(size_y)
