"""Sections warped onto the reference grid of their plane, on the client, from the alignment
records and the pixels any Allen-compatible server serves (api.brain-map.org included).

`plan_warp` picks what to fetch (the coarsest downsample whose pixels are still no larger than
the grid's spacing, `brainmap.reference.warp.sufficient_downsample`) and `warp_pixels` resamples
the fetched image with the full 3-D transform (`brainmap.reference.warp`; docs/registration.md
says what that changes against atldld). The result is a `ReferenceSection`: the pixels, where
they are valid, and the grid's reference coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from brainmap.client.alignments import AlignedDataSet, AlignedImage
from brainmap.client.checks import checked_request
from brainmap.client.extras import import_extra
from brainmap.errors import BadParameter
from brainmap.geometry import plan_request
from brainmap.params import ImageRequest
from brainmap.reference.planes import CCF_EXTENT_UM

if TYPE_CHECKING:
    from brainmap.reference.warp import SectionPlane, WarpedSection

REGION_PARAMS = ("left", "top", "width", "height", "downsample_dimensions")
"""Image parameters a warp refuses: it needs the whole image."""


def need_opencv() -> None:
    """MissingExtra, naming the extra that brings it, when OpenCV (which `brainmap.reference.warp`
    resamples with) is not installed."""
    import_extra("cv2", "reference", "warping sections needs OpenCV")


@dataclass(frozen=True)
class ReferenceSection:
    """A section image resampled onto the reference grid of its plane.

    `pixels` (rows, cols, 3) uint8: grid point ``(row, col)`` lies at ``origin_um +
    (row, col) * spacing_um`` along the grid's `axes` (coronal: i, r; sagittal: p, i;
    horizontal: p, r) and, along the plane's normal, at the section's own position there
    (`depth_um`: a tilted section is not one reference plane). `valid` is True where the grid
    point falls inside the image (elsewhere the pixels are 0). `position_um` is the position
    along the normal of the image's centre; `downsample` the level the pixels were fetched at.
    """

    plan: WarpPlan
    """What was fetched and where it lies (`WarpPlan.describe`)."""
    warped: WarpedSection
    """The section on its grid (`SectionStack.place` takes it)."""

    @property
    def image_id(self) -> int:
        return self.plan.image.id

    @property
    def section_number(self) -> int:
        return self.plan.section_number

    @property
    def downsample(self) -> int:
        return self.plan.downsample

    @property
    def pixels(self) -> NDArray[Any]:
        return self.warped.pixels

    @property
    def valid(self) -> NDArray[np.bool_]:
        return self.warped.valid

    @property
    def plane(self) -> str:
        return self.warped.grid.plane

    @property
    def axes(self) -> tuple[str, str]:
        return self.warped.grid.axes

    @property
    def normal(self) -> str:
        return self.warped.grid.normal

    @property
    def origin_um(self) -> tuple[float, float]:
        return self.warped.grid.origin_um

    @property
    def spacing_um(self) -> float:
        return self.warped.grid.spacing_um

    @property
    def position_um(self) -> float:
        return self.warped.position_um

    def depth_um(self) -> NDArray[np.float64]:
        """The section's position along the normal (µm) at every grid point."""
        return self.warped.plane.depth_um()

    def describe(self) -> dict[str, Any]:
        """The section's entry in a ``reference.json`` (see `WarpPlan.describe`)."""
        return self.plan.describe()


@dataclass(frozen=True)
class WarpPlan:
    """How to warp one image: the request to fetch it with and where it goes on the grid."""

    image: AlignedImage
    request: ImageRequest
    plane: SectionPlane
    """Where the image lies on the grid, in the pixels of the image served."""

    @property
    def downsample(self) -> int:
        return self.request.downsample or 0

    @property
    def section_number(self) -> int:
        return int(self.image.record["section_number"])

    def position_um(self) -> float:
        """The position along the normal of the centre of the image served (µm)."""
        from brainmap.client.bulk.verify import expected_size

        width, height = expected_size(self.image.record, self.request)
        scale = 1 << self.downsample
        return self.plane.depth_at_pixel((width * scale - 1) / 2, (height * scale - 1) / 2)

    def describe(self) -> dict[str, Any]:
        """The section's entry in a ``reference.json``: id, section number, its position along
        the plane's normal (µm, at the image's centre; ``depth_um``: the plane of positions over
        the grid, ``at_origin + row * per_row + column * per_column``, which a tilted section
        has), the grid's origin and spacing (µm), and the downsample fetched."""
        per_row, per_column, at_origin = (float(value) for value in self.plane.to_depth)
        return {
            "id": self.image.id,
            "section_number": self.section_number,
            "position_um": self.position_um(),
            "origin_um": list(self.plane.grid.origin_um),
            "spacing_um": self.plane.grid.spacing_um,
            "depth_um": {"at_origin": at_origin, "per_row": per_row, "per_column": per_column},
            "downsample": self.downsample,
        }


def checked_resolution(resolution: object) -> float:
    """The grid spacing in µm: a finite number above 0, else BadParameter."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)):
        raise BadParameter("resolution", f"must be a number of µm, not {resolution!r}")
    if not (math.isfinite(resolution) and resolution > 0):
        raise BadParameter("resolution", f"must be above 0 µm, not {resolution}")
    return float(resolution)


def checked_downsample(downsample: object) -> None:
    """BadParameter unless `downsample` is None (the sufficient one) or an integer >= 0."""
    if downsample is None:
        return
    if isinstance(downsample, bool) or not isinstance(downsample, int) or downsample < 0:
        raise BadParameter("downsample", f"must be an integer >= 0, not {downsample!r}")


def refuse_region(params: Mapping[str, Any]) -> None:
    """BadParameter for the region parameters: a warp takes the whole image."""
    for name in REGION_PARAMS:
        if params.get(name) is not None:
            raise BadParameter(name, "warping to the reference takes the whole image")


def checked_warp(
    resolution: object, downsample: object, params: Mapping[str, Any]
) -> tuple[float, ImageRequest, bool]:
    """Everything a warp is given, checked before anything is fetched or written: the grid
    spacing in µm, and the image request of `params` with whether its range is ``"auto"``
    (`checks.checked_request`). BadParameter naming the first bad value; MissingExtra without
    OpenCV."""
    resolution_um = checked_resolution(resolution)
    checked_downsample(downsample)
    refuse_region(params)
    request, auto = checked_request(params)
    need_opencv()
    return resolution_um, request, auto


def plan_warp(
    image: AlignedImage,
    data_set: AlignedDataSet,
    request: ImageRequest,
    resolution_um: float,
    *,
    downsample: int | None = None,
    extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
) -> WarpPlan:
    """The request (`request` at the downsample to fetch: `downsample`, or the coarsest
    sufficient one the image has) and the image's place on the grid of its data set's plane."""
    need_opencv()
    from brainmap.reference import warp

    record = image.record
    try:
        if downsample is None:
            deepest = max(int(record["tier_count"]) - 1, 0)
            downsample = warp.sufficient_downsample(
                image.section, data_set.alignment, resolution_um, deepest
            )
        grid = warp.ReferenceGrid.of(data_set.plane, resolution_um, extent_um)
        plane = warp.section_plane(image.section, data_set.alignment, grid)
    except ValueError as error:
        raise BadParameter("resolution", f"section image {image.id}: {error}") from None
    from brainmap.client.bulk.verify import extent_of

    fetched = request.replace(downsample=downsample)
    level = plan_request(extent_of(record), fetched).downsample  # the server clamps it
    offset = np.array([[0.0, 0.0, float(record["x"])], [0.0, 0.0, float(record["y"])]])
    # The image served starts at the record's (x, y): the grid maps to its pixels.
    shifted = warp.SectionPlane(plane.grid, plane.to_pixels - offset, plane.to_depth)
    return WarpPlan(image, fetched.replace(downsample=level), shifted)


def warp_pixels(plan: WarpPlan, pixels: NDArray[np.uint8]) -> ReferenceSection:
    """Resample the fetched image onto its grid (linear; 0 outside the image)."""
    need_opencv()
    from brainmap.reference import warp

    return ReferenceSection(plan, warp.warp_section(pixels, plan.plane, downsample=plan.downsample))
