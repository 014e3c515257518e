"""Add a user's section images to a store: pyramids written, SectionDataSet records created or
extended.

Inputs are read with libvips: TIFF and BigTIFF (8/16-bit, 1-3 channels), PNG, JPEG, and the
full-resolution image of an existing pyramidal TIFF / OME-TIFF (interleaved channels). 8-bit
images become JPEG pyramids (grey repeated to RGB), 16-bit ones lossless pyramids (recorded as
12-bit when every value fits). Optional per-image expression / projection masks (8-bit) and
label maps (integer structure ids, with a structure table) become AlternateImages; label maps
hang off a new Atlas over a new StructureGraph for the data set. Without an explicit window the
data set's Equalization is computed from the images (0.1 / 99.9 percentiles per channel of each
pyramid's overview, on the 12-bit scale).

Atomic: every pyramid is written to a temporary name and renamed; pyramid names derive from the
input file, so a rerun reuses what a killed run finished; records are added in one transaction,
and images already recorded (same pyramid) are skipped, so a rerun completes without duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips
from sqlalchemy.orm import Session

from brainmap.errors import BrainmapError
from brainmap.pyramid.local import Pyramid
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK
from brainmap.store.data_sets import first_atlas, image_paths, last_section_number
from brainmap.store.folder import Store
from brainmap.store.ontology import structure_ids, write_id_paths
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    DataSet,
    Equalization,
    Ontology,
    SectionDataSet,
    SectionImage,
    Structure,
    StructureGraph,
    SubImage,
)
from brainmap.store.writes import next_id

FULL_SCALE = 4095
OVERVIEW_SIDE = 2048
LABEL_IMAGE_TYPE = "Annotation"
_OME_SIZE_C = re.compile(r'SizeC="(\d+)"')
STRUCTURE_COLUMNS = ("id", "acronym", "name", "parent_structure_id", "color_hex_triplet")


class IngestError(BrainmapError, ValueError):
    """An input cannot be ingested; the message names the file and the problem."""


@dataclass(frozen=True)
class Written:
    """One input image after its pyramids are on disk (paths relative to the store)."""

    source: Path
    path: str
    width: int
    height: int
    bands: int
    bits: int
    alternates: tuple[tuple[str, str], ...]  # (image type, path)


def open_image(path: Path) -> pyvips.Image:
    """The full-resolution image of `path`; IngestError when libvips cannot read it.

    An OME-TIFF whose channels are separate pages (``SizeC`` > 1, one sample a page) has its
    first ``SizeC`` pages joined as bands.
    """
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential")
        channels = _ome_channel_pages(image)
        if channels > 1:
            pages = pyvips.Image.new_from_file(str(path), n=channels)
            height = pages.height // channels
            image = pages.crop(0, 0, pages.width, height).bandjoin(
                [pages.crop(0, c * height, pages.width, height) for c in range(1, channels)]
            )
    except pyvips.Error as error:
        detail = str(error).strip().splitlines()[-1]
        raise IngestError(f"{path}: not a readable TIFF, PNG or JPEG image ({detail})") from None
    if image.bands > 3:
        raise IngestError(f"{path}: {image.bands} channels; brainmap stores 1 to 3")
    return image


def _ome_channel_pages(image: pyvips.Image) -> int:
    """SizeC of an OME-TIFF storing one channel a page; 1 for anything else."""
    if image.bands != 1 or "image-description" not in image.get_fields():
        return 1
    match = _OME_SIZE_C.search(str(image.get("image-description")))
    return int(match.group(1)) if match and "<OME" in match.string else 1


def _as_picture(image: pyvips.Image, path: Path) -> tuple[pyvips.Image, PyramidKind]:
    if image.format not in ("uchar", "ushort"):
        raise IngestError(f"{path}: {image.format} samples; expected 8- or 16-bit unsigned")
    if image.bands == 2:
        image = image.bandjoin(image[0] & 0)
    if image.format == "uchar":
        if image.bands == 1:
            image = image.bandjoin([image, image])
        return image.copy(interpretation="srgb"), PyramidKind.RGB8
    return image, PyramidKind.LOSSLESS


def _as_labels(image: pyvips.Image, path: Path) -> pyvips.Image:
    if image.bands != 1 or image.format not in ("uchar", "ushort", "uint"):
        raise IngestError(f"{path}: a label map needs one unsigned integer channel")
    return image.cast("uint")


def _pyramid_name(store: Store, data_set_id: int, source: Path, role: str) -> str:
    stat = source.stat()
    digest = hashlib.sha1(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return store.new_pyramid_name(
        f"ingest/{data_set_id}/{source.stem}-{role}-{digest.hexdigest()[:12]}"
    )


def _write(store: Store, image: pyvips.Image, name: str, kind: PyramidKind) -> None:
    target = store.pyramid_path(name)
    if not target.is_file():  # written whole by an earlier run (writes are atomic)
        write_pyramid(image, target, kind)


def _check_size(image: pyvips.Image, path: Path, width: int, height: int, what: str) -> None:
    if (image.width, image.height) != (width, height):
        raise IngestError(
            f"{path}: {what} is {image.width} x {image.height}, its image {width} x {height}"
        )


def write_pyramids(
    store: Store,
    data_set_id: int,
    images: Sequence[Path],
    masks: dict[str, Sequence[Path]],
    labels: Sequence[Path],
    on_file: Callable[[Path], None] | None = None,
) -> list[Written]:
    """Validate every input first, then write each image's pyramids (reusing finished ones)."""
    for what, paths in [*masks.items(), ("label maps", labels)]:
        if paths and len(paths) != len(images):
            raise IngestError(f"{len(paths)} {what.lower()} files for {len(images)} images")
    opened = [open_image(path) for path in images]
    for index, image in enumerate(opened):
        _as_picture(image, images[index])
        for what, paths in [*masks.items(), ("label map", labels)]:
            if paths:
                other = open_image(paths[index])
                _check_size(other, paths[index], image.width, image.height, what.lower())
                if what == "label map":
                    _as_labels(other, paths[index])
                else:
                    _as_picture(other, paths[index])
    written = []
    for index, source in enumerate(images):
        picture, kind = _as_picture(opened[index], source)
        name = _pyramid_name(store, data_set_id, source, "image")
        _write(store, picture, name, kind)
        alternates = []
        for image_type, paths in masks.items():
            if paths:
                mask_name = _pyramid_name(store, data_set_id, paths[index], "mask")
                mask, mask_kind = _as_picture(open_image(paths[index]), paths[index])
                _write(store, mask, mask_name, mask_kind)
                alternates.append((image_type, mask_name))
        if labels:
            label_name = _pyramid_name(store, data_set_id, labels[index], "labels")
            label_map = _as_labels(open_image(labels[index]), labels[index])
            _write(store, label_map, label_name, PyramidKind.LABELS)
            alternates.append((LABEL_IMAGE_TYPE, label_name))
        bits = 8 if kind is PyramidKind.RGB8 else _deep_bits(store.pyramid_path(name))
        written.append(
            Written(
                source,
                name,
                picture.width,
                picture.height,
                opened[index].bands,
                bits,
                tuple(alternates),
            )
        )
        if on_file is not None:
            on_file(source)
    return written


def overview(path: Path) -> np.ndarray:
    """The finest pyramid level at most OVERVIEW_SIDE a side, as H x W x C."""
    pyramid = Pyramid(path)
    level = 0
    while (
        level < pyramid.levels - 1
        and max(pyramid.level(level).width, pyramid.level(level).height) > OVERVIEW_SIDE
    ):
        level += 1
    pixels: np.ndarray = pyramid.level(level).numpy()
    return pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis]


def _deep_bits(path: Path) -> int:
    return 12 if int(overview(path).max()) <= FULL_SCALE else 16


def equalization_from(paths: Sequence[Path]) -> tuple[int, ...]:
    """Per-channel 0.1 / 99.9 percentile windows over the images, on the 12-bit scale."""
    bounds: list[int] = []
    samples = [overview(path) for path in paths]
    for channel in range(3):
        values = np.concatenate(
            [s[..., min(channel, s.shape[2] - 1)].ravel().astype(np.float64) for s in samples]
        )
        if all(s.dtype == np.uint8 for s in samples):
            values *= FULL_SCALE / 255
        low, high = np.percentile(values, [0.1, 99.9])
        low_int = int(np.floor(low))
        bounds += [low_int, max(int(np.ceil(high)), low_int + 1)]
    return tuple(bounds)


def read_structures(path: Path) -> list[dict[str, str]]:
    """Rows of a structure table CSV with columns STRUCTURE_COLUMNS (header required)."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise IngestError(f"{path}: {error.strerror}") from None
    missing = [c for c in ("id", "color_hex_triplet") if not rows or c not in rows[0]]
    if missing:
        raise IngestError(f"{path}: needs a header with columns {', '.join(STRUCTURE_COLUMNS)}")
    for row in rows:
        if not row["id"].strip().isdigit():
            raise IngestError(f"{path}: structure id {row['id']!r} is not a positive integer")
    return rows


def _annotation_atlas(
    session: Session, data_set_id: int, structures: list[dict[str, str]]
) -> Atlas:
    atlas = first_atlas(session, data_set_id)
    if atlas is not None:
        return atlas
    taken = structure_ids(session)
    clash = sorted(int(row["id"]) for row in structures if int(row["id"]) in taken)
    if clash:
        raise IngestError(f"structure ids already in the store: {clash[:10]}")
    ontology = Ontology(id=next_id(session, Ontology.id), name=f"data set {data_set_id}")
    graph = StructureGraph(id=next_id(session, StructureGraph.id), name=ontology.name)
    session.add_all([ontology, graph])
    session.flush()
    graph.ontology_id = ontology.id
    atlas = Atlas(
        id=next_id(session, Atlas.id),
        name=f"annotation of data set {data_set_id}",
        image_type=LABEL_IMAGE_TYPE,
        atlas_data_set_id=data_set_id,
        structure_graph_id=graph.id,
    )
    session.add(atlas)
    for order, row in enumerate(structures):
        parent = (row.get("parent_structure_id") or "").strip()
        session.add(
            Structure(
                id=int(row["id"]),
                acronym=row.get("acronym"),
                name=row.get("name"),
                graph_id=graph.id,
                ontology_id=ontology.id,
                graph_order=order,
                color_hex_triplet=row["color_hex_triplet"].strip().lstrip("#").upper(),
                parent_structure_id=int(parent) if parent else None,
            )
        )
    session.flush()
    write_id_paths(session, graph.id)
    return atlas


def record(
    store: Store,
    data_set_id: int,
    written: Sequence[Written],
    window: tuple[int, ...] | None,
    structures: list[dict[str, str]] | None,
) -> list[int]:
    """Create or extend the data set and its records in one transaction; the new image ids."""
    with store.session() as session:
        data_set = session.get(SectionDataSet, data_set_id)
        if data_set is None:
            if session.get(DataSet, data_set_id) is not None:
                raise IngestError(f"data set {data_set_id} exists and is not a SectionDataSet")
            data_set = SectionDataSet(id=data_set_id, failed=False)
            session.add(data_set)
            session.flush()
        known = image_paths(session, data_set_id)
        fresh = [w for w in written if w.path not in known]
        atlas = _annotation_atlas(session, data_set_id, structures) if structures else None
        image_id = next_id(session, SubImage.id)
        alternate_id = next_id(session, AlternateImage.id)
        section = last_section_number(session, data_set_id)
        new_ids = []
        for item in fresh:
            section += 1
            expression = dict(item.alternates).get(EXPRESSION_MASK)
            session.add(
                SectionImage(
                    id=image_id,
                    data_set_id=data_set_id,
                    path=item.path,
                    **whole_image(item.width, item.height),
                    section_number=section,
                    number_of_components=item.bands,
                    bits_per_component=item.bits,
                    expression_path=expression,
                )
            )
            session.flush()
            for image_type, path in item.alternates:
                session.add(
                    AlternateImage(
                        id=alternate_id,
                        sub_image_id=image_id,
                        image_type=image_type,
                        path=path,
                        atlas_id=atlas.id if image_type == LABEL_IMAGE_TYPE and atlas else None,
                    )
                )
                alternate_id += 1
            new_ids.append(image_id)
            image_id += 1
        if window is not None or data_set.equalization is None:
            bounds = window or equalization_from([store.pyramid_path(w.path) for w in written])
            _set_equalization(session, data_set, bounds)
    return new_ids


def _set_equalization(session: Session, data_set: SectionDataSet, bounds: Sequence[int]) -> None:
    equalization = data_set.equalization or Equalization(
        id=next_id(session, Equalization.id), section_data_set_id=data_set.id
    )
    (
        equalization.red_lower,
        equalization.red_upper,
        equalization.green_lower,
        equalization.green_upper,
        equalization.blue_lower,
        equalization.blue_upper,
    ) = bounds
    session.add(equalization)


def ingest_images(
    store: Store,
    images: Sequence[Path],
    *,
    data_set_id: int,
    expression: Sequence[Path] = (),
    projection: Sequence[Path] = (),
    labels: Sequence[Path] = (),
    structures: Path | None = None,
    window: tuple[int, ...] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[int]:
    """Ingest `images` into data set `data_set_id`; returns the new SectionImage ids."""
    if not images:
        raise IngestError("no images given")
    if labels and structures is None:
        raise IngestError("label maps need a structure table (--structures FILE.csv)")
    if window is not None and (
        len(window) != 6 or any(h <= lo for lo, h in zip(window[::2], window[1::2], strict=True))
    ):
        raise IngestError("a window is six numbers rl,ru,gl,gu,bl,bu with each upper > lower")
    table = read_structures(structures) if structures is not None and labels else None
    masks = {EXPRESSION_MASK: expression, PROJECTION_MASK: projection}
    written = write_pyramids(store, data_set_id, images, masks, labels, on_file)
    return record(store, data_set_id, written, window, table)
