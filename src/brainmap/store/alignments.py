"""The records the image-sync services compute from: a SubImage's Alignment2d and section number,
a data set's Alignment3d and section thickness, the aligned images of a data set (or the
annotated plates of an atlas), reference spaces and the ontology's tree.

Store lookups only, no HTTP. Every refusal is NotFound naming the record and what it lacks
(DECISIONS.md "Registration"); a record whose matrix has an empty or non-finite cell is refused
the same way, naming the cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from brainmap.errors import NotFound
from brainmap.reference.alignment import DataSetAlignment, SectionAlignment
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    Atlas,
    DataSet,
    ReferenceSpace,
    Structure,
    SubImage,
)


@dataclass(frozen=True)
class AlignedImage:
    """A SubImage (section or plate) placed in its data set's volume."""

    id: int
    data_set_id: int
    section_number: int
    alignment: SectionAlignment


@dataclass(frozen=True)
class AlignedDataSet:
    """A data set placed in its reference space."""

    id: int
    reference_space_id: int | None
    alignment: DataSetAlignment


@dataclass(frozen=True)
class SpaceVolumes:
    """A reference space's volumes: store-relative folders (None when it has none)."""

    id: int
    annotation_path: str | None
    template_path: str | None


def _section(record: Alignment2d, image_id: int, section_number: int) -> SectionAlignment:
    try:
        return SectionAlignment.from_record(record, section_number)
    except ValueError as error:
        raise NotFound(f"image {image_id}: {error}") from None


def aligned_image(session: Session, image_id: int) -> AlignedImage:
    """A SubImage with its Alignment2d, section number and data set."""
    image = session.get(SubImage, image_id)
    if image is None:
        raise NotFound(f"no image with id {image_id}")
    record = session.scalars(
        select(Alignment2d).where(Alignment2d.section_image_id == image_id).order_by(Alignment2d.id)
    ).first()
    if record is None:
        raise NotFound(f"image {image_id} has no Alignment2d")
    if image.section_number is None:
        raise NotFound(f"image {image_id} has no section_number")
    if image.data_set_id is None:
        raise NotFound(f"image {image_id} belongs to no data set")
    section = _section(record, image_id, image.section_number)
    return AlignedImage(image_id, image.data_set_id, image.section_number, section)


def aligned_data_set(session: Session, data_set_id: int) -> AlignedDataSet:
    """A data set with its Alignment3d and section thickness."""
    data_set = session.get(DataSet, data_set_id)
    if data_set is None:
        raise NotFound(f"no data set with id {data_set_id}")
    record = session.scalars(
        select(Alignment3d)
        .where(Alignment3d.aligned_id == data_set_id, Alignment3d.aligned_type == "DataSet")
        .order_by(Alignment3d.id)
    ).first()
    if record is None:
        raise NotFound(f"data set {data_set_id} has no Alignment3d")
    if data_set.section_thickness is None:
        raise NotFound(f"data set {data_set_id} has no section_thickness")
    try:
        alignment = DataSetAlignment.from_record(record, data_set.section_thickness)
    except ValueError as error:
        raise NotFound(f"data set {data_set_id}: {error}") from None
    return AlignedDataSet(data_set_id, data_set.reference_space_id, alignment)


def data_set_images(
    session: Session, data_set_id: int, *, annotated_only: bool = False
) -> list[AlignedImage]:
    """The data set's images that have an Alignment2d and a section number, by section number
    (then id); with `annotated_only`, only annotated ones. NotFound when there are none."""
    query = (
        select(SubImage.id, SubImage.section_number, Alignment2d)
        .join(Alignment2d, Alignment2d.section_image_id == SubImage.id)
        .where(SubImage.data_set_id == data_set_id, SubImage.section_number.is_not(None))
        .order_by(SubImage.section_number, SubImage.id, Alignment2d.id)
    )
    if annotated_only:
        query = query.where(SubImage.annotated.is_(True))
    found: dict[int, AlignedImage] = {}
    for image_id, number, record in session.execute(query):
        if image_id not in found and number is not None:
            section = _section(record, image_id, number)
            found[image_id] = AlignedImage(image_id, data_set_id, number, section)
    if not found:
        kind = "annotated images" if annotated_only else "images"
        raise NotFound(f"data set {data_set_id} has no aligned {kind}")
    return list(found.values())


def atlas_plates(session: Session, atlas_id: int) -> tuple[AlignedDataSet, list[AlignedImage]]:
    """An atlas's data set and its annotated AtlasImages that have an Alignment2d."""
    atlas = session.get(Atlas, atlas_id)
    if atlas is None:
        raise NotFound(f"no atlas with id {atlas_id}")
    if atlas.atlas_data_set_id is None:
        raise NotFound(f"atlas {atlas_id} has no atlas data set")
    data_set = aligned_data_set(session, atlas.atlas_data_set_id)
    return data_set, data_set_images(session, data_set.id, annotated_only=True)


def space_volumes(session: Session, space_id: int) -> SpaceVolumes:
    """Where a reference space's volumes are; NotFound when the store lacks the space."""
    space = session.get(ReferenceSpace, space_id)
    if space is None:
        raise NotFound(f"no reference space with id {space_id}")
    return SpaceVolumes(space_id, space.annotation_path, space.template_path)


def structure_parents(session: Session) -> dict[int, int | None]:
    """Every Structure's parent (None at a root), the tree a structure centre sums over."""
    rows = session.execute(select(Structure.id, Structure.parent_structure_id))
    return {structure: parent for structure, parent in rows}
