"""Whole-section warping onto the reference grid of a plane, with the full 3-D transform.

The grid of a plane covers the two reference axes other than the plane's normal (coronal: i, r;
horizontal: p, r; sagittal: p, i; in (p, i, r) order), grid point ``(row, col)`` at
``origin + (row, col) * spacing`` µm. A section is a plane in the reference space; each grid
point takes the section's pixel lying on the line through it along the normal, found with the
section's own reference -> image matrices. The section's position along the normal therefore
varies over the grid when the section is tilted (`SectionPlane.depth_um`), where atldld's
parallel simplification keeps one position and samples the image off the section's plane.

Both maps are affine, so a whole section is one affine resampling (OpenCV's warpAffine for
linear interpolation, a numpy gather for nearest). Pixel ``k`` of an image at downsample ``d``
is centred on full-resolution coordinate ``k * 2**d + (2**d - 1) / 2`` (the centre of the box of
full-resolution pixels it averages). Conventions: docs/registration.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from brainmap.reference.alignment import (
    DataSetAlignment,
    Matrix,
    SectionAlignment,
    pixel_size_um,
    reference_to_image_matrix,
)
from brainmap.reference.planes import AXES, CCF_EXTENT_UM, PLANES, plane_axes

LINEAR_DTYPES = (np.uint8, np.uint16, np.int16, np.float32, np.float64)
MAX_CV_CHANNELS = 4
MAX_CV_SIDE = 32766  # OpenCV's remapping takes images and outputs under 32767 pixels a side


@dataclass(frozen=True)
class ReferenceGrid:
    """The reference grid of a plane: ``shape`` points ``spacing_um`` apart from ``origin_um``."""

    plane: str
    shape: tuple[int, int]
    spacing_um: float
    origin_um: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def of(
        cls,
        plane: str,
        resolution_um: float,
        extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
    ) -> ReferenceGrid:
        """The grid covering a reference space's extent at one resolution (points at k * res)."""
        if not (math.isfinite(resolution_um) and resolution_um > 0):
            raise ValueError(f"resolution must be above 0 µm, not {resolution_um}")
        _, rows, cols = plane_axes(plane)
        shape = tuple(math.floor(extent_um[axis] / resolution_um + 1e-9) for axis in (rows, cols))
        if min(shape) < 1:
            raise ValueError(f"a {resolution_um} µm grid does not fit in {extent_um} µm")
        if max(shape) > MAX_CV_SIDE:
            raise ValueError(
                f"a {resolution_um} µm grid is {shape[0]} x {shape[1]} points; warping makes at"
                f" most {MAX_CV_SIDE} a side: choose a coarser resolution"
            )
        return cls(plane, (shape[0], shape[1]), float(resolution_um))

    @property
    def axes(self) -> tuple[str, str]:
        """The reference axes of the grid's rows and columns, e.g. ("i", "r") for coronal."""
        _, rows, cols = plane_axes(self.plane)
        return AXES[rows], AXES[cols]

    @property
    def normal(self) -> str:
        return AXES[PLANES[self.plane]]


@dataclass(frozen=True)
class SectionPlane:
    """Where a section lies on a grid: grid ``(row, col, 1)`` -> the section's full-resolution
    pixel (`to_pixels`, 2x3) and its position along the normal in µm (`to_depth`, 3)."""

    grid: ReferenceGrid
    to_pixels: Matrix
    to_depth: NDArray[np.float64]

    def depth_um(self) -> NDArray[np.float64]:
        """The section's position along the normal at every grid point (µm)."""
        rows, cols = self.grid.shape
        a, b, c = self.to_depth
        out: NDArray[np.float64] = (
            a * np.arange(rows, dtype=np.float64)[:, np.newaxis]
            + b * np.arange(cols, dtype=np.float64)
            + c
        )
        return out

    def depth_at_pixel(self, x: float, y: float) -> float:
        """The position along the normal (µm) of the section's full-resolution pixel (x, y)."""
        linear = self.to_pixels[:, :2]
        row, col = np.linalg.solve(linear, np.array([x, y]) - self.to_pixels[:, 2])
        return float(self.to_depth @ np.array([row, col, 1.0]))


def section_plane(
    section: SectionAlignment, data_set: DataSetAlignment, grid: ReferenceGrid
) -> SectionPlane:
    """The section's place on a grid, by its reference -> image matrices (``L(tvs) · trv``)."""
    normal, row_axis, col_axis = plane_axes(grid.plane)
    to_image = reference_to_image_matrix(section, data_set)
    depth_row = to_image[2]
    if abs(depth_row[normal]) <= 1e-9 * float(np.abs(depth_row[:3]).max()):
        raise ValueError(f"the section is perpendicular to the {grid.plane} plane")
    depth = section.section_number * data_set.section_thickness
    # The section is where the volume depth s' equals its own: solve for the normal coordinate.
    along = -depth_row[[row_axis, col_axis]] / depth_row[normal]
    offset = (depth - depth_row[3]) / depth_row[normal]
    # The normal coordinate as an affine function of the grid's (row, col).
    spacing, (row0, col0) = grid.spacing_um, grid.origin_um
    to_depth = np.array(
        [along[0] * spacing, along[1] * spacing, offset + along[0] * row0 + along[1] * col0]
    )
    # Reference (normal, row axis, col axis) -> pixel, with the normal substituted.
    xy = to_image[:2]
    to_pixels = np.column_stack(
        [
            xy[:, normal] * to_depth[0] + xy[:, row_axis] * spacing,
            xy[:, normal] * to_depth[1] + xy[:, col_axis] * spacing,
            xy[:, normal] * to_depth[2]
            + xy[:, row_axis] * row0
            + xy[:, col_axis] * col0
            + xy[:, 3],
        ]
    )
    return SectionPlane(grid, to_pixels, to_depth)


@dataclass(frozen=True)
class WarpedSection:
    """A section resampled onto a grid: ``pixels`` (rows, cols[, channels]), the section's
    position along the normal at the image's centre (µm; `plane` gives it at every grid point),
    and per grid row the first and last column inside the image (last < first: none)."""

    pixels: NDArray[np.generic]
    plane: SectionPlane
    position_um: float
    row_first: NDArray[np.intp]
    row_last: NDArray[np.intp]

    @property
    def grid(self) -> ReferenceGrid:
        return self.plane.grid

    @cached_property
    def valid(self) -> NDArray[np.bool_]:
        """True where the grid point falls inside the image (elsewhere the pixels are fill)."""
        cols = np.arange(self.grid.shape[1])
        inside: NDArray[np.bool_] = (cols >= self.row_first[:, np.newaxis]) & (
            cols <= self.row_last[:, np.newaxis]
        )
        return inside


def _image_matrix(plane: SectionPlane, downsample: int) -> Matrix:
    """Grid (row, col, 1) -> the image's (x, y) = (column, row) at a downsample."""
    scale = float(1 << downsample)
    pixels = plane.to_pixels / scale
    pixels[:, 2] -= (scale - 1) / (2 * scale)
    return pixels


def _column_bounds(
    matrix: Matrix, shape: tuple[int, int], height: int, width: int, margin: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per grid row, the first and last grid column whose image point lies in
    ``[-margin, width - 1 + margin] x [-margin, height - 1 + margin]`` (last < first: none)."""
    rows = np.arange(shape[0], dtype=np.float64)
    first = np.zeros(shape[0])
    last = np.full(shape[0], shape[1] - 1.0)
    for axis, size in ((0, width), (1, height)):
        base = matrix[axis, 0] * rows + matrix[axis, 2]
        low, high = -margin, size - 1 + margin
        slope = matrix[axis, 1]
        if slope == 0:
            last = np.where((base >= low) & (base <= high), last, -1.0)
            continue
        at_low, at_high = (low - base) / slope, (high - base) / slope
        first = np.maximum(first, np.minimum(at_low, at_high))
        last = np.minimum(last, np.maximum(at_low, at_high))
    return np.ceil(first).astype(np.intp), np.floor(last).astype(np.intp)


def _segments(
    rows: NDArray[np.intp], starts: NDArray[np.intp], stops: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Row and column indices of the half-open column ranges ``[start, stop)`` of each row."""
    counts = np.maximum(stops - starts, 0)
    before = np.repeat(np.cumsum(counts) - counts, counts)
    cols = np.repeat(starts, counts) + np.arange(int(counts.sum())) - before
    return np.repeat(rows, counts), cols


def _edge_band(
    bounds: tuple[NDArray[np.intp], NDArray[np.intp]],
    matrix: Matrix,
    shape: tuple[int, int],
    height: int,
    width: int,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The grid points outside the image `bounds` but within one pixel of it (where bilinear
    interpolation blends in the border)."""
    first, last = bounds
    near_first, near_last = _column_bounds(matrix, shape, height, width, 1.0)
    empty = last < first
    rows = np.arange(shape[0])
    left = _segments(rows, near_first, np.where(empty, near_last + 1, first))
    right = _segments(rows, np.where(empty, near_last + 1, last + 1), near_last + 1)
    return np.concatenate([left[0], right[0]]), np.concatenate([left[1], right[1]])


def _linear(
    image: NDArray[np.generic], matrix: Matrix, shape: tuple[int, int], fill: float
) -> NDArray[np.generic]:
    # warpAffine's inverse map takes (x = col, y = row) of the output to (x, y) of the input.
    inverse = np.array(
        [[matrix[0, 1], matrix[0, 0], matrix[0, 2]], [matrix[1, 1], matrix[1, 0], matrix[1, 2]]]
    )
    size = (shape[1], shape[0])

    def warp(channels: NDArray[np.generic]) -> NDArray[np.generic]:
        out: NDArray[np.generic] = cv2.warpAffine(
            np.ascontiguousarray(channels),
            inverse,
            size,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(fill,) * 4,
        )
        return out.reshape(shape + channels.shape[2:])

    if image.ndim == 2 or image.shape[2] <= MAX_CV_CHANNELS:
        return warp(image)
    parts = [warp(image[:, :, k : k + 1]) for k in range(image.shape[2])]
    return np.concatenate(parts, axis=2)


def _nearest(
    image: NDArray[np.generic], matrix: Matrix, shape: tuple[int, int]
) -> NDArray[np.generic]:
    rows = np.arange(shape[0], dtype=np.float64)[:, np.newaxis]
    cols = np.arange(shape[1], dtype=np.float64)
    x = np.floor(matrix[0, 0] * rows + matrix[0, 1] * cols + matrix[0, 2] + 0.5)
    y = np.floor(matrix[1, 0] * rows + matrix[1, 1] * cols + matrix[1, 2] + 0.5)
    height, width = image.shape[:2]
    x = np.clip(x, 0, width - 1).astype(np.intp)
    y = np.clip(y, 0, height - 1).astype(np.intp)
    out: NDArray[np.generic] = image[y, x]
    return out


def warp_section(
    image: NDArray[np.generic],
    plane: SectionPlane,
    *,
    downsample: int = 0,
    order: Literal[0, 1] = 1,
    fill: float = 0,
) -> WarpedSection:
    """Resample a section image (at `downsample`) onto its plane's grid; `order` 1 is linear
    (pictures), 0 nearest (label maps, masks); grid points outside the image get `fill`."""
    if image.ndim not in (2, 3) or 0 in image.shape:
        raise ValueError(f"a section image is (rows, cols[, channels]), not {image.shape}")
    if downsample < 0:
        raise ValueError(f"downsample must be 0 or more, not {downsample}")
    if order == 1 and image.dtype.type not in LINEAR_DTYPES:
        names = ", ".join(np.dtype(kind).name for kind in LINEAR_DTYPES)
        raise ValueError(f"linear warping needs {names} pixels, not {image.dtype}")
    if order not in (0, 1):
        raise ValueError(f"order must be 0 (nearest) or 1 (linear), not {order}")
    shape = plane.grid.shape
    if order == 1 and max(*image.shape[:2], *shape) > MAX_CV_SIDE:
        raise ValueError(f"linear warping takes up to {MAX_CV_SIDE} pixels a side: downsample")
    matrix = _image_matrix(plane, downsample)
    height, width = image.shape[:2]
    bounds = _column_bounds(matrix, shape, height, width, 0.0)
    scale = 1 << downsample
    position = plane.depth_at_pixel((width * scale - 1) / 2, (height * scale - 1) / 2)
    if order == 1:
        pixels = _linear(image, matrix, shape, fill)
        pixels[_edge_band(bounds, matrix, shape, height, width)] = fill  # beyond: fill already
        return WarpedSection(pixels, plane, position, *bounds)
    warped = WarpedSection(_nearest(image, matrix, shape), plane, position, *bounds)
    warped.pixels[~warped.valid] = fill
    return warped


def warp_to_reference(
    image: NDArray[np.generic],
    section: SectionAlignment,
    data_set: DataSetAlignment,
    plane: str,
    *,
    resolution_um: float = 25.0,
    downsample: int = 0,
    order: Literal[0, 1] = 1,
    fill: float = 0,
    extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
) -> WarpedSection:
    """One section image onto the whole reference grid of its plane at `resolution_um`."""
    grid = ReferenceGrid.of(plane, resolution_um, extent_um)
    where = section_plane(section, data_set, grid)
    return warp_section(image, where, downsample=downsample, order=order, fill=fill)


def sufficient_downsample(
    section: SectionAlignment,
    data_set: DataSetAlignment,
    resolution_um: float,
    max_downsample: int | None = None,
) -> int:
    """The coarsest downsample whose pixels are no larger than `resolution_um` (at least 0, at
    most `max_downsample`, e.g. the image's ``tier_count - 1``)."""
    if not (math.isfinite(resolution_um) and resolution_um > 0):
        raise ValueError(f"resolution must be above 0 µm, not {resolution_um}")
    pixel = max(pixel_size_um(section, data_set))
    if pixel <= 0:
        raise ValueError("the alignment gives pixels of size 0")
    downsample = max(0, math.floor(math.log2(resolution_um / pixel) + 1e-9))
    return downsample if max_downsample is None else min(downsample, max_downsample)
