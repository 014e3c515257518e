"""An IIIF request resolved against one image: which pixels, from which pyramid level, at what size.

The rules (docs/iiif.md):

* The full image is the SubImage's whole pixel file, ``image_width x image_height``, in the
  full-resolution coordinates the Image Download Service's ``left``/``top`` use.
* Regions are clipped at the image's edges; a zero-sized region, or one wholly outside, is an
  error. ``pct:`` values become pixels rounded half up; ``square`` is centred.
* Sizes keep the region's aspect ratio (except ``w,h``), the derived side rounded half up and at
  least one pixel. Without ``^`` a size larger than the region is an error; with ``^`` it is
  upscaled. ``max`` and ``!w,h`` shrink to fit the limits, other forms above them are errors.
* The rotated output (its bounding box for angles that are not multiples of 90°) must fit the
  limits too, so no response is larger than they allow.
* The pyramid level is the coarsest ``d`` (downsample ``2**d``) with ``2**d`` output pixels
  within the region along both axes (at the image's right and bottom edges, with at least as
  many pixels over the region as the output). Its pixels covering the region are used as they
  are when they number exactly the output size (every tile ``info.json`` advertises), and are
  resampled to the output size otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from brainmap.errors import BadParameter
from brainmap.geometry import Box, RegionPlan
from brainmap.iiif.syntax import IiifRequest, Region, Size


@dataclass(frozen=True)
class Limits:
    """The largest output: ``max_side`` is both maxWidth and maxHeight, ``max_pixels`` maxArea."""

    max_pixels: int
    max_side: int

    def admit(self, width: int, height: int) -> bool:
        return (
            width <= self.max_side and height <= self.max_side and width * height <= self.max_pixels
        )

    def __str__(self) -> str:
        return f"the limits (maxWidth and maxHeight {self.max_side}, maxArea {self.max_pixels})"

    def largest(self, width: int, height: int) -> tuple[int, int]:
        """The largest size of the `width` : `height` aspect ratio within the limits."""
        scale = min(Fraction(self.max_side, width), Fraction(self.max_side, height))
        area_scale = math.sqrt(self.max_pixels / (width * height))
        if area_scale < scale:
            scale = Fraction(area_scale)
        out_width, out_height = (
            max(1, math.floor(width * scale)),
            max(1, math.floor(height * scale)),
        )
        while out_width * out_height > self.max_pixels:  # float rounding of the square root
            if out_width >= out_height:
                out_width -= 1
            else:
                out_height -= 1
        return out_width, out_height

    def fit(self, width: int, height: int) -> tuple[int, int]:
        """`width` x `height`, shrunk to the limits if it exceeds them."""
        return (width, height) if self.admit(width, height) else self.largest(width, height)


@dataclass(frozen=True)
class IiifPlan:
    """A request against one image.

    `region` is the clipped full-resolution box, `width` x `height` the output before rotation,
    `read` the box to read at pyramid level ``read.downsample`` (its output size is the level's
    pixels covering `region`), `scale` the resampling from those pixels to the output (``(1, 1)``
    for none) and `offset` where the region starts in the resampled pixels.
    """

    region: Box
    width: int
    height: int
    read: RegionPlan
    scale: tuple[float, float]
    offset: tuple[int, int]
    rotation: float
    mirror: bool
    quality: str
    format: str
    canonical: str
    """``{region}/{size}/{rotation}/{quality}.{format}`` in the specification's canonical form."""

    @property
    def pixels(self) -> int:
        """The output's pixels after rotation."""
        width, height = rotated_size(self.width, self.height, self.rotation)
        return width * height


def plan_iiif(
    request: IiifRequest, image_width: int, image_height: int, tier_count: int, limits: Limits
) -> IiifPlan:
    """Resolve `request` against an image of the given size and pyramid depth."""
    box = region_box(request.region, image_width, image_height)
    width, height = output_size(request.size, box.width, box.height, limits)
    turned = rotated_size(width, height, request.rotation)
    if not limits.admit(*turned):
        raise BadParameter(
            "rotation",
            f"{_decimal_text(request.rotation)} turns the {width} x {height} output into "
            f"{turned[0]} x {turned[1]}, which exceeds {limits}",
        )
    level = level_for_output(box, width, height, tier_count, image_width, image_height)
    step = 2**level
    left, top = box.left // step, box.top // step
    read = RegionPlan(level, box, -(-box.right // step) - left, -(-box.bottom // step) - top)
    if (width, height) == (read.out_width, read.out_height):
        scale, offset = (1.0, 1.0), (0, 0)
    else:
        scale = (width * step / box.width, height * step / box.height)
        offset = (
            _half_up((box.left - left * step) * width / box.width),
            _half_up((box.top - top * step) * height / box.height),
        )
    canonical = "/".join(
        [
            "full" if box == Box(0, 0, image_width, image_height) else _box_text(box),
            _canonical_size(width, height, box, limits),
            ("!" if request.mirror else "") + _decimal_text(request.rotation),
            f"{request.quality}.{request.format}",
        ]
    )
    return IiifPlan(
        box,
        width,
        height,
        read,
        scale,
        offset,
        request.rotation,
        request.mirror,
        request.quality,
        request.format,
        canonical,
    )


def region_box(region: Region, image_width: int, image_height: int) -> Box:
    """The full-resolution box a region names, clipped to the image."""
    if region.kind == "full":
        return Box(0, 0, image_width, image_height)
    if region.kind == "square":
        side = min(image_width, image_height)
        return Box((image_width - side) // 2, (image_height - side) // 2, side, side)
    x, y, w, h = region.values
    if region.kind == "percent":
        # above 100 % is past the far edge either way (and huge values would overflow)
        x, y, w, h = (min(value, 100) for value in region.values)
        x, w = (_half_up(value * image_width / 100) for value in (x, w))
        y, h = (_half_up(value * image_height / 100) for value in (y, h))
    text = _region_text(region)
    if w <= 0 or h <= 0:
        raise BadParameter("region", f"{text} has zero width or height")
    if x >= image_width or y >= image_height:
        raise BadParameter(
            "region", f"{text} lies outside the {image_width} x {image_height} image"
        )
    left, top = int(x), int(y)
    return Box(left, top, min(int(w), image_width - left), min(int(h), image_height - top))


def output_size(
    size: Size, region_width: int, region_height: int, limits: Limits
) -> tuple[int, int]:
    """The output size for a region of the given size; BadParameter says why one is refused."""
    if size.kind == "max":
        if size.upscale:
            return limits.largest(region_width, region_height)
        return limits.fit(region_width, region_height)
    if size.kind == "confined":
        assert size.width is not None and size.height is not None
        if size.width < 1 or size.height < 1:
            raise BadParameter("size", f"!{size.width},{size.height} is less than one pixel")
        scale = min(Fraction(size.width, region_width), Fraction(size.height, region_height))
        if not size.upscale:
            scale = min(scale, Fraction(1))
        width = min(size.width, max(1, _half_up(region_width * scale)))
        height = min(size.height, max(1, _half_up(region_height * scale)))
        return limits.fit(width, height)
    if size.kind == "percent" and size.upscale:
        assert size.percent is not None
        # refused before rounding: a huge percentage would overflow it
        if size.percent * max(region_width, region_height) > 100 * (limits.max_side + 1):
            raise BadParameter(
                "size",
                f"^pct:{size.percent:g} of the {region_width} x {region_height} "
                f"region exceeds {limits}",
            )
    width, height = _explicit_size(size, region_width, region_height)
    if width < 1 or height < 1:
        raise BadParameter("size", f"{width} x {height} is less than one pixel")
    upscaled = width > region_width or height > region_height
    if upscaled and not size.upscale:
        raise BadParameter(
            "size",
            f"{width} x {height} is larger than the {region_width} x {region_height} region; "
            "prefix the size with ^ to upscale",
        )
    if not limits.admit(width, height):
        raise BadParameter("size", f"{width} x {height} exceeds {limits}")
    return width, height


def rotated_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """The size of a `width` x `height` image turned by `degrees`: exact for multiples of 90°,
    else its bounding box rounded up (libvips rounds it to nearest, so never more)."""
    if degrees % 90 == 0:
        return (height, width) if degrees % 180 else (width, height)
    radians = math.radians(degrees)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)


def _explicit_size(size: Size, region_width: int, region_height: int) -> tuple[int, int]:
    if size.kind == "percent":
        assert size.percent is not None
        if size.percent > 100 and not size.upscale:
            raise BadParameter("size", f"pct:{size.percent:g} is above 100; use ^pct: to upscale")
        return (
            _half_up(region_width * size.percent / 100),
            _half_up(region_height * size.percent / 100),
        )
    if size.kind == "width":
        assert size.width is not None
        return size.width, _derived(region_height, size.width, region_width)
    if size.kind == "height":
        assert size.height is not None
        return _derived(region_width, size.height, region_height), size.height
    assert size.width is not None and size.height is not None
    return size.width, size.height


def _derived(length: int, numerator: int, denominator: int) -> int:
    """`length` scaled by `numerator` / `denominator`, rounded half up, at least 1 unless 0."""
    if numerator == 0:
        return 0
    return max(1, _half_up(Fraction(length * numerator, denominator)))


def level_for_output(
    box: Box, width: int, height: int, tier_count: int, image_width: int, image_height: int
) -> int:
    """The coarsest level fine enough for a `width` x `height` output of `box`.

    Along each axis level ``d`` is fine enough when ``2**d`` output pixels fit in the region;
    where the region reaches the image's far edge (whose last pixel at level ``d`` covers less
    than ``2**d``), when the level's pixels over the region are at least the output's, as for
    the edge tiles info.json advertises."""

    def fine(step: int, length: int, out: int, at_edge: bool) -> bool:
        return step * out <= length or (at_edge and -(-length // step) >= out)

    level = 0
    while level + 1 < tier_count:
        step = 2 ** (level + 1)
        across = fine(step, box.width, width, box.right == image_width)
        down = fine(step, box.height, height, box.bottom == image_height)
        if not (across and down):
            break
        level += 1
    return level


def _canonical_size(width: int, height: int, box: Box, limits: Limits) -> str:
    if (width, height) == limits.fit(box.width, box.height):
        return "max"
    upscaled = width > box.width or height > box.height
    if upscaled and (width, height) == limits.largest(box.width, box.height):
        return "^max"
    return f"{'^' if upscaled else ''}{width},{height}"


def _half_up(value: float | Fraction) -> int:
    return math.floor(value + Fraction(1, 2) if isinstance(value, Fraction) else value + 0.5)


def _box_text(box: Box) -> str:
    return f"{box.left},{box.top},{box.width},{box.height}"


def _region_text(region: Region) -> str:
    values = ",".join(_decimal_text(value) for value in region.values)
    return f"pct:{values}" if region.kind == "percent" else values


def _decimal_text(value: float) -> str:
    """A number as the specification writes it: an integer when whole, no trailing zeros."""
    if value == int(value):
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")
