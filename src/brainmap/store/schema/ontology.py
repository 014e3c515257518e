"""Ontologies: structure graphs and their structures, structure sets, and the atlases that
annotate plates over a graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import Record, link_table
from brainmap.store.schema.columns import flag, int_or_null, ontology_fk, str_or_null

if TYPE_CHECKING:
    from brainmap.store.schema.data_sets import AtlasDataSet


atlases_graphic_group_labels = link_table(
    atlas_id="atlases.id", graphic_group_label_id="graphic_group_labels.id"
)

structure_sets_structures = link_table(
    structure_set_id="structure_sets.id", structure_id="structures.id"
)


class Ontology(Record):
    """A family of structure graphs (Mouse Brain Atlas, ...)."""

    name: Mapped[str_or_null]
    description: Mapped[str_or_null]


class StructureGraph(Record):
    """One structure hierarchy of an ontology."""

    description: Mapped[str_or_null]
    name: Mapped[str_or_null]
    ontology_id: Mapped[ontology_fk]

    ontology: Mapped[Ontology | None] = relationship()
    structures: Mapped[list[Structure]] = relationship(
        back_populates="structure_graph",
        order_by="[Structure.graph_order.asc().nulls_first(), Structure.id]",
    )


class GraphicGroupLabel(Record):
    """A group of annotation drawings (the `groups=` of svg requests)."""

    name: Mapped[str_or_null]


class Atlas(Record):
    """A reference atlas: plates in an AtlasDataSet annotated over a structure graph."""

    atlas_data_set_id: Mapped[int | None] = mapped_column(ForeignKey("data_sets.id"))
    description: Mapped[str_or_null]
    image_type: Mapped[str_or_null]
    name: Mapped[str_or_null]
    structure_graph_id: Mapped[int | None] = mapped_column(ForeignKey("structure_graphs.id"))

    atlas_data_set: Mapped[AtlasDataSet | None] = relationship(back_populates="atlases")
    structure_graph: Mapped[StructureGraph | None] = relationship()
    graphic_group_labels: Mapped[list[GraphicGroupLabel]] = relationship(
        secondary=atlases_graphic_group_labels, order_by="GraphicGroupLabel.id"
    )


class Structure(Record):
    """A brain structure; columns in the order the API's CSV gives them."""

    atlas_id: Mapped[int_or_null]
    name: Mapped[str_or_null]
    acronym: Mapped[str_or_null]
    st_level: Mapped[int_or_null]
    ontology_id: Mapped[ontology_fk]
    hemisphere_id: Mapped[int_or_null]
    weight: Mapped[int_or_null]
    parent_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    depth: Mapped[int_or_null]
    graph_id: Mapped[int | None] = mapped_column(ForeignKey("structure_graphs.id"), index=True)
    graph_order: Mapped[int_or_null]
    structure_id_path: Mapped[str_or_null]
    color_hex_triplet: Mapped[str_or_null]
    neuro_name_structure_id: Mapped[int_or_null]
    neuro_name_structure_id_path: Mapped[str_or_null]
    failed: Mapped[flag]
    sphinx_id: Mapped[int_or_null]
    structure_name_facet: Mapped[int_or_null]
    failed_facet: Mapped[int_or_null]
    safe_name: Mapped[str_or_null]

    structure_graph: Mapped[StructureGraph | None] = relationship(back_populates="structures")
    ontology: Mapped[Ontology | None] = relationship()
    parent_structure: Mapped[Structure | None] = relationship(remote_side="Structure.id")
    structure_sets: Mapped[list[StructureSet]] = relationship(
        secondary=structure_sets_structures, back_populates="structures", viewonly=True
    )


class StructureSet(Record):
    """A named selection of structures (e.g. the 12 major divisions)."""

    description: Mapped[str_or_null]
    name: Mapped[str_or_null]

    structures: Mapped[list[Structure]] = relationship(
        secondary=structure_sets_structures,
        back_populates="structure_sets",
        order_by="Structure.id",
    )
