"""What every pyramid reader shares: levels read from the tiles where the layout allows
(`tiles.TileReader`), by libvips otherwise, whatever holds the file."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pyvips
from pyvips.vimage import FORMAT_TO_TYPESTR

from brainmap.pyramid.reader import LevelFormat
from brainmap.pyramid.tiles import TileReader


class PagedPyramid:
    """A `reader.PyramidReader` over `tiles` (None when the layout is not one brainmap writes)
    and `_load`, which opens a page with libvips; `name` names the file in programming errors."""

    name: str
    tiles: TileReader | None
    identity: tuple[str | int, ...]
    """Which version of the file was opened (it names the file and changes when it does)."""

    @cached_property
    def levels(self) -> int:
        """Number of pages (levels) in the file."""
        if self.tiles is not None:
            return self.tiles.levels
        first = self._load()
        return int(first.get("n-pages")) if "n-pages" in first.get_fields() else 1

    @property
    def width(self) -> int:
        """Full-resolution width."""
        return self.level_format(0).width

    @property
    def height(self) -> int:
        """Full-resolution height."""
        return self.level_format(0).height

    def level_format(self, index: int) -> LevelFormat:
        tiled = self.tiles.level(index) if self.tiles is not None else None
        if tiled is not None:
            return tiled.format
        image = self.level(index)
        dtype = np.dtype(FORMAT_TO_TYPESTR[image.format])
        return LevelFormat(image.width, image.height, image.bands, dtype)

    def read_region(self, index: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        if self.tiles is not None and self.tiles.level(index) is not None:
            return self.tiles.region(index, left, top, width, height)
        region = self.level(index).crop(left, top, width, height)
        pixels: np.ndarray = region.numpy()
        return pixels.reshape(height, width, region.bands)

    def level(self, index: int) -> pyvips.Image:
        """Page `index` (0 = full resolution) as a lazy libvips image, which fails on the first
        warning of the decoders instead of leaving damaged pixels black."""
        if not 0 <= index < self.levels:
            raise IndexError(f"{self.name} has levels 0..{self.levels - 1}, not {index}")
        return self._load(page=index)

    def _load(self, **options: int) -> pyvips.Image:
        """The file opened by libvips with `options` (DamagedPyramid when it does not open)."""
        raise NotImplementedError
