"""Label maps' structures: the CSV table read before anything is written, and the Atlas over
a new StructureGraph that ties a data set's label maps to them."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from brainmap.ingest.errors import IngestError
from brainmap.store.data_sets import first_atlas
from brainmap.store.ontology import structure_ids, write_id_paths
from brainmap.store.schema import Atlas, Ontology, Structure, StructureGraph
from brainmap.store.writes import next_id

LABEL_IMAGE_TYPE = "Annotation"
STRUCTURE_COLUMNS = ("id", "acronym", "name", "parent_structure_id", "color_hex_triplet")


def read_structures(path: Path) -> list[dict[str, str]]:
    """Rows of a structure table CSV with columns STRUCTURE_COLUMNS (header required)."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a CSV text file"
        raise IngestError(f"{path}: {reason}") from None
    missing = [c for c in ("id", "color_hex_triplet") if not rows or c not in rows[0]]
    if missing:
        raise IngestError(f"{path}: needs a header with columns {', '.join(STRUCTURE_COLUMNS)}")
    for row in rows:
        if not (row["id"] or "").strip().isdigit():
            raise IngestError(f"{path}: structure id {row['id']!r} is not a positive integer")
    return rows


def clashing_ids(session: Session, data_set_id: int, structures: list[dict[str, str]]) -> list[int]:
    """Structure ids of the table already in the store (none matter once the data set has its
    atlas: the table is not added again)."""
    if first_atlas(session, data_set_id) is not None:
        return []
    taken = structure_ids(session)
    return sorted(int(row["id"]) for row in structures if int(row["id"]) in taken)


def annotation_atlas(session: Session, data_set_id: int, structures: list[dict[str, str]]) -> Atlas:
    """The data set's atlas, made with its ontology, graph and structures the first time."""
    atlas = first_atlas(session, data_set_id)
    if atlas is not None:
        return atlas
    clash = clashing_ids(session, data_set_id, structures)
    if clash:
        raise IngestError(f"structure ids already in the store: {clash[:10]}")
    ontology = Ontology(id=next_id(session, Ontology.id), name=f"data set {data_set_id}")
    graph = StructureGraph(id=next_id(session, StructureGraph.id), name=ontology.name)
    session.add_all([ontology, graph])
    session.flush()
    graph.ontology_id = ontology.id
    atlas = Atlas(
        id=next_id(session, Atlas.id),
        name=f"annotation of data set {data_set_id}",
        image_type=LABEL_IMAGE_TYPE,
        atlas_data_set_id=data_set_id,
        structure_graph_id=graph.id,
    )
    session.add(atlas)
    for order, row in enumerate(structures):
        parent = (row.get("parent_structure_id") or "").strip()
        session.add(
            Structure(
                id=int(row["id"]),
                acronym=row.get("acronym"),
                name=row.get("name"),
                graph_id=graph.id,
                ontology_id=ontology.id,
                graph_order=order,
                color_hex_triplet=row["color_hex_triplet"].strip().lstrip("#").upper(),
                parent_structure_id=int(parent) if parent else None,
            )
        )
    session.flush()
    write_id_paths(session, graph.id)
    return atlas
