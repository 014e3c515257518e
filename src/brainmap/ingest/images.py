"""Add a lab's own section images to a store: pyramids written, SectionDataSet records created
or extended, the data set linked to a product so the viewer's catalogue lists it.

`brainmap.ingest.plan` checks everything first (every input decoded in full); only then are
pyramids written and records added. 8-bit images become JPEG pyramids (grey repeated to RGB),
16-bit ones lossless pyramids keeping every sample; label maps (integer structure ids) and
masks become AlternateImages. The rules are in docs/ingest.md.

Atomic: every pyramid is written to a temporary name and renamed; pyramid names derive from the
input file, so a rerun reuses what a killed run finished; records are added in one transaction,
and images already recorded (same pyramid) are skipped, so a rerun completes without duplicates.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyvips
from sqlalchemy.orm import Session

from brainmap.ingest import catalogue
from brainmap.ingest.annotation import LABEL_IMAGE_TYPE, annotation_atlas
from brainmap.ingest.decode import Checked
from brainmap.ingest.errors import IngestError as IngestError
from brainmap.ingest.plan import Inputs, Item, Options, Plan, plan
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind
from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK
from brainmap.store.data_sets import image_paths, last_section_number
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AlternateImage,
    Equalization,
    SectionDataSet,
    SectionImage,
    SubImage,
)
from brainmap.store.writes import next_id


@dataclass(frozen=True)
class Written:
    """One input image after its pyramids are on disk (paths relative to the store)."""

    item: Item
    path: str
    alternates: tuple[tuple[str, str], ...]  # (image type, path)


@dataclass(frozen=True)
class Ingested:
    """What an ingest added: the data set, the product listing it, the new image ids."""

    data_set_id: int
    product_id: int
    product_name: str
    image_ids: list[int]


def _as_picture(image: pyvips.Image) -> tuple[pyvips.Image, PyramidKind]:
    if image.bands == 2:
        image = image.bandjoin(image[0] & 0)
    if image.format == "uchar":
        if image.bands == 1:
            image = image.bandjoin([image, image])
        return image.copy(interpretation="srgb"), PyramidKind.RGB8
    return image, PyramidKind.LOSSLESS


def _pyramid_name(store: Store, data_set_id: int, source: Path, role: str) -> str:
    stat = source.stat()
    digest = hashlib.sha1(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return store.new_pyramid_name(
        f"ingest/{data_set_id}/{source.stem}-{role}-{digest.hexdigest()[:12]}"
    )


def _write(store: Store, checked: Checked, name: str, scratch: Path, labels: bool) -> None:
    if store.pixels.has(name):  # written whole by an earlier run (writes are atomic)
        return
    pixels = checked.pixels(scratch)
    if labels:
        store.pixels.write_pyramid(name, pixels.cast("uint"), PyramidKind.LABELS)
    else:
        picture, kind = _as_picture(pixels)
        store.pixels.write_pyramid(name, picture, kind)
    for leftover in scratch.iterdir():  # a slide's decoded pixels
        leftover.unlink()


def write_pyramids(
    store: Store, checked: Plan, on_file: Callable[[Path], None] | None = None
) -> list[Written]:
    """Write each image's pyramids (reusing finished ones); decoded slides go to a scratch
    folder in the store, removed at the end whatever happens."""
    data_set_id = checked.options.data_set_id
    written = []
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=store.pixels.staging()) as folder:
        scratch = Path(folder)
        for item in checked.items:
            name = _pyramid_name(store, data_set_id, item.image.path, "image")
            _write(store, item.image, name, scratch, labels=False)
            alternates = []
            for image_type, mask in item.masks:
                mask_name = _pyramid_name(store, data_set_id, mask.path, "mask")
                _write(store, mask, mask_name, scratch, labels=False)
                alternates.append((image_type, mask_name))
            if item.labels is not None:
                label_name = _pyramid_name(store, data_set_id, item.labels.path, "labels")
                _write(store, item.labels, label_name, scratch, labels=True)
                alternates.append((LABEL_IMAGE_TYPE, label_name))
            written.append(Written(item, name, tuple(alternates)))
            if on_file is not None:
                on_file(item.image.path)
    return written


def _add_image(
    session: Session,
    image_id: int,
    data_set_id: int,
    section: int,
    written: Written,
    resolution: float | None,
) -> None:
    image = written.item.image
    session.add(
        SectionImage(
            id=image_id,
            data_set_id=data_set_id,
            path=written.path,
            **whole_image(image.width, image.height),
            section_number=section,
            number_of_components=image.bands,
            bits_per_component=written.item.bits,
            resolution=resolution if resolution is not None else image.resolution,
            expression_path=dict(written.alternates).get(EXPRESSION_MASK),
        )
    )
    session.flush()


def record(store: Store, checked: Plan, written: Sequence[Written]) -> Ingested:
    """Create or extend the data set and its records in one transaction."""
    options = checked.options
    data_set_id = options.data_set_id
    with store.session() as session:
        data_set = session.get(SectionDataSet, data_set_id)
        if data_set is None:
            data_set = SectionDataSet(id=data_set_id, failed=False)
            session.add(data_set)
            session.flush()
        product = catalogue.link(session, data_set, options.product, options.plane)
        known = image_paths(session, data_set_id)
        atlas = (
            annotation_atlas(session, data_set_id, checked.structures)
            if checked.structures
            else None
        )
        image_id = next_id(session, SubImage.id)
        alternate_id = next_id(session, AlternateImage.id)
        section = last_section_number(session, data_set_id)
        new_ids = []
        for item in (w for w in written if w.path not in known):
            section += 1
            _add_image(session, image_id, data_set_id, section, item, options.resolution)
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
        if checked.equalization is not None:
            _set_equalization(session, data_set, checked.equalization)
    return Ingested(data_set_id, product.id, product.name or "", new_ids)


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


def ingest_checked(
    store: Store, checked: Plan, on_file: Callable[[Path], None] | None = None
) -> Ingested:
    """Write and record what `plan` checked."""
    return record(store, checked, write_pyramids(store, checked, on_file))


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
    resolution: float | None = None,
    plane: str | None = None,
    product: str | None = None,
) -> Ingested:
    """Check every input, then ingest `images` into data set `data_set_id`."""
    inputs = Inputs(
        images, {EXPRESSION_MASK: expression, PROJECTION_MASK: projection}, labels, structures
    )
    options = Options(data_set_id, window, resolution, plane, product)
    return ingest_checked(store, plan(store, inputs, options))
