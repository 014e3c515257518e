"""Small volume files written by the tests themselves: NRRD, NIfTI and TIFF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel
import nrrd
import numpy as np
import tifffile

SHAPE = (40, 30, 20)


def labels(shape: tuple[int, int, int] = SHAPE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32 - 1, size=shape, dtype=np.uint32)


def write_nrrd(
    path: Path,
    data: np.ndarray,
    encoding: str = "gzip",
    spacing: float | tuple[float, float, float] | None = 25,
) -> Path:
    header: dict[str, Any] = {"encoding": encoding}
    if spacing is not None:
        header["space directions"] = np.diag(np.broadcast_to(spacing, 3)).astype(float)
    nrrd.write(str(path), data, header, index_order="F")
    return path


def write_nifti(path: Path, data: np.ndarray, spacing: float = 25) -> Path:
    image = nibabel.Nifti1Image(data, np.diag([spacing, spacing, spacing, 1.0]))
    image.header.set_xyzt_units("micron")
    nibabel.save(image, path)
    return path


def write_tiff(path: Path, data: np.ndarray, spacing: float = 25) -> Path:
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / spacing, 1 / spacing),
        metadata={"spacing": spacing, "unit": "um", "axes": "ZYX"},
    )
    return path
