"""Tier and region arithmetic of the Image Download Service (rules in docs/rules.md, "Geometry").

A request names a downsample ``d`` (scale ``s = 2**d``), a full-resolution top-left corner and an
output size. `plan_region` turns it into the clipped full-resolution box to read and the output
size to produce. Pure functions: the server uses them to pick a pyramid level and a read box, the
client to plan tiled downloads of regions too large for one response.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainmap.errors import BadParameter
from brainmap.params import ImageRequest
from brainmap.service import MAX_PIXELS, MAX_SIDE


@dataclass(frozen=True)
class Box:
    """A full-resolution rectangle ``[left, left + width) x [top, top + height)``."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True)
class ImageExtent:
    """What geometry needs of a SubImage record: its bounding box, file size and tiers."""

    x: int
    y: int
    width: int
    height: int
    image_width: int
    image_height: int
    tier_count: int


@dataclass(frozen=True)
class RegionPlan:
    """The clipped full-resolution box to read and the output size after downsampling."""

    downsample: int
    box: Box
    out_width: int
    out_height: int

    @property
    def scale(self) -> int:
        return 1 << self.downsample

    @property
    def pixels(self) -> int:
        return self.out_width * self.out_height


class RegionTooLarge(BadParameter):
    """The output exceeds the configured limits (HTTP 413)."""


def plan_region(
    extent: ImageExtent,
    *,
    downsample: int | None = None,
    left: int | None = None,
    top: int | None = None,
    width: int | None = None,
    height: int | None = None,
    downsample_dimensions: bool | None = None,
) -> RegionPlan:
    """Resolve a request against an image, per docs/rules.md, "Geometry".

    * ``downsample`` above ``tier_count - 1`` is clamped to it.
    * ``left``/``top`` are full-resolution pixels, defaulting to the record's ``x``/``y``.
    * ``width``/``height`` are output pixels, defaulting to ``floor(record.width / s)``; with
      ``downsample_dimensions`` explicit values are full-resolution and divided by ``s``.
    * The box ``[left, left + width*s) x [top, top + height*s)`` is clipped to the image; the
      output is the clipped box reduced by ``s`` (at least one pixel a side). A box wholly
      outside the image raises BadParameter.
    """
    d = min(downsample or 0, max(extent.tier_count - 1, 0))
    s = 2**d
    x0 = extent.x if left is None else left
    y0 = extent.y if top is None else top
    out_w = _output_length(width, extent.width, s, downsample_dimensions)
    out_h = _output_length(height, extent.height, s, downsample_dimensions)
    if out_w <= 0 or out_h <= 0:
        raise BadParameter("width" if out_w <= 0 else "height", "is zero after downsampling")
    clip_left, clip_right = max(x0, 0), min(x0 + out_w * s, extent.image_width)
    clip_top, clip_bottom = max(y0, 0), min(y0 + out_h * s, extent.image_height)
    if clip_right <= clip_left or clip_bottom <= clip_top:
        raise BadParameter(
            "left" if clip_right <= clip_left else "top",
            f"region lies outside the {extent.image_width} x {extent.image_height} image",
        )
    box = Box(clip_left, clip_top, clip_right - clip_left, clip_bottom - clip_top)
    return RegionPlan(d, box, max(box.width // s, 1), max(box.height // s, 1))


def plan_request(extent: ImageExtent, request: ImageRequest) -> RegionPlan:
    """`plan_region` with the geometry parameters of an image request."""
    return plan_region(
        extent,
        downsample=request.downsample,
        left=request.left,
        top=request.top,
        width=request.width,
        height=request.height,
        downsample_dimensions=request.downsample_dimensions,
    )


def _output_length(explicit: int | None, record_length: int, s: int, full_res: bool | None) -> int:
    if explicit is None:
        return record_length // s
    return explicit // s if full_res else explicit


def check_limits(plan: RegionPlan, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> None:
    """Raise RegionTooLarge when the output would exceed the limits, saying how to tile."""
    side = max(plan.out_width, plan.out_height)
    if plan.pixels <= max_pixels and side <= max_side:
        return
    rows = max(1, -(-plan.out_height // max_side))
    cols = max(1, -(-plan.out_width // max_side))
    while (plan.out_width // cols + 1) * (plan.out_height // rows + 1) > max_pixels:
        if cols <= rows:
            cols += 1
        else:
            rows += 1
    raise RegionTooLarge(
        "width" if plan.out_width >= plan.out_height else "height",
        f"{plan.out_width} x {plan.out_height} output exceeds the limit of {max_pixels} pixels "
        f"and {max_side} per side; request a higher downsample or tile it into {cols} x {rows} "
        "regions with left/top/width/height (the brainmap client tiles automatically)",
    )


def level_for(downsample: int, levels: int) -> int:
    """The finest pyramid level that is at most as fine as needed: ``min(d, levels - 1)``."""
    return max(0, min(downsample, levels - 1))
