"""One 3-D OME-Zarr volume (NGFF 0.4) of a data set's warped sections, each placed at its own
reference position (`brainmap.reference.stack.SectionStack`), assembled from the verified
section files of a bulk run.

The volume is built beside its final name (``.<name>.<random>.part``) and renamed into place
when complete, so a reader never sees half a volume and a killed run leaves nothing to trust. It
records the name and SHA-256 of every section file it holds: a rerun whose files are unchanged
keeps it as it is, any other rebuilds it.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainmap.client import warped_png
from brainmap.client.bulk.progress import ProgressReporter
from brainmap.client.warping import WarpPlan
from brainmap.reference.planes import CCF_EXTENT_UM

VOLUME = "reference.ome.zarr"
SOURCES = "brainmap_sections"
"""The volume attribute listing ``[file, sha256]`` of the sections placed in it."""


def _row_bounds(valid: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per row, the first and last valid column (last < first: none); a section's valid grid
    points are one run per row (the image is a convex quadrilateral on the grid)."""
    width = valid.shape[1]
    any_valid = valid.any(axis=1)
    first = np.where(any_valid, valid.argmax(axis=1), 0)
    last = np.where(any_valid, width - 1 - valid[:, ::-1].argmax(axis=1), -1)
    return first.astype(np.intp), last.astype(np.intp)


def _recorded(path: Path) -> Any:
    """The sections a finished volume at `path` records (None when there is none)."""
    import zarr

    try:
        return zarr.open_group(path, mode="r", zarr_format=2).attrs.get(SOURCES)
    except (OSError, ValueError, KeyError, zarr.errors.GroupNotFoundError):
        return None


def build_volume(
    folder: Path,
    sections: Sequence[tuple[WarpPlan, str]],
    name: str,
    extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
    *,
    quiet: bool = False,
) -> bool:
    """Bring ``folder/reference.ome.zarr`` to the warped sections `sections` (each plan and its
    file in `folder`), placed in section-number order, with a progress bar unless `quiet`;
    False when it already held them."""
    from brainmap.reference.stack import SectionStack
    from brainmap.reference.warp import WarpedSection

    if not sections:
        raise ValueError("a volume needs at least one section")
    ordered = sorted(sections, key=lambda item: (item[0].section_number, item[0].image.id))
    bodies = [(folder / file).read_bytes() for _, file in ordered]
    sources = [
        [file, hashlib.sha256(body).hexdigest()]
        for (_, file), body in zip(ordered, bodies, strict=True)
    ]
    target = folder / VOLUME
    if _recorded(target) == sources:
        return False
    for leftover in folder.glob(f".{VOLUME}.*.part"):
        _remove(leftover)
    building = folder / f".{VOLUME}.{uuid.uuid4().hex}.part"
    progress = ProgressReporter(len(ordered), 0, quiet=quiet, label="OME-Zarr volume")
    try:
        grid = ordered[0][0].plane.grid
        stack = SectionStack.create(building, grid, channels=3, extent_um=extent_um, name=name)
        for (plan, file), body in zip(ordered, bodies, strict=True):
            pixels, valid = warped_png.decode(body)
            warped = WarpedSection(pixels, plan.plane, plan.position_um(), *_row_bounds(valid))
            stack.place(warped)
            progress.update(file, len(body), ok=True)
        stack.group.attrs[SOURCES] = sources
        _swap(building, target)
    finally:
        progress.close()
        shutil.rmtree(building, ignore_errors=True)
    return True


def _swap(built: Path, target: Path) -> None:
    """Put the folder `built` at `target`, replacing what was there."""
    if not target.exists():
        built.rename(target)
        return
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old.part")
    target.rename(old)
    built.rename(target)
    _remove(old)


def _remove(path: Path) -> None:
    """Delete the folder or file at `path`, as far as it can be (what stays is a ``.part``)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
