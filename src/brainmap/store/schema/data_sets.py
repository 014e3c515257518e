"""Data sets and what describes them: products, genes, planes, treatments and display windows.

`DataSet` is one id space (table ``data_sets``) whose kinds are `SectionDataSet` and
`AtlasDataSet`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import Record, kind, link_table, polymorphic
from brainmap.store.schema.columns import flag, float_or_null, int_or_null, organism_fk, str_or_null

if TYPE_CHECKING:
    from brainmap.store.schema.images import Alignment3d, AtlasImage, SectionImage, SubImage
    from brainmap.store.schema.ontology import Atlas
    from brainmap.store.schema.subjects import Organism, Specimen


data_sets_products = link_table(
    Index("ix_data_sets_products_product_id", "product_id"),
    data_set_id="data_sets.id",
    product_id="products.id",
)

data_sets_genes = link_table(data_set_id="data_sets.id", gene_id="genes.id")
data_sets_treatments = link_table(data_set_id="data_sets.id", treatment_id="treatments.id")


def _linked_data_sets(link: Table, back_populates: str) -> Mapped[list[DataSet]]:
    """The data sets `link` pairs a row with, read-only: DataSet.`back_populates` writes them."""
    return relationship(secondary=link, back_populates=back_populates, viewonly=True)


class Product(Record):
    """A data product (Mouse Brain, Mouse Connectivity Projection, ...)."""

    abbreviation: Mapped[str_or_null]
    description: Mapped[str_or_null]
    name: Mapped[str_or_null]
    product_name_facet: Mapped[int_or_null]
    resource: Mapped[str_or_null]
    species: Mapped[str_or_null]
    species_name_facet: Mapped[int_or_null]
    tags: Mapped[str_or_null]
    data_sets: Mapped[list[DataSet]] = _linked_data_sets(data_sets_products, "products")


class PlaneOfSection(Record):
    """Cutting plane of a data set (1 coronal, 2 sagittal, ...)."""

    name: Mapped[str_or_null]
    plane_of_section_name_facet: Mapped[int_or_null]


class Gene(Record):
    """A gene probed by ISH data sets."""

    acronym: Mapped[str_or_null]
    alias_tags: Mapped[str_or_null]
    chromosome_id: Mapped[int_or_null]
    ensembl_id: Mapped[int_or_null]
    entrez_id: Mapped[int_or_null]
    homologene_id: Mapped[int_or_null]
    name: Mapped[str_or_null]
    organism_id: Mapped[organism_fk]
    sphinx_id: Mapped[int_or_null]
    organism: Mapped[Organism | None] = relationship()
    data_sets: Mapped[list[DataSet]] = _linked_data_sets(data_sets_genes, "genes")


class Treatment(Record):
    """A histology treatment of a data set (``'histology'``, ISH...)."""

    name: Mapped[str_or_null]
    tags: Mapped[str_or_null]


class DataSet(Record):
    """Base of SectionDataSet and AtlasDataSet (one id space, table ``data_sets``)."""

    type: Mapped[kind]
    blue_channel: Mapped[str_or_null]
    delegate: Mapped[flag]
    expression: Mapped[flag]
    failed: Mapped[flag]
    failed_facet: Mapped[int_or_null]
    green_channel: Mapped[str_or_null]
    name: Mapped[str_or_null]
    plane_of_section_id: Mapped[int | None] = mapped_column(ForeignKey("plane_of_sections.id"))
    qc_date: Mapped[dt.datetime | None]
    red_channel: Mapped[str_or_null]
    reference_space_id: Mapped[int_or_null]
    rnaseq_design_id: Mapped[int_or_null]
    section_thickness: Mapped[float_or_null]
    specimen_id: Mapped[int | None] = mapped_column(ForeignKey("specimens.id"))
    sphinx_id: Mapped[int_or_null]
    storage_directory: Mapped[str_or_null]
    weight: Mapped[int_or_null]

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


class Equalization(Record):
    """Default 12-bit display windows of a SectionDataSet, one per channel."""

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
