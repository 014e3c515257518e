"""The tier arithmetic of a pyramid: levels halve down to one 256-pixel tile.

Level ``d`` holds the image at ``downsample=d`` (``floor(size / 2**d)`` pixels a side), so an
image needs ``tier_count`` levels; the SubImage records of an image stored whole follow from its
size alone.
"""

from __future__ import annotations

TILE = 256
"""Side of a pyramid tile, and of the coarsest level."""


def tier_count(width: int, height: int) -> int:
    """Tiers of 256-pixel tiles needed for an image: ``1 + ceil(log2(max(w, h) / 256))``."""
    longest = max(width, height, 1)
    tiers = 1
    while longest > TILE * 2 ** (tiers - 1):
        tiers += 1
    return tiers


def whole_image(width: int, height: int) -> dict[str, int]:
    """The SubImage geometry fields of a `width` x `height` image recorded whole: its bounding
    box is the full pixel grid, and `tier_count` follows from the size."""
    return {
        "x": 0,
        "y": 0,
        "width": width,
        "height": height,
        "image_width": width,
        "image_height": height,
        "tier_count": tier_count(width, height),
    }
