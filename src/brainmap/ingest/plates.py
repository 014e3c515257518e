"""Cut an atlas of plates from a stored reference volume: an AtlasDataSet of AtlasImages, one per
plane every so many µm, each with its label map (an AlternateImage of the atlas, painted from
the ontology when served with ``annotation=true``), its picture (the template's plane, else the
annotation drawn as an atlas drawing: structure colours with darker boundaries), its
Alignment2d, and the data set's Alignment3d, so the image-sync services treat plates like
sections (`brainmap.reference.plates` gives the geometry).

Checks come first (`plan_plates`); then the plates are cut one plane at a time (memory stays
bounded by one slab of the volume's chunks); pyramids are written atomically under names fixed
by the request, so a rerun after an interruption reuses the finished ones; records are added
in one transaction at the end. The rules are in docs/reference.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyvips
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from brainmap.imaging.annotate import PlatePalette
from brainmap.ingest.annotation import LABEL_IMAGE_TYPE
from brainmap.ingest.catalogue import Choice, choose_plane
from brainmap.ingest.errors import IngestError, IngestNotFound, IngestUsageError
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind
from brainmap.reference.chunks import ChunkCache
from brainmap.reference.planes import AXES, plane_axes
from brainmap.reference.plates import PlateGeometry, plate_geometry, plate_indices
from brainmap.reference.volume import ReferenceVolume, Resolution
from brainmap.reference.volume_files import VolumeFileError
from brainmap.store.folder import Store
from brainmap.store.ontology import StructurePalette, colour_rows
from brainmap.store.pixel_paths import OutsidePyramids
from brainmap.store.pixels import PixelRoot
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    DataSet,
    PlaneOfSection,
    ReferenceSpace,
    SubImage,
)
from brainmap.store.writes import next_id

PLANES = ("coronal", "sagittal", "horizontal")
MAX_PIXELS_PER_VOXEL = 64
MAX_CACHE_BYTES = 256 << 20
WINDOW_BINS = 4096
WINDOW_TOP = 0.999
"""A template's plates map its values linearly from the volume's minimum (black) to this
quantile of all its voxels (white)."""


@dataclass(frozen=True)
class PlateRequest:
    """What `brainmap reference plates` was asked for."""

    space_id: int
    atlas_id: int
    plane: str
    every_um: float
    pixels_per_voxel: int = 1


@dataclass(frozen=True)
class PlatePlan:
    """A request checked against the store: the space, its volume, the planes to cut."""

    request: PlateRequest
    space_name: str
    structure_graph_id: int | None
    volume_path: str  # in the store's pixel root
    shape: tuple[int, int, int]
    resolution_um: Resolution
    has_template: bool
    plane: Choice
    indices: tuple[int, ...]


@dataclass(frozen=True)
class Plate:
    """One plate cut: where it lies and its pyramids (paths relative to the store)."""

    geometry: PlateGeometry
    picture: str
    labels: str


@dataclass(frozen=True)
class CutPlates:
    """What was added: the atlas, its data set and the plates' image ids in section order."""

    atlas_id: int
    data_set_id: int
    image_ids: list[int]


def _check_request(request: PlateRequest) -> None:
    if request.plane not in PLANES:
        raise IngestUsageError(f"--plane {request.plane}: one of {', '.join(PLANES)}")
    if not (math.isfinite(request.every_um) and request.every_um > 0):
        raise IngestUsageError(f"--every {request.every_um}: must be above 0 µm, and finite")
    if not 1 <= request.pixels_per_voxel <= MAX_PIXELS_PER_VOXEL:
        raise IngestUsageError(
            f"--pixels-per-voxel {request.pixels_per_voxel}: 1 to {MAX_PIXELS_PER_VOXEL}"
        )


def _space(session: Session, request: PlateRequest) -> ReferenceSpace:
    if session.get(Atlas, request.atlas_id) is not None:
        raise IngestUsageError(
            f"--atlas {request.atlas_id}: atlas {request.atlas_id} already exists; choose a new id"
        )
    space = session.get(ReferenceSpace, request.space_id)
    if space is None:
        raise IngestNotFound(f"--reference-space {request.space_id}: no reference space")
    if not space.annotation_path:
        raise IngestNotFound(
            f"--reference-space {request.space_id}: has no volume "
            "(add one with brainmap reference add)"
        )
    return space


def plan_plates(store: Store, request: PlateRequest) -> PlatePlan:
    """Check the request against the store; IngestError on the first problem, nothing written."""
    _check_request(request)
    with store.session() as session:
        space = _space(session, request)
        plane = choose_plane(session, request.plane)
        assert plane is not None
        name = space.name or f"reference space {space.id}"
        graph, stored = space.structure_graph_id, str(space.annotation_path)
    try:
        volume = store.pixels.open_volume(stored)
    except (VolumeFileError, OutsidePyramids, OSError) as error:
        raise IngestError(f"reference space {request.space_id}: {error}") from None
    try:
        shape, resolution = volume.shape, volume.resolution_um
        indices = plate_indices(request.plane, shape, resolution, request.every_um)
    except ValueError as error:
        raise IngestUsageError(f"--every {request.every_um:g}: {error}") from None
    return PlatePlan(
        request, name, graph, stored, shape, resolution, volume.has_template, plane, tuple(indices)
    )


def _slab_budget(plan: PlatePlan, cache: ChunkCache) -> int:
    """Bytes of one slab of chunks across the plates' normal: what a sweep needs held."""
    normal, _, _ = plane_axes(plan.request.plane)
    chunks = [math.ceil(n / c) for n, c in zip(cache.shape, cache.chunks, strict=True)]
    count = math.prod(chunks) // chunks[normal]
    per_chunk = math.prod(cache.chunks) * cache.array.dtype.itemsize
    return min(count * per_chunk + per_chunk, MAX_CACHE_BYTES)


def open_for_plates(pixels: PixelRoot, plan: PlatePlan) -> ReferenceVolume:
    """The volume, each layer's cache held to one slab of chunks across the plates' normal."""
    volume = pixels.open_volume(plan.volume_path)
    for cache in volume.layers.values():
        cache.budget_bytes = _slab_budget(plan, cache)
    return volume


def template_window(volume: ReferenceVolume) -> tuple[float, float]:
    """The template values drawn black and white: the volume's minimum and its WINDOW_TOP
    quantile, from two passes over its chunks."""
    layer = volume.layers["template"]
    low, high = math.inf, -math.inf
    for key in layer.chunk_keys():
        chunk = layer.read(key)
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    if high <= low:
        return low, low + 1
    counts = np.zeros(WINDOW_BINS, dtype=np.int64)
    for key in layer.chunk_keys():
        counts += np.histogram(layer.read(key), WINDOW_BINS, (low, high))[0]
    rank = int(np.searchsorted(np.cumsum(counts), WINDOW_TOP * counts.sum()))
    top = low + (high - low) * (rank + 1) / WINDOW_BINS
    return low, top


def _enlarged(plane: NDArray[np.generic], pixels_per_voxel: int) -> NDArray[np.generic]:
    if pixels_per_voxel == 1:
        return plane
    return plane.repeat(pixels_per_voxel, axis=0).repeat(pixels_per_voxel, axis=1)


def _grey(values: NDArray[np.generic], window: tuple[float, float]) -> pyvips.Image:
    low, high = window
    scaled = (values.astype(np.float64) - low) * (255 / (high - low))
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(grey))
    return image.bandjoin([image, image]).copy(interpretation="srgb")


class PlateCutter:
    """Cuts one plate at a time from the volume and writes its pyramids."""

    def __init__(self, store: Store, plan: PlatePlan) -> None:
        self.store, self.plan = store, plan
        self.volume = open_for_plates(store.pixels, plan)
        self.window = template_window(self.volume) if plan.has_template else None
        graph = plan.structure_graph_id
        with store.session() as session:
            rows = colour_rows(session, graph) if graph is not None else ()
        self.palette = PlatePalette.build(StructurePalette.from_rows(rows).colours)

    def _name(self, index: int, role: str) -> str:
        request = self.plan.request
        stem = (
            f"reference/{request.space_id}/atlas-{request.atlas_id}/"
            f"{request.plane}-{request.pixels_per_voxel}x-{index:05d}-{role}"
        )
        return self.store.new_pyramid_name(stem)

    def cut(self, index: int) -> Plate:
        """Plate `index` along the normal: its label map and picture written (or reused)."""
        request = self.plan.request
        u = request.pixels_per_voxel
        geometry = plate_geometry(request.plane, index, self.plan.shape, self.plan.resolution_um, u)
        axis = AXES[plane_axes(request.plane)[0]]
        labels_name = self._name(index, "labels")
        picture_name = self._name(index, "drawing" if self.window is None else "template")
        labels = None
        pixels = self.store.pixels
        if not pixels.has(labels_name):
            labels = _labels(self.volume, axis, index, u)
            pixels.write_pyramid(labels_name, labels, PyramidKind.LABELS)
        if not pixels.has(picture_name):
            if self.window is not None:
                plane = _enlarged(self.volume.plane(axis, index, "template"), u)
                pixels.write_pyramid(picture_name, _grey(plane, self.window), PyramidKind.RGB8)
            else:
                if labels is None:
                    labels = _labels(self.volume, axis, index, u)
                painted = self.palette.paint(labels)
                pixels.write_pyramid(picture_name, painted, PyramidKind.LOSSLESS)
        return Plate(geometry, picture_name, labels_name)


def _labels(volume: ReferenceVolume, axis: str, index: int, u: int) -> pyvips.Image:
    plane = np.ascontiguousarray(_enlarged(volume.plane(axis, index), u), dtype=np.uint32)
    return pyvips.Image.new_from_array(plane)


def cut_plates(
    store: Store, plan: PlatePlan, on_plate: Callable[[int], None] | None = None
) -> list[Plate]:
    """Every plate of the plan, one plane at a time; `on_plate(index)` after each."""
    cutter = PlateCutter(store, plan)
    plates = []
    for index in plan.indices:
        plates.append(cutter.cut(index))
        if on_plate is not None:
            on_plate(index)
    return plates


def _plane_id(session: Session, plane: Choice) -> int | None:
    """The plane's row id, adding one of the public planes the store lacks."""
    if plane.id is not None and session.get(PlaneOfSection, plane.id) is None:
        session.add(
            PlaneOfSection(id=plane.id, name=plane.name, plane_of_section_name_facet=plane.facet)
        )
        session.flush()
    return plane.id


def record_plates(store: Store, plan: PlatePlan, plates: Sequence[Plate]) -> CutPlates:
    """The atlas, its data set, plates, label maps and alignments, in one transaction (a plan
    has at least one plate: the first plane)."""
    request = plan.request
    first = plates[0].geometry
    title = f"{plan.space_name}, {request.plane}, every {request.every_um:g} µm"
    with store.session() as session:
        _space(session, request)  # still free, still there
        data_set_id = next_id(session, DataSet.id)
        session.add(
            AtlasDataSet(
                id=data_set_id,
                name=title,
                failed=False,
                plane_of_section_id=_plane_id(session, plan.plane),
                reference_space_id=request.space_id,
                section_thickness=first.section_thickness,
            )
        )
        session.flush()
        session.add(
            Atlas(
                id=request.atlas_id,
                name=title,
                description=f"plates cut from reference space {request.space_id} by brainmap",
                image_type=LABEL_IMAGE_TYPE,
                atlas_data_set_id=data_set_id,
                structure_graph_id=plan.structure_graph_id,
            )
        )
        session.add(
            Alignment3d(
                id=next_id(session, Alignment3d.id),
                aligned_id=data_set_id,
                aligned_type="DataSet",
                **first.alignment3d,
            )
        )
        session.flush()
        image_ids = _add_images(session, plan, plates, data_set_id)
    return CutPlates(request.atlas_id, data_set_id, image_ids)


def _add_images(
    session: Session, plan: PlatePlan, plates: Sequence[Plate], data_set_id: int
) -> list[int]:
    col_axis = plane_axes(plan.request.plane)[2]
    pixel_um = plan.resolution_um[col_axis] / plan.request.pixels_per_voxel
    image_id = next_id(session, SubImage.id)
    alternate_id = next_id(session, AlternateImage.id)
    alignment_id = next_id(session, Alignment2d.id)
    image_ids = []
    for offset, plate in enumerate(plates):
        geometry = plate.geometry
        ident = image_id + offset
        session.add(
            AtlasImage(
                id=ident,
                data_set_id=data_set_id,
                path=plate.picture,
                **whole_image(geometry.width, geometry.height),
                section_number=geometry.index,
                annotated=True,
                failed=False,
                number_of_components=3,
                bits_per_component=8,
                resolution=pixel_um,
            )
        )
        session.flush()
        session.add_all(
            [
                AlternateImage(
                    id=alternate_id + offset,
                    sub_image_id=ident,
                    image_type=LABEL_IMAGE_TYPE,
                    path=plate.labels,
                    atlas_id=plan.request.atlas_id,
                ),
                Alignment2d(
                    id=alignment_id + offset, section_image_id=ident, **geometry.alignment2d
                ),
            ]
        )
        image_ids.append(ident)
    session.flush()
    return image_ids
