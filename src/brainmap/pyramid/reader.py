"""What the pixel pipeline needs of a pyramid, whatever stores it.

`PyramidReader` is the interface `imaging.render` reads through: the levels and their formats,
a region of a level as a numpy array (small regions, decoded whole), and a level as a lazy
libvips image (large regions, streamed). `local.Pyramid` implements it over a local file,
`remote.RemotePyramid` over an object at an fsspec URL (ranged reads of its tiles). A file that
cannot be read raises `DamagedPyramid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyvips

from brainmap.errors import BrainmapError


class DamagedPyramid(BrainmapError):
    """A pyramid file is missing, cannot be opened, or its bytes do not decode. The message
    says what is wrong and never names the file: the caller knows which one it asked for."""


@dataclass(frozen=True)
class LevelFormat:
    """A level's size in pixels and its samples (`bands` per pixel, each of `dtype`)."""

    width: int
    height: int
    bands: int
    dtype: np.dtype

    def region_bytes(self, width: int, height: int) -> int:
        """Bytes of a `width` x `height` region of this level, decoded."""
        return width * height * self.bands * self.dtype.itemsize


class PyramidReader(Protocol):
    """A pyramid opened for reading: level 0 is full resolution, each next one half the size."""

    @property
    def levels(self) -> int:
        """How many levels the pyramid has."""
        ...

    def level_format(self, index: int) -> LevelFormat:
        """The size and samples of level `index`."""
        ...

    def read_region(self, index: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        """The pixels (height x width x bands) of level `index` from (left, top), inside it."""
        ...

    def level(self, index: int) -> pyvips.Image:
        """Level `index` as a lazy libvips image, for regions too large to decode at once."""
        ...
