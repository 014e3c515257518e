"""An image record's geometry, as the download service reads it (docs/allen-api.md §6.3)."""

from __future__ import annotations

from dataclasses import dataclass

from brainmap.geometry import ImageExtent
from brainmap.testing.rma import Record, integer

PREVIEW_SIDE = 512
"""The kit asks for images no larger than about this many pixels a side."""


@dataclass(frozen=True)
class Frame(ImageExtent):
    """A SubImage's bounding box (`x`, `y`, `width`, `height`, full-resolution pixels), the size
    of the whole image file and its number of pyramid tiers: the record's fields only, read
    from the server's answer (what the kit expects of them, it works out itself)."""

    image_id: int

    @classmethod
    def of(cls, record: Record) -> Frame:
        """The frame of a SubImage record; a Difference when a field is missing."""
        names = ("x", "y", "width", "height", "image_width", "image_height", "tier_count")
        fields = {name: integer(record, name) for name in names}
        return cls(**fields, image_id=integer(record, "id"))

    @property
    def top_downsample(self) -> int:
        """The largest `downsample` with a tier of its own."""
        return self.tier_count - 1

    @property
    def preview_downsample(self) -> int:
        """The smallest `downsample` of at least 1 that brings the box under `PREVIEW_SIDE`
        pixels a side, if the pyramid has that many tiers (0 for an image with one tier)."""
        downsample = 1
        while max(self.width, self.height) >> downsample > PREVIEW_SIDE:
            downsample += 1
        return min(downsample, self.top_downsample)

    def default_size(self, downsample: int) -> tuple[int, int]:
        """Width and height of the default region at `downsample`: the box divided by
        ``2**downsample``, rounded down."""
        return self.width >> downsample, self.height >> downsample
