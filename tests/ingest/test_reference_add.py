"""`brainmap reference add`: a volume checked in full, stored chunked and recorded; every bad
input refused with one line, the store unchanged. Also what the plates tests share: a store
with a small ontology, blocky label volumes in Allen's NRRD layout, the CLI run in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nrrd
import numpy as np
from click.testing import CliRunner, Result

from brainmap.cli import main
from brainmap.store.folder import Store
from brainmap.store.ontology import write_id_paths
from brainmap.store.schema import Ontology, Structure, StructureGraph

GRAPH = 77
# id: (acronym, colour, parent)
STRUCTURES: dict[int, tuple[str, str, int | None]] = {
    100: ("root", "F0F0F0", None),
    101: ("A", "FF0000", 100),
    102: ("B", "00A000", 100),
    103: ("C", "0000FF", 100),
    104: ("D", "FFFF00", 101),
    105: ("E", "00FFFF", 101),
}
LABELS = np.array([0, *STRUCTURES], dtype=np.uint32)


def blocks(shape: tuple[int, int, int], size: int = 3, seed: int = 0) -> np.ndarray:
    """Labels constant over `size`-voxel blocks, drawn from the ontology (and background 0)."""
    rng = np.random.default_rng(seed)
    coarse = rng.choice(LABELS, size=tuple(-(-n // size) for n in shape))
    grown = coarse.repeat(size, 0).repeat(size, 1).repeat(size, 2)
    return np.ascontiguousarray(grown[: shape[0], : shape[1], : shape[2]])


def write_nrrd(path: Path, data: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    """A volume as Allen distributes one: gzip NRRD, first axis p, voxel size in the header."""
    header: dict[str, Any] = {"encoding": "gzip", "space directions": np.diag(spacing)}
    nrrd.write(str(path), data, header, index_order="F")
    return path


def store_with_ontology(folder: Path) -> Path:
    """A store holding structure graph GRAPH and its structures."""
    store = Store.create(folder)
    with store.session() as session:
        session.add_all(
            [Ontology(id=GRAPH, name="test"), StructureGraph(id=GRAPH, ontology_id=GRAPH)]
        )
        session.flush()
        for order, (ident, (acronym, colour, parent)) in enumerate(STRUCTURES.items()):
            session.add(
                Structure(
                    id=ident,
                    acronym=acronym,
                    name=acronym,
                    graph_id=GRAPH,
                    ontology_id=GRAPH,
                    graph_order=order,
                    color_hex_triplet=colour,
                    parent_structure_id=parent,
                )
            )
        session.flush()
        write_id_paths(session, GRAPH)
    store.close()
    return folder


def brainmap(*args: object) -> Result:
    """`brainmap ARGS` in-process."""
    return CliRunner().invoke(main, [str(a) for a in args])
