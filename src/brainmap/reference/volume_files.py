"""3-D volumes in files (NRRD, NIfTI, TIFF), read slab by slab so no file is loaded whole.

`open_volume_file` reads a file's header: its shape, its data type and, where the header says,
its voxel size in µm. `VolumeFile.slabs` then yields consecutive slabs along one axis (the axis
the file stores slowest). The array's axes are taken as they are stored: (p, i, r) for Allen's
NRRD files (first NRRD axis = p), TIFF pages = p, NIfTI's first voxel axis = p; nothing is
reoriented.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Slab = NDArray[Any]
SlabReader = Callable[[int], Iterator[Slab]]

# NRRD's type names (the format's specification) -> numpy kinds.
NRRD_TYPES = {
    np.int8: ("signed char", "int8", "int8_t"),
    np.uint8: ("uchar", "unsigned char", "uint8", "uint8_t"),
    np.int16: ("short", "short int", "signed short", "signed short int", "int16", "int16_t"),
    np.uint16: ("ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    np.int32: ("int", "signed int", "int32", "int32_t"),
    np.uint32: ("uint", "unsigned int", "uint32", "uint32_t"),
    np.int64: (
        "longlong", "long long", "long long int", "signed long long", "signed long long int",
        "int64", "int64_t",
    ),
    np.uint64: (
        "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t",
    ),
    np.float32: ("float",),
    np.float64: ("double",),
}  # fmt: skip
NRRD_TYPE_NAMES = {name: np.dtype(kind) for kind, names in NRRD_TYPES.items() for name in names}
NRRD_ENCODINGS = ("raw", "gzip", "gz", "bzip2", "bz2")
UNITS_UM = {"micron": 1.0, "um": 1.0, "µm": 1.0, "\u03bcm": 1.0, "mm": 1000.0, "meter": 1e6}


class VolumeFileError(ValueError):
    """A volume file that cannot be read as a 3-D array: the message names the file."""


@dataclass(frozen=True)
class VolumeFile:
    """A 3-D array in a file: shape, dtype, voxel size (µm, None where the header says none)."""

    path: Path
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    resolution_um: tuple[float, float, float] | None
    slab_axis: int
    read: SlabReader

    def slabs(self, depth: int) -> Iterator[tuple[int, Slab]]:
        """``(start, slab)`` pairs covering the volume along `slab_axis`, `depth` planes each,
        read in one pass over the file."""
        start = 0
        for slab in self.read(depth):
            yield start, slab
            start += slab.shape[self.slab_axis]


def open_volume_file(path: Path) -> VolumeFile:
    """The header of a NRRD (.nrrd, .nhdr), NIfTI (.nii, .nii.gz) or TIFF (.tif, .tiff) file."""
    name = path.name.lower()
    if not path.is_file():
        raise VolumeFileError(f"{path}: no such file")
    if name.endswith((".nrrd", ".nhdr")):
        return _nrrd(path)
    if name.endswith((".nii", ".nii.gz")):
        return _nifti(path)
    if name.endswith((".tif", ".tiff")):
        return _tiff(path)
    raise VolumeFileError(f"{path}: not a volume file (.nrrd, .nhdr, .nii, .nii.gz, .tif, .tiff)")


def _shape3(path: Path, shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) != 3 or min(shape) < 1:
        raise VolumeFileError(f"{path}: a volume has 3 axes, this file has shape {shape}")
    return int(shape[0]), int(shape[1]), int(shape[2])


def _nrrd(path: Path) -> VolumeFile:
    import nrrd

    with path.open("rb") as handle:
        try:
            header = nrrd.read_header(handle)
        except Exception as error:  # pynrrd raises its own and ValueError/KeyError
            raise VolumeFileError(f"{path}: not a NRRD header ({error})") from error
        data_start = handle.tell()
    shape = _shape3(path, tuple(int(size) for size in header.get("sizes", ())))
    dtype = NRRD_TYPE_NAMES.get(str(header.get("type", "")).strip())
    if dtype is None:
        raise VolumeFileError(f"{path}: NRRD type {header.get('type')!r} is not a number type")
    encoding = str(header.get("encoding", "")).strip()
    if encoding not in NRRD_ENCODINGS:
        raise VolumeFileError(f"{path}: NRRD encoding {encoding!r} is not read (raw, gzip, bzip2)")
    if dtype.itemsize > 1:
        endian = header.get("endian")
        if endian not in ("little", "big"):
            raise VolumeFileError(f"{path}: NRRD endian must be little or big, not {endian!r}")
        dtype = dtype.newbyteorder("<" if endian == "little" else ">")
    for skip in ("line skip", "byte skip"):
        if int(header.get(skip, 0)) != 0:
            raise VolumeFileError(f"{path}: NRRD {skip} is not supported")
    data_file = header.get("data file")
    if data_file is not None:
        data_path, data_start = path.parent / str(data_file), 0
        if not data_path.is_file():
            raise VolumeFileError(f"{path}: its data file {data_file} does not exist")
    else:
        data_path = path
    compressed = encoding != "raw"
    read = _fortran_slabs(path, data_path, data_start, compressed, 0, shape, dtype)
    return VolumeFile(path, shape, dtype.newbyteorder("="), _nrrd_spacing(header), 2, read)


def _fortran_slabs(
    path: Path,
    data_path: Path,
    file_offset: int,
    compressed: bool,
    stream_offset: int,
    shape: tuple[int, int, int],
    dtype: np.dtype[Any],
) -> SlabReader:
    """Slabs of the last axis of an array stored first-axis-fastest (NRRD, NIfTI) at
    `file_offset` of a file, gzip/bzip2-compressed from there when `compressed`."""
    plane = shape[0] * shape[1]

    def read(depth: int) -> Iterator[Slab]:
        with ExitStack() as stack:
            stream: BufferedIOBase = stack.enter_context(data_path.open("rb"))
            stream.seek(file_offset)
            if compressed:
                stream = stack.enter_context(_decompressor(stream))
            _skip(stream, stream_offset)
            for start in range(0, shape[2], depth):
                count = (min(shape[2], start + depth) - start) * plane
                buffer = stream.read(count * dtype.itemsize)
                if len(buffer) != count * dtype.itemsize:
                    raise VolumeFileError(f"{path}: the data end early ({shape} {dtype.name})")
                flat = np.frombuffer(buffer, dtype=dtype).astype(dtype.newbyteorder("="))
                yield flat.reshape(-1, shape[1], shape[0]).transpose(2, 1, 0)

    return read


def _decompressor(stream: BufferedIOBase) -> BufferedIOBase:
    """gzip or bzip2 by the stream's magic bytes."""
    position = stream.tell()
    magic = stream.read(3)
    stream.seek(position)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if magic == b"BZh":
        return bz2.BZ2File(stream, mode="rb")
    raise VolumeFileError(f"{getattr(stream, 'name', 'volume')}: data neither gzip nor bzip2")


def _skip(stream: BufferedIOBase, count: int) -> None:
    """Move a (possibly compressed) stream `count` bytes forward."""
    while count > 0:
        step = len(stream.read(min(count, 1 << 24)))
        if step == 0:
            raise VolumeFileError(f"{getattr(stream, 'name', 'volume')}: the data end early")
        count -= step


def _nrrd_spacing(header: dict[str, Any]) -> tuple[float, float, float] | None:
    directions = header.get("space directions")
    if directions is not None:
        norms = np.linalg.norm(np.asarray(directions, dtype=np.float64), axis=1)
        if norms.shape == (3,) and np.isfinite(norms).all() and (norms > 0).all():
            return (float(norms[0]), float(norms[1]), float(norms[2]))
    spacings = header.get("spacings")
    if spacings is not None:
        values = np.asarray(spacings, dtype=np.float64)
        if values.shape == (3,) and np.isfinite(values).all() and (values > 0).all():
            return (float(values[0]), float(values[1]), float(values[2]))
    return None


def _nifti(path: Path) -> VolumeFile:
    import nibabel

    try:
        image: Any = nibabel.load(path)
    except Exception as error:  # nibabel raises ImageFileError and others
        raise VolumeFileError(f"{path}: not a NIfTI file ({error})") from error
    shape = _shape3(path, tuple(image.shape))
    header = image.header
    slope, inter = header.get_slope_inter()
    if (slope not in (None, 1.0)) or (inter not in (None, 0.0)):
        raise VolumeFileError(f"{path}: NIfTI scaling (scl_slope/scl_inter) is not supported")
    unit = header.get_xyzt_units()[0]
    zooms = tuple(float(zoom) for zoom in header.get_zooms()[:3])
    factor = UNITS_UM.get(unit)
    resolution = None
    if factor is not None and all(zoom > 0 for zoom in zooms):
        resolution = (zooms[0] * factor, zooms[1] * factor, zooms[2] * factor)
    dtype = np.dtype(image.get_data_dtype())
    compressed = path.name.lower().endswith(".gz")
    offset = int(image.dataobj.offset)  # the header's vox_offset, as nibabel reads it
    read = _fortran_slabs(path, path, 0, compressed, offset, shape, dtype)
    return VolumeFile(path, shape, dtype.newbyteorder("="), resolution, 2, read)


def _tiff(path: Path) -> VolumeFile:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            series = tiff.series[0]
            shape = _shape3(path, tuple(series.shape))
            if len(series.pages) != shape[0]:
                raise VolumeFileError(f"{path}: a volume TIFF holds one 2-D page per plane")
            dtype = np.dtype(series.dtype).newbyteorder("=")
            resolution = _tiff_spacing(tiff)
    except (tifffile.TiffFileError, IndexError) as error:
        raise VolumeFileError(f"{path}: not a TIFF volume ({error})") from error

    def read(depth: int) -> Iterator[Slab]:
        with tifffile.TiffFile(path) as tiff:
            pages = tiff.series[0].pages
            for start in range(0, shape[0], depth):
                planes = range(start, min(shape[0], start + depth))
                yield np.stack([np.asarray(pages[k].asarray(), dtype=dtype) for k in planes])

    return VolumeFile(path, shape, dtype, resolution, 0, read)


def _tiff_spacing(tiff: Any) -> tuple[float, float, float] | None:
    """Voxel size from ImageJ's metadata (``spacing``, ``unit``) and the X/YResolution tags."""
    meta = tiff.imagej_metadata or {}
    factor = UNITS_UM.get(str(meta.get("unit", "")))
    page = tiff.pages[0]
    tags = page.tags
    if factor is None or "spacing" not in meta or "XResolution" not in tags:
        return None
    x_num, x_den = tags["XResolution"].value
    y_num, y_den = tags["YResolution"].value
    if min(x_num, x_den, y_num, y_den, float(meta["spacing"])) <= 0:
        return None
    return (float(meta["spacing"]) * factor, y_den / y_num * factor, x_den / x_num * factor)
