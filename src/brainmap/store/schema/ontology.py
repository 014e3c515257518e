"""Ontologies: structure graphs and their structures, structure sets, and the atlases that
annotate plates over a graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import Base, Extras

if TYPE_CHECKING:
    from brainmap.store.schema.data_sets import AtlasDataSet


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
