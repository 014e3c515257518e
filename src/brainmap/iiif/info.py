"""The image information document (``info.json``) of one image."""

from __future__ import annotations

from typing import Any

from brainmap.iiif.plan import Limits
from brainmap.pyramid.tiers import TILE

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"
EXTRA_QUALITIES = ["color", "gray", "bitonal"]
EXTRA_FEATURES = [
    "canonicalLinkHeader",
    "mirroring",
    "profileLinkHeader",
    "rotationArbitrary",
    "sizeUpscaling",
]
"""Features beyond level 2 (which already has every region and size form and 90° rotations)."""


def image_information(
    base_uri: str, width: int, height: int, tier_count: int, limits: Limits, first_level: int = 0
) -> dict[str, Any]:
    """The document for an image of `width` x `height` with pyramid levels ``first_level`` ..
    ``tier_count - 1`` (level ``d`` is scale factor ``2**d``): the levels as `sizes` (smallest
    first, those within the limits) and as the scale factors of 256-pixel `tiles`."""
    levels = range(first_level, tier_count)
    sizes = [(-(-width // 2**level), -(-height // 2**level)) for level in reversed(levels)]
    return {
        "@context": CONTEXT,
        "id": base_uri,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level2",
        "width": width,
        "height": height,
        "maxWidth": limits.max_side,
        "maxHeight": limits.max_side,
        "maxArea": limits.max_pixels,
        "sizes": [{"width": w, "height": h} for w, h in sizes if limits.admit(w, h)],
        "tiles": [{"width": TILE, "height": TILE, "scaleFactors": [2**level for level in levels]}],
        "extraQualities": EXTRA_QUALITIES,
        "extraFeatures": EXTRA_FEATURES,
    }
