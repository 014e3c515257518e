"""SQLAlchemy models named after the Allen Brain Map API models.

Attribute names, table names (lower-case plurals, used to qualify attributes in RMA such as
``sub_images.section_number``) and relationship names (the RMA association names such as
``section_data_set`` or ``alternate_images``) are those of the real API, so the RMA compiler
can resolve a query by introspecting these classes alone.

Columns marked ``info={"hidden": True}`` are brainmap bookkeeping: never emitted in records
and never addressable from RMA.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

HIDDEN = {"hidden": True}


class Base(DeclarativeBase):
    """Declarative base; the registry doubles as the RMA model catalogue."""


class Extras:
    """Fields of an imported or mirrored record that the model does not know, kept so that a
    re-query returns them (merged into the record in alphabetical order)."""

    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=HIDDEN)


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


class Organism(Extras, Base):
    """Species (1 human, 2 mouse)."""

    __tablename__ = "organisms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]


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


class Specimen(Extras, Base):
    """The tissue a data set was made from."""

    __tablename__ = "specimens"
    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int | None]
    external_specimen_name: Mapped[str | None]
    hemisphere: Mapped[str | None]
    name: Mapped[str | None]
    parent_id: Mapped[int | None]
    structure_id: Mapped[int | None]

    donor: Mapped[Donor | None] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True
    )


class Age(Extras, Base):
    """A developmental age (``P56``, ``E15.5``...) of an organism."""

    __tablename__ = "ages"
    id: Mapped[int] = mapped_column(primary_key=True)
    age_group_id: Mapped[int | None]
    days: Mapped[float | None]
    description: Mapped[str | None]
    embryonic: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str | None]
    organism_id: Mapped[int | None] = mapped_column(ForeignKey("organisms.id"))
    tags: Mapped[str | None]

    organism: Mapped[Organism | None] = relationship()


class Donor(Extras, Base):
    """The animal or person a specimen came from."""

    __tablename__ = "donors"
    id: Mapped[int] = mapped_column(primary_key=True)
    age_id: Mapped[int | None] = mapped_column(ForeignKey("ages.id"))
    name: Mapped[str | None]
    organism_id: Mapped[int | None] = mapped_column(ForeignKey("organisms.id"))
    sex: Mapped[str | None]
    sex_full_name: Mapped[str | None]
    strain: Mapped[str | None]
    transgenic_mouse_id: Mapped[int | None]

    age: Mapped[Age | None] = relationship()
    organism: Mapped[Organism | None] = relationship()
    specimens: Mapped[list[Specimen]] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True, order_by="Specimen.id"
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

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "DataSet"}


class SectionDataSet(DataSet):
    """One experiment: an ordered series of SectionImages of one specimen."""

    section_images: Mapped[list[SectionImage]] = relationship(viewonly=True, order_by="SubImage.id")
    equalization: Mapped[Equalization | None] = relationship(
        back_populates="section_data_set", uselist=False
    )

    __mapper_args__ = {"polymorphic_identity": "SectionDataSet"}


class AtlasDataSet(DataSet):
    """The plates of one or more reference atlases."""

    atlas_images: Mapped[list[AtlasImage]] = relationship(viewonly=True, order_by="SubImage.id")
    atlases: Mapped[list[Atlas]] = relationship(
        back_populates="atlas_data_set", order_by="Atlas.id"
    )

    __mapper_args__ = {"polymorphic_identity": "AtlasDataSet"}


class SubImage(Extras, Base):
    """Base of SectionImage, AtlasImage and ProjectionImage: the 26 attributes of the API."""

    __tablename__ = "sub_images"
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(info=HIDDEN)
    annotated: Mapped[bool] = mapped_column(default=False)
    axes: Mapped[str | None]
    bits_per_component: Mapped[int | None]
    data_set_id: Mapped[int | None] = mapped_column(ForeignKey("data_sets.id"), index=True)
    expression: Mapped[str | None]
    expression_path: Mapped[str | None]
    failed: Mapped[bool] = mapped_column(default=False)
    height: Mapped[int]
    image_height: Mapped[int]
    image_type: Mapped[str] = mapped_column(default="Primary")
    image_width: Mapped[int]
    isi_experiment_id: Mapped[int | None]
    lims1_id: Mapped[int | None]
    number_of_components: Mapped[int | None]
    ophys_experiment_id: Mapped[int | None]
    path: Mapped[str]
    projection_function: Mapped[str | None]
    resolution: Mapped[float | None]
    section_number: Mapped[int | None] = mapped_column(index=True)
    specimen_id: Mapped[int | None]
    structure_id: Mapped[int | None]
    tier_count: Mapped[int]
    width: Mapped[int]
    x: Mapped[int] = mapped_column(default=0)
    y: Mapped[int] = mapped_column(default=0)

    data_set: Mapped[DataSet | None] = relationship(back_populates="sub_images")
    alternate_images: Mapped[list[AlternateImage]] = relationship(
        back_populates="sub_image", order_by="AlternateImage.id"
    )

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "SubImage"}


class SectionImage(SubImage):
    """One section of a SectionDataSet."""

    section_data_set: Mapped[SectionDataSet | None] = relationship(viewonly=True)
    alignment2d: Mapped[Alignment2d | None] = relationship(viewonly=True, uselist=False)

    __mapper_args__ = {"polymorphic_identity": "SectionImage"}


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


class AtlasImage(SubImage):
    """One plate of an AtlasDataSet; its annotations are AlternateImages."""

    atlas_data_set: Mapped[AtlasDataSet | None] = relationship(viewonly=True)

    __mapper_args__ = {"polymorphic_identity": "AtlasImage"}


class AlternateImage(Extras, Base):
    """An image derived from a SubImage: expression or projection mask, annotation label map.

    For annotation label maps ``atlas_id`` names the atlas whose drawing it is.
    """

    __tablename__ = "alternate_images"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_type: Mapped[str]
    path: Mapped[str]
    sub_image_id: Mapped[int] = mapped_column(ForeignKey("sub_images.id"), index=True)
    atlas_id: Mapped[int | None] = mapped_column(ForeignKey("atlases.id"), info=HIDDEN)

    sub_image: Mapped[SubImage] = relationship(back_populates="alternate_images")


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


class Ontology(Extras, Base):
    """A family of structure graphs (Mouse Brain Atlas, ...)."""

    __tablename__ = "ontologies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]
    description: Mapped[str | None]


class StructureGraph(Extras, Base):
    """One structure hierarchy of an ontology."""

    __tablename__ = "structure_graphs"
    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str | None]
    name: Mapped[str | None]
    ontology_id: Mapped[int | None] = mapped_column(ForeignKey("ontologies.id"))

    ontology: Mapped[Ontology | None] = relationship()
    structures: Mapped[list[Structure]] = relationship(
        back_populates="structure_graph", order_by="Structure.graph_order"
    )


atlases_graphic_group_labels = Table(
    "atlases_graphic_group_labels",
    Base.metadata,
    Column("atlas_id", ForeignKey("atlases.id"), primary_key=True),
    Column("graphic_group_label_id", ForeignKey("graphic_group_labels.id"), primary_key=True),
)


class GraphicGroupLabel(Extras, Base):
    """A group of annotation drawings (the `groups=` of svg requests)."""

    __tablename__ = "graphic_group_labels"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]


class Atlas(Extras, Base):
    """A reference atlas: plates in an AtlasDataSet annotated over a structure graph."""

    __tablename__ = "atlases"
    id: Mapped[int] = mapped_column(primary_key=True)
    atlas_data_set_id: Mapped[int | None] = mapped_column(ForeignKey("data_sets.id"))
    description: Mapped[str | None]
    image_type: Mapped[str | None]
    name: Mapped[str | None]
    structure_graph_id: Mapped[int | None] = mapped_column(ForeignKey("structure_graphs.id"))

    atlas_data_set: Mapped[AtlasDataSet | None] = relationship(back_populates="atlases")
    structure_graph: Mapped[StructureGraph | None] = relationship()
    graphic_group_labels: Mapped[list[GraphicGroupLabel]] = relationship(
        secondary=atlases_graphic_group_labels, order_by="GraphicGroupLabel.id"
    )


class Structure(Extras, Base):
    """A brain structure; columns in the order the API's CSV gives them."""

    __tablename__ = "structures"
    id: Mapped[int] = mapped_column(primary_key=True)
    atlas_id: Mapped[int | None]
    name: Mapped[str | None]
    acronym: Mapped[str | None]
    st_level: Mapped[int | None]
    ontology_id: Mapped[int | None] = mapped_column(ForeignKey("ontologies.id"))
    hemisphere_id: Mapped[int | None]
    weight: Mapped[int | None]
    parent_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    depth: Mapped[int | None]
    graph_id: Mapped[int | None] = mapped_column(ForeignKey("structure_graphs.id"), index=True)
    graph_order: Mapped[int | None]
    structure_id_path: Mapped[str | None]
    color_hex_triplet: Mapped[str | None]
    neuro_name_structure_id: Mapped[int | None]
    neuro_name_structure_id_path: Mapped[str | None]
    failed: Mapped[bool] = mapped_column(default=False)
    sphinx_id: Mapped[int | None]
    structure_name_facet: Mapped[int | None]
    failed_facet: Mapped[int | None]
    safe_name: Mapped[str | None]

    structure_graph: Mapped[StructureGraph | None] = relationship(back_populates="structures")
    ontology: Mapped[Ontology | None] = relationship()
    parent_structure: Mapped[Structure | None] = relationship(remote_side="Structure.id")
    structure_sets: Mapped[list[StructureSet]] = relationship(
        secondary="structure_sets_structures", back_populates="structures", viewonly=True
    )


structure_sets_structures = Table(
    "structure_sets_structures",
    Base.metadata,
    Column("structure_set_id", ForeignKey("structure_sets.id"), primary_key=True),
    Column("structure_id", ForeignKey("structures.id"), primary_key=True),
)


class StructureSet(Extras, Base):
    """A named selection of structures (e.g. the 12 major divisions)."""

    __tablename__ = "structure_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str | None]
    name: Mapped[str | None]

    structures: Mapped[list[Structure]] = relationship(
        secondary=structure_sets_structures,
        back_populates="structure_sets",
        order_by="Structure.id",
    )


mirrored_pyramids = Table(
    "mirrored_pyramids",
    Base.metadata,
    Column("path", String, primary_key=True),
    Column("downsample", Integer, primary_key=True),
    Column("file", String, nullable=False),
)
"""Pixels a mirror holds: the record `path` (SubImage or AlternateImage) at `downsample`, as
a local pyramid `file` whose level 0 is that downsample. A path with no rows is not mirrored."""


@event.listens_for(Base.metadata, "after_create")
def _add_new_columns(metadata: MetaData, connection: Connection, **_: object) -> None:
    """Give an older store the nullable columns newer versions added (such as ``extra``), as
    ``create_all`` gives it their new tables."""
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable and not column.primary_key:
                kind = column.type.compile(connection.dialect)
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
                )


def model_classes() -> dict[str, type[Base]]:
    """Every RMA-addressable model by its API name (``SectionDataSet``, ``SubImage``...)."""
    return {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
