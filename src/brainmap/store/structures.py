"""Structure colours and descendants for colouring annotation label maps, cached per graph."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from brainmap.imaging.annotate import Colour, parse_hex
from brainmap.store.schema import Structure


@dataclass(frozen=True)
class StructurePalette:
    """Colours of one structure graph, and each structure's id path for descendant lookups."""

    colours: dict[int, Colour]
    id_paths: dict[int, str]

    @classmethod
    def load(cls, session: Session, graph_id: int) -> StructurePalette:
        rows = session.execute(
            select(Structure.id, Structure.color_hex_triplet, Structure.structure_id_path).where(
                Structure.graph_id == graph_id
            )
        ).all()
        return cls(
            {row.id: parse_hex(row.color_hex_triplet) for row in rows},
            {row.id: row.structure_id_path or f"/{row.id}/" for row in rows},
        )

    def with_descendants(self, ids: Iterable[int]) -> frozenset[int]:
        """The given structures and every structure below them in the graph."""
        markers = [f"/{i}/" for i in ids]
        return frozenset(
            sid for sid, path in self.id_paths.items() if any(m in path for m in markers)
        )
