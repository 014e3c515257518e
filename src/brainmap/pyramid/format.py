"""Pyramid files read lazily with pyvips: levels are TIFF pages, page ``d`` the image at
``downsample=d`` (written by `writer`, sized by `tiers`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyvips


@dataclass(frozen=True)
class Pyramid:
    """A pyramid file opened lazily; `level(d)` is the image at downsample `d`."""

    path: Path

    @cached_property
    def levels(self) -> int:
        """Number of pages (tiers) in the file."""
        first = pyvips.Image.new_from_file(str(self.path), access="random")
        return int(first.get("n-pages")) if "n-pages" in first.get_fields() else 1

    @cached_property
    def width(self) -> int:
        return int(self.level(0).width)

    @cached_property
    def height(self) -> int:
        return int(self.level(0).height)

    def level(self, index: int) -> pyvips.Image:
        """Page `index` (0 = full resolution) as a lazy vips image."""
        if not 0 <= index < self.levels:
            raise IndexError(f"{self.path.name} has levels 0..{self.levels - 1}, not {index}")
        return pyvips.Image.new_from_file(str(self.path), page=index, access="random")
