"""Draw an IIIF plan, in the specification's order: region, size, rotation, quality.

The region is read at the plan's pyramid level by the Image Download Service's own reader, resampled
to the exact size (nearest neighbour for label maps and colour blocks), then filtered and
painted as that service does (``range``, ``rgb``, ``contrast``, ``colormap``, annotation),
mirrored and rotated, and finally made gray or bitonal. Every step is a lazy libvips operation.
"""

from __future__ import annotations

import pyvips

from brainmap.geometry import RegionPlan
from brainmap.iiif.plan import IiifPlan
from brainmap.imaging.annotate import PlatePalette
from brainmap.imaging.filters import luminance
from brainmap.imaging.render import read_region, render_pixels
from brainmap.params import ImageRequest
from brainmap.pyramid.pages import PagedPyramid

BITONAL_THRESHOLD = 128
"""Luminance at and above which a bitonal pixel is white."""


def draw(
    plan: IiifPlan,
    request: ImageRequest,
    pyramid: PagedPyramid,
    read: RegionPlan,
    annotation: PlatePalette | None,
    nearest: bool,
    scale: int,
) -> pyvips.Image:
    """The 8-bit output of `plan` with `request`'s filters on the image's `scale`, reading
    `read` from `pyramid` (the plan's own read box, or that box rebased on a mirror's held
    level)."""
    nearest = nearest or annotation is not None
    region = resample(read_region(pyramid, read, nearest=nearest), plan, nearest)
    image = render_pixels(region, request, annotation, scale)
    image = orient(image, plan.rotation, plan.mirror, transparent=plan.format == "png")
    return with_quality(image, plan.quality)


def resample(region: pyvips.Image, plan: IiifPlan, nearest: bool) -> pyvips.Image:
    """The level's pixels scaled and cut to exactly the plan's output size."""
    if plan.scale != (1.0, 1.0):
        scale_x, scale_y = plan.scale
        region = region.resize(scale_x, vscale=scale_y, kernel="nearest" if nearest else "lanczos3")
    x, y = plan.offset
    if (x, y, region.width, region.height) == (0, 0, plan.width, plan.height):
        return region
    return region.embed(-x, -y, plan.width, plan.height, extend="copy")


def orient(image: pyvips.Image, degrees: float, mirror: bool, transparent: bool) -> pyvips.Image:
    """Mirror (left-right), then rotate clockwise. Multiples of 90° move pixels exactly; other
    angles interpolate onto the rotated bounding box, whose corners are transparent when
    `transparent` (an alpha band is added) and black otherwise."""
    if mirror:
        image = image.fliphor()
    if degrees % 90 == 0:
        turns = int(degrees // 90)
        return image.rot(f"d{90 * turns}") if turns else image
    if not transparent:
        return image.rotate(degrees, background=[0] * image.bands)
    with_alpha = image.bandjoin_const([255]).premultiply()
    rotated = with_alpha.rotate(degrees, background=[0] * with_alpha.bands)
    return rotated.unpremultiply().cast("uchar")


def with_quality(image: pyvips.Image, quality: str) -> pyvips.Image:
    """``default`` and ``color`` as rendered; ``gray`` one luminance band; ``bitonal`` that band
    thresholded to 0 or 255. An alpha band is kept."""
    if quality in ("default", "color"):
        return image
    colour, alpha = (image[:3], image[3]) if image.bands == 4 else (image, None)
    gray = luminance(colour)
    if quality == "bitonal":
        gray = gray.relational_const("moreeq", [BITONAL_THRESHOLD])
    return gray if alpha is None else gray.bandjoin(alpha)
