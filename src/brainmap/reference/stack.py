"""Warped sections placed at their reference position in one 3-D OME-Zarr volume (NGFF 0.4).

The volume covers the reference space at the grid's spacing, axes (p, i, r) named z, y, x (so a
z plane is a coronal plane) and, for pictures with channels, a leading ``c`` axis. A section's
pixel at grid point ``(row, col)`` goes to the voxel holding its own position along the normal
(`SectionPlane.depth_um`), so a tilted section spreads over the planes it crosses, as in the
reference space; grid points outside the section are left as they are.

Layout (zarr v2, as NGFF 0.4 requires): the group's ``.zattrs`` hold ``multiscales`` (one level,
path ``0``, a ``scale`` of the spacing in micrometres and a zero ``translation``) and brainmap's
``brainmap`` entry (plane, spacing); array ``0`` is chunked one plane of the sections' normal per
chunk (all channels), Blosc-zstd compressed. One writer at a time: two sections may share planes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from numpy.typing import NDArray

from brainmap.reference.planes import AXES, CCF_EXTENT_UM, PLANES
from brainmap.reference.warp import ReferenceGrid, WarpedSection

NGFF_VERSION = "0.4"
NAMES = ("z", "y", "x")  # p, i, r


def _multiscales(name: str, spacing: float, channels: int) -> list[dict[str, Any]]:
    space = [{"name": axis, "type": "space", "unit": "micrometer"} for axis in NAMES]
    axes = ([{"name": "c", "type": "channel"}] if channels else []) + space
    lead = [1.0] if channels else []
    return [
        {
            "version": NGFF_VERSION,
            "name": name,
            "axes": axes,
            "datasets": [
                {
                    "path": "0",
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [*lead, spacing, spacing, spacing]},
                        {"type": "translation", "translation": [0.0] * (len(lead) + 3)},
                    ],
                }
            ],
        }
    ]


class SectionStack:
    """An OME-Zarr volume that warped sections of one plane and spacing are placed into."""

    def __init__(self, group: zarr.Group) -> None:
        info = group.attrs.get("brainmap")
        if not isinstance(info, dict) or "plane" not in info:
            raise ValueError("not a brainmap section stack")
        self.group = group
        found = group["0"]
        assert isinstance(found, zarr.Array)
        self.array = found
        self.plane = str(info["plane"])
        self.spacing_um = float(info["spacing_um"])
        self.channels = self.array.ndim == 4

    @classmethod
    def create(
        cls,
        destination: Path,
        grid: ReferenceGrid,
        *,
        dtype: np.dtype[Any] | type = np.uint8,
        channels: int = 0,
        extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
        name: str = "sections",
    ) -> SectionStack:
        """An empty volume (0 everywhere) for sections warped onto `grid`; `channels` 0 for
        single-channel pixels, else their number (3 for RGB)."""
        if destination.exists():
            raise ValueError(f"{destination}: already exists")
        spacing = grid.spacing_um
        shape = tuple(math.floor(extent / spacing + 1e-9) for extent in extent_um)
        normal = PLANES[grid.plane]
        chunks = [1 if axis == normal else shape[axis] for axis in range(3)]
        if channels:
            shape, chunks = (channels, *shape), [channels, *chunks]
        group = zarr.open_group(destination, mode="w-", zarr_format=2)
        group.attrs.update(
            {
                "multiscales": _multiscales(name, spacing, channels),
                "brainmap": {"plane": grid.plane, "spacing_um": spacing, "axes": list(AXES)},
            }
        )
        group.create_array(
            "0",
            shape=shape,
            chunks=tuple(chunks),
            dtype=dtype,
            compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
            fill_value=0,
            chunk_key_encoding={"name": "v2", "separator": "/"},
        )
        return cls(group)

    @classmethod
    def open(cls, path: Path) -> SectionStack:
        """An existing volume, to place more sections into (a resumed job)."""
        return cls(zarr.open_group(path, mode="r+", zarr_format=2))

    def place(self, warped: WarpedSection) -> list[int]:
        """Write a section's valid pixels at their planes; the planes' indices written."""
        grid = warped.grid
        if grid.plane != self.plane or grid.spacing_um != self.spacing_um:
            raise ValueError(
                f"a {grid.plane} section at {grid.spacing_um} µm does not go into this "
                f"{self.plane} stack at {self.spacing_um} µm"
            )
        if grid.origin_um != (0.0, 0.0):
            raise ValueError("the section's grid must start at the reference origin")
        pixels = warped.pixels
        normal = PLANES[self.plane]
        in_plane = tuple(n for axis, n in enumerate(self.array.shape[-3:]) if axis != normal)
        layers = self.array.shape[:1] if self.channels else ()
        if pixels.shape != in_plane + layers:
            raise ValueError(f"pixels of shape {pixels.shape} do not fit volume {self.array.shape}")
        if pixels.dtype != self.array.dtype:
            raise ValueError(f"{pixels.dtype} pixels do not go into a {self.array.dtype} volume")
        planes = np.floor(warped.plane.depth_um() / self.spacing_um + 0.5).astype(np.intp)
        size = self.array.shape[-3 + normal]
        written = []
        for index in np.unique(planes[warped.valid]).tolist():
            if not 0 <= index < size:
                continue
            mine = warped.valid & (planes == index)
            self._write_plane(normal, index, mine, pixels)
            written.append(index)
        return written

    def _write_plane(
        self, normal: int, index: int, mine: NDArray[np.bool_], pixels: NDArray[Any]
    ) -> None:
        where: list[slice | int] = [slice(None)] * self.array.ndim
        where[self.array.ndim - 3 + normal] = index
        plane = np.asarray(self.array[tuple(where)])
        if self.channels:
            plane[:, mine] = np.moveaxis(pixels, -1, 0)[:, mine]
        else:
            plane[mine] = pixels[mine]
        self.array[tuple(where)] = plane
