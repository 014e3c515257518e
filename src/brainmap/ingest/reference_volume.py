"""Add a reference space to a store: its annotation volume (and intensity template) checked in
full, written chunked under ``reference/<id>/volume.zarr`` of the store's pixel root, and its
ReferenceSpace record.

Checks come first (`plan_reference`): the options, the store (the id not already holding a
volume, the structure graph known), the files' headers (3-D, integer labels, template shape),
then one pass over the annotation file that reads every label (a truncated file, a label
outside uint32 or missing from the structure graph stops here). Only then is the volume written
(`brainmap.reference.volume`, in a local folder, then renamed into place or uploaded to a
remote pixel root and checked there: `brainmap.store.pixels`) and the record added in one
transaction. The rules are in docs/reference.md.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from brainmap.ingest.errors import IngestError, IngestNotFound, IngestUsageError
from brainmap.reference.volume import LABEL_MAX, Resolution, write_volume
from brainmap.reference.volume_files import VolumeFile, VolumeFileError, open_volume_file
from brainmap.store.folder import Store
from brainmap.store.pixel_paths import REFERENCE_FOLDER
from brainmap.store.schema import ReferenceSpace, Structure, StructureGraph

SLAB_PLANES = 16
"""Planes of the annotation file read at a time while its labels are checked."""
SHOWN = 5


def volume_path(space_id: int) -> str:
    """Where a reference space's volume lives, relative to the store root."""
    return f"{REFERENCE_FOLDER}/{space_id}/volume.zarr"


@dataclass(frozen=True)
class SpaceRequest:
    """What `brainmap reference add` was asked for."""

    space_id: int
    name: str
    annotation: Path
    template: Path | None = None
    structure_graph_id: int | None = None
    resolution_um: float | Sequence[float] | None = None


@dataclass(frozen=True)
class CheckedSpace:
    """A request checked in full: the volume files' headers, the labels found, the graph."""

    request: SpaceRequest
    annotation: VolumeFile
    template: VolumeFile | None
    labels: NDArray[np.int64]  # the distinct labels but 0, sorted
    structure_graph_id: int | None


@dataclass(frozen=True)
class AddedSpace:
    """What was added: the space, where its volume is, its size and the labels it holds."""

    space_id: int
    path: str
    shape: tuple[int, int, int]
    resolution_um: Resolution
    labels: int
    structure_graph_id: int | None


def slab_count(request: SpaceRequest) -> int:
    """Slabs the checks read (for a progress bar); 0 when a file's header cannot be read."""
    total = 0
    for path in (request.annotation, request.template):
        try:
            volume = open_volume_file(path) if path is not None else None
        except VolumeFileError:
            return 0
        if volume is not None:
            total += math.ceil(volume.shape[volume.slab_axis] / SLAB_PLANES)
    return total


def _check_options(request: SpaceRequest) -> None:
    if request.space_id < 1:
        raise IngestUsageError(f"--id {request.space_id}: must be 1 or more")
    if not request.name.strip():
        raise IngestUsageError("--name: give the reference space a name")
    given = request.resolution_um
    if given is not None:
        values = [given] if isinstance(given, (int, float)) else list(given)
        if len(values) not in (1, 3) or not all(0 < v < math.inf for v in values):
            raise IngestUsageError(
                f"--resolution {given}: one size or three (p,i,r), each above 0 µm and finite"
            )


def _graph_of(store: Store | None, request: SpaceRequest) -> int | None:
    """The structure graph the labels must belong to; refuses an id that holds a volume. No
    store yet (None): there is no graph to name either."""
    if store is None:
        if request.structure_graph_id is not None:
            raise IngestNotFound(
                f"--structure-graph {request.structure_graph_id}: there is no store yet, so no "
                "structure graph (import its structures first: brainmap import)"
            )
        return None
    with store.session() as session:
        stored = session.get(ReferenceSpace, request.space_id)
        if stored is not None and stored.annotation_path:
            raise IngestUsageError(
                f"--id {request.space_id}: reference space {request.space_id} already has a "
                f"volume ({stored.annotation_path}); add the new one under another id"
            )
        graph = request.structure_graph_id
        if graph is None:
            return stored.structure_graph_id if stored is not None else None
        if session.get(StructureGraph, graph) is None:
            raise IngestNotFound(
                f"--structure-graph {graph}: no structure graph with that id in the store "
                "(import its structures first: brainmap import)"
            )
        return graph


def _headers(request: SpaceRequest) -> tuple[VolumeFile, VolumeFile | None]:
    """The files' headers, checked against each other (the data are read later)."""
    annotation = open_volume_file(request.annotation)
    if not np.issubdtype(annotation.dtype, np.integer):
        raise VolumeFileError(f"{annotation.path}: labels must be integers, not {annotation.dtype}")
    template = open_volume_file(request.template) if request.template is not None else None
    if template is not None and template.shape != annotation.shape:
        raise VolumeFileError(
            f"{template.path}: template shape {template.shape} differs from the annotation's "
            f"{annotation.shape}"
        )
    if request.resolution_um is None:
        for volume in (annotation, template):
            if volume is not None and volume.resolution_um is None:
                raise VolumeFileError(
                    f"{volume.path}: the header gives no voxel size: give --resolution"
                )
    return annotation, template


def _slabs(volume: VolumeFile, on_slab: Callable[[], None] | None) -> Iterator[NDArray[Any]]:
    """Every slab of a file, in order; damaged compressed data become a VolumeFileError."""
    try:
        for _, slab in volume.slabs(SLAB_PLANES):
            yield slab
            if on_slab is not None:
                on_slab()
    except VolumeFileError:
        raise
    except (EOFError, OSError, ValueError, zlib.error) as error:  # gzip, bzip2, tifffile
        raise VolumeFileError(f"{volume.path}: the data cannot be read ({error})") from None


def read_labels(volume: VolumeFile, on_slab: Callable[[], None] | None = None) -> NDArray[np.int64]:
    """The distinct labels (but 0) of an annotation file, sorted, read slab by slab (the whole
    file: a short file or a label outside 0..2^32-1 is refused here)."""
    found = np.zeros(0, dtype=np.int64)
    for slab in _slabs(volume, on_slab):
        labels = np.unique(slab)
        if labels.size and (int(labels[0]) < 0 or int(labels[-1]) > LABEL_MAX):
            raise VolumeFileError(f"{volume.path}: labels must lie in 0..{LABEL_MAX}")
        found = np.union1d(found, labels.astype(np.int64))
    nonzero: NDArray[np.int64] = found[found != 0]
    return nonzero


def read_template(volume: VolumeFile, on_slab: Callable[[], None] | None = None) -> None:
    """Read a template file through once: a short or damaged file is refused here."""
    for slab in _slabs(volume, on_slab):
        if slab.dtype.kind == "f" and not np.isfinite(slab).all():
            raise VolumeFileError(f"{volume.path}: intensities must be finite numbers")


def _check_ontology(
    store: Store, volume: VolumeFile, labels: NDArray[np.int64], graph: int
) -> None:
    with store.session() as session:
        known = list(session.scalars(select(Structure.id).where(Structure.graph_id == graph)))
    missing = np.setdiff1d(labels, np.array(known, dtype=np.int64)).tolist()
    if missing:
        shown = ", ".join(str(label) for label in missing[:SHOWN])
        more = f" ({len(missing)} in all)" if len(missing) > SHOWN else ""
        raise IngestError(f"{volume.path}: labels not in structure graph {graph}: {shown}{more}")


def plan_reference(
    store: Store | None, request: SpaceRequest, on_slab: Callable[[], None] | None = None
) -> CheckedSpace:
    """Check everything against `store` (None: none made yet); IngestError (or
    VolumeFileError) on the first problem, nothing written. `on_slab` is called after each
    slab of the label pass."""
    _check_options(request)
    graph = _graph_of(store, request)
    annotation, template = _headers(request)
    labels = read_labels(annotation, on_slab)
    if template is not None:
        read_template(template, on_slab)
    if store is not None and graph is not None:
        _check_ontology(store, annotation, labels, graph)
    return CheckedSpace(request, annotation, template, labels, graph)


def add_reference_space(
    store: Store, checked: CheckedSpace, on_written: Callable[[], None] | None = None
) -> AddedSpace:
    """Write the checked volume into the store's pixel root, whole, then its record. A volume
    left by an earlier run that was stopped before recording it is replaced; on any failure
    the new volume is removed. `on_written` is called between writing and recording (a Ctrl-C
    noted during the write stops there)."""
    request = checked.request
    relative = volume_path(request.space_id)

    def write(folder: Path) -> None:
        write_volume(
            folder,
            request.annotation,
            template=request.template,
            resolution_um=request.resolution_um,
        )

    try:
        volume = store.pixels.write_volume(relative, write)
        if on_written is not None:
            on_written()
        p, i, r = volume.resolution_um
        with store.session() as session:
            space = session.get(ReferenceSpace, request.space_id) or ReferenceSpace(
                id=request.space_id
            )
            space.name = request.name.strip()
            space.structure_graph_id = checked.structure_graph_id
            space.resolution_p, space.resolution_i, space.resolution_r = p, i, r
            space.annotation_path = relative
            space.template_path = relative if volume.has_template else None
            session.add(space)
    except BaseException:
        store.pixels.remove_volume(relative)
        raise
    return AddedSpace(
        request.space_id,
        relative,
        volume.shape,
        volume.resolution_um,
        len(checked.labels),
        checked.structure_graph_id,
    )
