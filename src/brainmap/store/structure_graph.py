"""`/api/v2/structure_graph_download/{id}.json`: one structure graph as a nested ontology.

Each node carries the fields of the real download in its order (allen-api.md §4.1), then its
`children` sorted by `graph_order`. Roots are the graph's structures whose parent is not in it.
An unknown graph is an empty `msg`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
        .order_by(Structure.graph_order, Structure.id)
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
