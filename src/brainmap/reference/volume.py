"""A stored reference volume: an annotation label volume (uint32, (p, i, r)) and optionally an
intensity template, stored chunked (zarr v3) so a voxel, a plane along any axis or a scatter of
points is read without loading the volume (through a bounded cache of decoded chunks). It is
written to a local folder and read from one or from any zarr store (an object store's).

The store is a zarr v3 group: arrays ``annotation`` and ``template`` (same shape, chunks of
64³ voxels, zstd), dimension names ``p, i, r``, and attributes ``format``, ``resolution_um``
(voxel size along p, i, r) and ``sources`` (the files' names). Voxel ``(a, b, c)`` is centred on
``(a, b, c) * resolution_um`` µm.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import zarr
from numpy.typing import ArrayLike, NDArray
from zarr.abc.store import Store as ZarrStore
from zarr.codecs import ZstdCodec
from zarr.errors import GroupNotFoundError
from zarr.storage import LocalStore

from brainmap.reference.alignment import as_points
from brainmap.reference.chunks import ChunkCache
from brainmap.reference.planes import AXES
from brainmap.reference.volume_files import VolumeFile, VolumeFileError, open_volume_file

FORMAT = "brainmap-reference-volume/1"
CHUNK = 64
LABEL_MAX = 2**32 - 1

Resolution = tuple[float, float, float]
CACHE_BYTES = 256 << 20
"""Decoded chunks held per layer: a coronal slab of the 25 µm CCF in 64³ chunks is 40 MB."""


def _resolution(files: dict[str, VolumeFile], given: float | Sequence[float] | None) -> Resolution:
    """The voxel size: as given (one number or three), else every file's header, which agree."""
    if given is not None:
        values = (given,) * 3 if isinstance(given, (int, float)) else tuple(given)
        if len(values) != 3 or not all(np.isfinite(v) and v > 0 for v in values):
            raise VolumeFileError(f"resolution must be one or three sizes above 0 µm: {given}")
        return (float(values[0]), float(values[1]), float(values[2]))
    found: Resolution | None = None
    for volume in files.values():
        if volume.resolution_um is None:
            raise VolumeFileError(f"{volume.path}: the header gives no voxel size: give one")
        if found is not None and not np.allclose(found, volume.resolution_um, rtol=1e-6):
            raise VolumeFileError(
                f"{volume.path}: voxel size {volume.resolution_um} µm differs from {found} µm"
            )
        found = found or volume.resolution_um
    assert found is not None
    return found


def _check(files: dict[str, VolumeFile]) -> None:
    annotation = files["annotation"]
    if not np.issubdtype(annotation.dtype, np.integer):
        raise VolumeFileError(f"{annotation.path}: labels must be integers, not {annotation.dtype}")
    template = files.get("template")
    if template is not None:
        if template.shape != annotation.shape:
            raise VolumeFileError(
                f"{template.path}: shape {template.shape} differs from the annotation's "
                f"{annotation.shape}"
            )
        if not (np.issubdtype(template.dtype, np.number) and template.dtype.kind != "c"):
            raise VolumeFileError(f"{template.path}: intensities must be real numbers")


def _labels(volume: VolumeFile, slab: NDArray[Any]) -> NDArray[np.uint32]:
    """A slab of labels as uint32, refusing values a label cannot hold."""
    if slab.size and (int(slab.min()) < 0 or int(slab.max()) > LABEL_MAX):
        raise VolumeFileError(f"{volume.path}: labels must lie in 0..{LABEL_MAX}")
    return slab.astype(np.uint32, copy=False)


def _copy(volume: VolumeFile, array: zarr.Array[Any], labels: bool, depth: int) -> None:
    axis = volume.slab_axis
    for start, slab in volume.slabs(depth):
        where = [slice(None)] * 3
        where[axis] = slice(start, start + slab.shape[axis])
        array[tuple(where)] = _labels(volume, slab) if labels else slab


def write_volume(
    destination: Path,
    annotation: Path,
    *,
    template: Path | None = None,
    resolution_um: float | Sequence[float] | None = None,
    chunk: int = CHUNK,
) -> ReferenceVolume:
    """Store an annotation file (and a template file) at `destination`, a new folder.

    Headers are checked before anything is written; the data are copied slab by slab into a
    hidden folder beside `destination`, renamed into place when complete (removed on failure).
    """
    if destination.exists():
        raise VolumeFileError(f"{destination}: already exists")
    files = {"annotation": open_volume_file(annotation)}
    if template is not None:
        files["template"] = open_volume_file(template)
    _check(files)
    resolution = _resolution(files, resolution_um)
    partial = destination.parent / f".{destination.name}.{uuid.uuid4().hex}.partial"
    try:
        group = zarr.open_group(LocalStore(partial), mode="w-", zarr_format=3)
        group.attrs.update(
            {
                "format": FORMAT,
                "resolution_um": list(resolution),
                "sources": {name: volume.path.name for name, volume in files.items()},
            }
        )
        for name, volume in files.items():
            labels = name == "annotation"
            array = group.create_array(
                name,
                shape=volume.shape,
                chunks=(chunk,) * 3,
                dtype=np.uint32 if labels else volume.dtype,
                compressors=ZstdCodec(level=3),
                dimension_names=AXES,
                fill_value=0,
            )
            _copy(volume, array, labels, chunk)
        partial.rename(destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ReferenceVolume.open(destination)


class ReferenceVolume:
    """A stored reference volume: voxels, planes and labels at points, read chunk by chunk."""

    def __init__(
        self,
        group: zarr.Group,
        name: str = "reference volume",
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        if group.attrs.get("format") != FORMAT or "annotation" not in group:
            raise VolumeFileError(f"{name}: not a brainmap reference volume")
        self.name = name
        p, i, r = cast("list[float]", group.attrs["resolution_um"])
        self.resolution_um: Resolution = (float(p), float(i), float(r))
        self.layers: dict[str, ChunkCache] = {}
        for layer in ("annotation", "template"):
            if layer in group:
                found = group[layer]
                assert isinstance(found, zarr.Array)
                self.layers[layer] = ChunkCache(found, cache_bytes)
        self.shape = self.layers["annotation"].shape

    @classmethod
    def open(
        cls,
        where: Path | ZarrStore,
        cache_bytes: int = CACHE_BYTES,
        name: str | None = None,
    ) -> ReferenceVolume:
        """Open a volume written by `write_volume`, read-only, holding up to `cache_bytes` of
        decoded chunks per layer: a folder, or a zarr store opened read-only (an object
        store's, say). Errors name it `name` (by default the folder, or the zarr store)."""
        name = name or str(where)
        if isinstance(where, Path):
            if not (where / "zarr.json").is_file():
                raise VolumeFileError(f"{name}: not a brainmap reference volume")
            where = LocalStore(where, read_only=True)
        try:
            group = zarr.open_group(where, mode="r")
        except GroupNotFoundError:
            raise VolumeFileError(f"{name}: not a brainmap reference volume") from None
        return cls(group, name, cache_bytes)

    @property
    def has_template(self) -> bool:
        return "template" in self.layers

    def _layer(self, layer: str) -> ChunkCache:
        if layer not in self.layers:
            raise VolumeFileError(f"{self.name}: has no {layer}")
        return self.layers[layer]

    def voxel(self, index: tuple[int, int, int], layer: str = "annotation") -> Any:
        """One voxel's value (index in (p, i, r) order)."""
        if len(index) != 3 or not all(0 <= k < n for k, n in zip(index, self.shape, strict=True)):
            raise IndexError(f"{self.name}: voxel {index} is outside {self.shape}")
        return self._layer(layer).gather(np.array([index], dtype=np.intp))[0].item()

    def plane(self, axis: str, index: int, layer: str = "annotation") -> NDArray[Any]:
        """The plane at `index` along `axis` ("p", "i" or "r"), the other two axes in order."""
        if axis not in AXES:
            raise ValueError(f"axis must be one of p, i, r, not {axis!r}")
        number = AXES.index(axis)
        if not 0 <= index < self.shape[number]:
            raise IndexError(f"{self.name}: plane {axis}={index} is outside {self.shape}")
        return self._layer(layer).plane(number, index)

    def label_at(self, points_um: ArrayLike) -> NDArray[np.uint32]:
        """The label of the voxel holding each point (N, 3) in µm (p, i, r); 0 outside."""
        points = as_points(points_um, 3)
        index = np.floor(points / np.asarray(self.resolution_um) + 0.5).astype(np.intp)
        inside = ((index >= 0) & (index < np.asarray(self.shape))).all(axis=1)
        labels = np.zeros(len(points), dtype=np.uint32)
        if inside.any():
            labels[inside] = self._layer("annotation").gather(index[inside])
        return labels
