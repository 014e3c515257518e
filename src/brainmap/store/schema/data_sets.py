"""Data sets and what describes them: products, genes, planes, treatments and display windows.

`DataSet` is one id space (table ``data_sets``) whose kinds are `SectionDataSet` and
`AtlasDataSet`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import HIDDEN, Base, Extras, polymorphic

if TYPE_CHECKING:
    from brainmap.store.schema.images import Alignment3d, AtlasImage, SectionImage, SubImage
    from brainmap.store.schema.ontology import Atlas
    from brainmap.store.schema.subjects import Organism, Specimen


data_sets_products = Table(
    "data_sets_products",
    Base.metadata,
    Column("data_set_id", ForeignKey("data_sets.id"), primary_key=True),
    Column("product_id", ForeignKey("products.id"), primary_key=True),
    Index("ix_data_sets_products_product_id", "product_id"),
)

data_sets_genes = Table(
    "data_sets_genes",
    Base.metadata,
    Column("data_set_id", ForeignKey("data_sets.id"), primary_key=True),
    Column("gene_id", ForeignKey("genes.id"), primary_key=True),
)


class Product(Extras, Base):
    """A data product (Mouse Brain, Mouse Connectivity Projection, ...)."""

    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    abbreviation: Mapped[str | None]
    description: Mapped[str | None]
    name: Mapped[str | None]
    product_name_facet: Mapped[int | None]
    resource: Mapped[str | None]
    species: Mapped[str | None]
    species_name_facet: Mapped[int | None]
    tags: Mapped[str | None]
    data_sets: Mapped[list[DataSet]] = relationship(
        secondary=data_sets_products, back_populates="products", viewonly=True
    )


class PlaneOfSection(Extras, Base):
    """Cutting plane of a data set (1 coronal, 2 sagittal, ...)."""

    __tablename__ = "plane_of_sections"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    plane_of_section_name_facet: Mapped[int | None]


class Gene(Extras, Base):
    """A gene probed by ISH data sets."""

    __tablename__ = "genes"
    id: Mapped[int] = mapped_column(primary_key=True)
    acronym: Mapped[str | None]
    alias_tags: Mapped[str | None]
    chromosome_id: Mapped[int | None]
    ensembl_id: Mapped[int | None]
    entrez_id: Mapped[int | None]
    homologene_id: Mapped[int | None]
    name: Mapped[str | None]
    organism_id: Mapped[int | None] = mapped_column(ForeignKey("organisms.id"))
    sphinx_id: Mapped[int | None]
    organism: Mapped[Organism | None] = relationship()
    data_sets: Mapped[list[DataSet]] = relationship(
        secondary=data_sets_genes, back_populates="genes", viewonly=True
    )


class Treatment(Extras, Base):
    """A histology treatment of a data set (``'histology'``, ISH...)."""

    __tablename__ = "treatments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    tags: Mapped[str | None]


data_sets_treatments = Table(
    "data_sets_treatments",
    Base.metadata,
    Column("data_set_id", ForeignKey("data_sets.id"), primary_key=True),
    Column("treatment_id", ForeignKey("treatments.id"), primary_key=True),
)


class DataSet(Extras, Base):
    """Base of SectionDataSet and AtlasDataSet (one id space, table ``data_sets``)."""

    __tablename__ = "data_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(info=HIDDEN)
    blue_channel: Mapped[str | None]
    delegate: Mapped[bool] = mapped_column(default=False)
    expression: Mapped[bool] = mapped_column(default=False)
    failed: Mapped[bool] = mapped_column(default=False)
    failed_facet: Mapped[int | None]
    green_channel: Mapped[str | None]
    name: Mapped[str | None]
    plane_of_section_id: Mapped[int | None] = mapped_column(ForeignKey("plane_of_sections.id"))
    qc_date: Mapped[dt.datetime | None]
    red_channel: Mapped[str | None]
    reference_space_id: Mapped[int | None]
    rnaseq_design_id: Mapped[int | None]
    section_thickness: Mapped[float | None]
    specimen_id: Mapped[int | None] = mapped_column(ForeignKey("specimens.id"))
    sphinx_id: Mapped[int | None]
    storage_directory: Mapped[str | None]
    weight: Mapped[int | None]

    products: Mapped[list[Product]] = relationship(
        secondary=data_sets_products, back_populates="data_sets", order_by="Product.id"
    )
    genes: Mapped[list[Gene]] = relationship(
        secondary=data_sets_genes, back_populates="data_sets", order_by="Gene.id"
    )
    plane_of_section: Mapped[PlaneOfSection | None] = relationship()
    specimen: Mapped[Specimen | None] = relationship()
    sub_images: Mapped[list[SubImage]] = relationship(
        back_populates="data_set", order_by="SubImage.id"
    )
    treatments: Mapped[list[Treatment]] = relationship(
        secondary=data_sets_treatments, order_by="Treatment.id"
    )
    alignment3d: Mapped[Alignment3d | None] = relationship(
        primaryjoin="and_(foreign(Alignment3d.aligned_id) == DataSet.id,"
        " Alignment3d.aligned_type == 'DataSet')",
        viewonly=True,
        uselist=False,
    )

    __mapper_args__ = polymorphic("DataSet", discriminator="type")


class SectionDataSet(DataSet):
    """One experiment: an ordered series of SectionImages of one specimen."""

    section_images: Mapped[list[SectionImage]] = relationship(viewonly=True, order_by="SubImage.id")
    equalization: Mapped[Equalization | None] = relationship(
        back_populates="section_data_set", uselist=False
    )

    __mapper_args__ = polymorphic("SectionDataSet")


class AtlasDataSet(DataSet):
    """The plates of one or more reference atlases."""

    atlas_images: Mapped[list[AtlasImage]] = relationship(viewonly=True, order_by="SubImage.id")
    atlases: Mapped[list[Atlas]] = relationship(
        back_populates="atlas_data_set", order_by="Atlas.id"
    )

    __mapper_args__ = polymorphic("AtlasDataSet")


class Equalization(Extras, Base):
    """Default 12-bit display windows of a SectionDataSet, one per channel."""

    __tablename__ = "equalizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    blue_lower: Mapped[int]
    blue_upper: Mapped[int]
    green_lower: Mapped[int]
    green_upper: Mapped[int]
    red_lower: Mapped[int]
    red_upper: Mapped[int]
    section_data_set_id: Mapped[int] = mapped_column(
        ForeignKey("data_sets.id"), unique=True, index=True
    )

    section_data_set: Mapped[SectionDataSet] = relationship(back_populates="equalization")
