"""A data set's images and atlases, as ingest and mirror extend them."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from brainmap.store.schema import AlternateImage, Atlas, SubImage


def image_paths(session: Session, data_set_id: int) -> set[str]:
    """The pyramid paths of the data set's images."""
    return set(session.scalars(select(SubImage.path).where(SubImage.data_set_id == data_set_id)))


def last_section_number(session: Session, data_set_id: int) -> int:
    """The data set's highest section number (0 when it has no numbered section)."""
    found = session.scalar(
        select(func.max(SubImage.section_number)).where(SubImage.data_set_id == data_set_id)
    )
    return int(found or 0)


def first_atlas(session: Session, data_set_id: int) -> Atlas | None:
    """The atlas with the lowest id drawn over the data set, if any."""
    return session.scalars(
        select(Atlas).where(Atlas.atlas_data_set_id == data_set_id).order_by(Atlas.id)
    ).first()


def link_annotations(
    session: Session, plate_ids: Collection[int], image_type: str, atlas_id: int
) -> None:
    """Tie the plates' alternate images of `image_type` to the atlas drawing them."""
    session.execute(
        update(AlternateImage)
        .where(AlternateImage.sub_image_id.in_(plate_ids))
        .where(AlternateImage.image_type == image_type)
        .values(atlas_id=atlas_id)
    )


def image_bits(session: Session, data_set_id: int) -> set[int | None]:
    """The bits_per_component values of the data set's images."""
    return set(
        session.scalars(
            select(SubImage.bits_per_component).where(SubImage.data_set_id == data_set_id)
        )
    )
