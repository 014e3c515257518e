"""Images: SubImage and its kinds (section, atlas plate), the images derived from them,
their alignments, and the pixels a mirror holds.

`SubImage` is one id space (table ``sub_images``) whose kinds are `SectionImage` and
`AtlasImage`; an `AlternateImage` (expression or projection mask, annotation label map)
belongs to one SubImage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, Float, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import HIDDEN, Base, Record, kind, polymorphic
from brainmap.store.schema.columns import flag, float_or_null, int_or_null, str_or_null

if TYPE_CHECKING:
    from brainmap.store.schema.data_sets import AtlasDataSet, DataSet, SectionDataSet


class SubImage(Record):
    """Base of SectionImage, AtlasImage and ProjectionImage: the 26 attributes of the API."""

    type: Mapped[kind]
    annotated: Mapped[flag]
    axes: Mapped[str_or_null]
    bits_per_component: Mapped[int_or_null]
    data_set_id: Mapped[int | None] = mapped_column(ForeignKey("data_sets.id"), index=True)
    expression: Mapped[str_or_null]
    expression_path: Mapped[str_or_null]
    failed: Mapped[flag]
    height: Mapped[int]
    image_height: Mapped[int]
    image_type: Mapped[str] = mapped_column(default="Primary")
    image_width: Mapped[int]
    isi_experiment_id: Mapped[int_or_null]
    lims1_id: Mapped[int_or_null]
    number_of_components: Mapped[int_or_null]
    ophys_experiment_id: Mapped[int_or_null]
    path: Mapped[str]
    projection_function: Mapped[str_or_null]
    resolution: Mapped[float_or_null]
    section_number: Mapped[int | None] = mapped_column(index=True)
    specimen_id: Mapped[int_or_null]
    structure_id: Mapped[int_or_null]
    tier_count: Mapped[int]
    width: Mapped[int]
    x: Mapped[int] = mapped_column(default=0)
    y: Mapped[int] = mapped_column(default=0)

    data_set: Mapped[DataSet | None] = relationship(back_populates="sub_images")
    alternate_images: Mapped[list[AlternateImage]] = relationship(
        back_populates="sub_image", order_by="AlternateImage.id"
    )

    __mapper_args__ = polymorphic("SubImage", discriminator="type")


class SectionImage(SubImage):
    """One section of a SectionDataSet."""

    section_data_set: Mapped[SectionDataSet | None] = relationship(viewonly=True)
    alignment2d: Mapped[Alignment2d | None] = relationship(viewonly=True, uselist=False)

    __mapper_args__ = polymorphic("SectionImage")


class AtlasImage(SubImage):
    """One plate of an AtlasDataSet; its annotations are AlternateImages."""

    atlas_data_set: Mapped[AtlasDataSet | None] = relationship(viewonly=True)

    __mapper_args__ = polymorphic("AtlasImage")


class AlternateImage(Record):
    """An image derived from a SubImage: expression or projection mask, annotation label map.

    For annotation label maps ``atlas_id`` names the atlas whose drawing it is.
    """

    image_type: Mapped[str]
    path: Mapped[str]
    sub_image_id: Mapped[int] = mapped_column(ForeignKey("sub_images.id"), index=True)
    atlas_id: Mapped[int | None] = mapped_column(ForeignKey("atlases.id"), info=HIDDEN)

    sub_image: Mapped[SubImage] = relationship(back_populates="alternate_images")


def _affine(prefix: str, count: int) -> list[Column[float]]:
    """``prefix_00`` .. the coefficients of an affine transform, as float columns."""
    return [Column(f"{prefix}_{index:02d}", Float) for index in range(count)]


class Alignment2d(Base):
    """2x3 affine of one section image: section to volume (tsv) and back (tvs)."""

    __table__ = Table(
        "alignment2ds",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("section_image_id", ForeignKey("sub_images.id"), index=True),
        *_affine("tsv", 6),
        *_affine("tvs", 6),
        Column("extra", JSON, info=HIDDEN),
    )

    if TYPE_CHECKING:  # the columns above, typed for the queries that name them
        id: Mapped[int]
        section_image_id: Mapped[int | None]


class Alignment3d(Base):
    """3x4 affine of a data set: to the reference volume (trv) and back (tvr)."""

    __table__ = Table(
        "alignment3ds",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("aligned_id", Integer, index=True),
        Column("aligned_type", String),
        *_affine("trv", 12),
        *_affine("tvr", 12),
        Column("extra", JSON, info=HIDDEN),
    )

    if TYPE_CHECKING:  # the columns above, typed for the queries that name them
        id: Mapped[int]
        aligned_id: Mapped[int | None]
        aligned_type: Mapped[str | None]


mirrored_pyramids = Table(
    "mirrored_pyramids",
    Base.metadata,
    Column("path", String, primary_key=True),
    Column("downsample", Integer, primary_key=True),
    Column("file", String, nullable=False),
)
"""Pixels a mirror holds: the record `path` (SubImage or AlternateImage) at `downsample`, as
a local pyramid `file` whose level 0 is that downsample. A path with no rows is not mirrored."""
