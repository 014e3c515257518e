"""Structure graphs read and written: the nested ontology of
``/api/v2/structure_graph_download/{id}.json``, the colours and id paths that paint annotation
label maps, and the bookkeeping of structures an ingest adds.

A download node carries the fields of the real download in its order (docs/allen-api.md §4.1), then
its `children` sorted by `graph_order`. Roots are the graph's structures whose parent is not in
it; an unknown graph has none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from brainmap.imaging.annotate import Colour, parse_hex
from brainmap.store.query.dialect import ordered
from brainmap.store.schema import Structure
from brainmap.store.serialize import json_value

NODE_FIELDS = (
    "id",
    "atlas_id",
    "ontology_id",
    "acronym",
    "name",
    "color_hex_triplet",
    "graph_order",
    "st_level",
    "hemisphere_id",
    "parent_structure_id",
)


def structure_tree(session: Session, graph_id: int) -> list[dict[str, Any]]:
    """The graph's root nodes, each with its descendants nested under `children`."""
    rows = session.scalars(
        select(Structure)
        .where(Structure.graph_id == graph_id)
        .order_by(
            ordered(Structure.graph_order, False, session.get_bind().dialect.name), Structure.id
        )
    ).all()
    ids = {row.id for row in rows}
    children: dict[int | None, list[Structure]] = defaultdict(list)
    for row in rows:
        parent = row.parent_structure_id
        children[parent if parent in ids else None].append(row)

    def node(row: Structure) -> dict[str, Any]:
        record = {name: json_value(getattr(row, name)) for name in NODE_FIELDS}
        record["children"] = [node(child) for child in children[row.id]]
        return record

    return [node(root) for root in children[None]]


@dataclass(frozen=True)
class StructurePalette:
    """Colours of one structure graph, and each structure's id path for descendant lookups."""

    colours: dict[int, Colour]
    id_paths: dict[int, str]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, str | None]]) -> StructurePalette:
        """The palette of a graph's rows as `colour_rows` reads them."""
        colours: dict[int, Colour] = {}
        id_paths: dict[int, str] = {}
        for structure_id, colour, id_path in rows:
            colours[structure_id] = parse_hex(colour)
            id_paths[structure_id] = id_path or f"/{structure_id}/"
        return cls(colours, id_paths)

    def with_descendants(self, ids: Iterable[int]) -> frozenset[int]:
        """The given structures and every structure below them in the graph."""
        markers = [f"/{i}/" for i in ids]
        return frozenset(
            sid for sid, path in self.id_paths.items() if any(m in path for m in markers)
        )


def colour_rows(session: Session, graph_id: int) -> tuple[tuple[int, str, str | None], ...]:
    """Every structure of a graph as (id, colour, id path), by id: what paints its plates."""
    rows = session.execute(
        select(Structure.id, Structure.color_hex_triplet, Structure.structure_id_path)
        .where(Structure.graph_id == graph_id)
        .order_by(Structure.id)
    )
    return tuple((row.id, row.color_hex_triplet, row.structure_id_path) for row in rows)


def structure_ids(session: Session) -> set[int]:
    """Every structure id in the store, whatever its graph."""
    return set(session.scalars(select(Structure.id)))


def write_id_paths(session: Session, graph_id: int) -> None:
    """Set each structure's `structure_id_path` (its ancestors' ids then its own, such as
    ``/997/8/315/``) and `depth` from the parent links within the graph; a cycle ends the path
    where it would repeat."""
    rows = {
        s.id: s for s in session.scalars(select(Structure).where(Structure.graph_id == graph_id))
    }

    def path_of(structure: Structure, seen: frozenset[int] = frozenset()) -> str:
        parent = rows.get(structure.parent_structure_id or -1)
        if parent is None or parent.id in seen:
            return f"/{structure.id}/"
        return f"{path_of(parent, seen | {structure.id})}{structure.id}/"

    for structure in rows.values():
        structure.structure_id_path = path_of(structure)
        structure.depth = structure.structure_id_path.count("/") - 2
