"""What a mirror copies: selectors -> RMA queries -> the records of a brain-map API.

Section data sets are chosen by ``--product``, ``--data-set``, ``--gene`` and ``--plane`` (all
given must match), with their products, genes, equalization, plane, specimen and 3-D alignment;
then their section images with 2-D alignments and alternate images (masks). ``--atlas`` adds
atlases with their structure graph, ontology, graphic group labels, atlas data set, plates with
their alternate images (annotation), and the graph's structures. Every query is paged with its
``total_rows`` verified by the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from brainmap.client.async_client import AsyncClient
from brainmap.errors import NotFound

PAGE_SIZE = 2000
IDS_PER_QUERY = 200
DATA_SET_INCLUDES = "products,genes,equalization,plane_of_section,specimen,alignment3d"


@dataclass(frozen=True)
class Selection:
    """The selectors of ``brainmap mirror``; genes and planes by id or by acronym/name."""

    products: tuple[int, ...] = ()
    data_sets: tuple[int, ...] = ()
    genes: tuple[str, ...] = ()
    planes: tuple[str, ...] = ()
    atlases: tuple[int, ...] = ()

    def data_set_criteria(self) -> str | None:
        """RMA criteria of the selected SectionDataSets; None when none are selected."""
        clauses = []
        if self.products:
            clauses.append(f"products{_in('id', self.products)}")
        if self.data_sets:
            clauses.append(_in("id", self.data_sets))
        if self.genes:
            clauses.append(f"genes{_by_id_or_name('acronym', self.genes)}")
        if self.planes:
            clauses.append(f"plane_of_section{_by_id_or_name('name', self.planes)}")
        return ",".join(clauses) or None


def _in(attribute: str, values: Sequence[object]) -> str:
    return f"[{attribute}$in{','.join(str(value) for value in values)}]"


def _by_id_or_name(attribute: str, values: Sequence[str]) -> str:
    if all(value.isdigit() for value in values):
        return _in("id", values)
    quoted = ",".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"[{attribute}$in{quoted}]"


@dataclass
class Metadata:
    """Records by model, in the order they are imported, and the images to copy."""

    records: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    data_sets: list[dict[str, Any]] = field(default_factory=list)
    section_images: list[dict[str, Any]] = field(default_factory=list)
    atlas_images: list[dict[str, Any]] = field(default_factory=list)
    atlases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(rows) for _, rows in self.records)


async def _rows(
    client: AsyncClient, model: str, criteria: str, include: str | None = None
) -> list[dict[str, Any]]:
    stage = client.api.model_stage(model, criteria=criteria, include=include, order=["id"])
    rows: list[dict[str, Any]] = await client.query(stage, page_size=PAGE_SIZE)
    return rows


async def _rows_by_ids(
    client: AsyncClient, model: str, attribute: str, ids: Sequence[int], include: str | None
) -> list[dict[str, Any]]:
    rows = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        rows += await _rows(client, model, _in(attribute, chunk), include)
    return rows


async def fetch_metadata(client: AsyncClient, selection: Selection) -> Metadata:
    """Every record the selection names, fetched through RMA."""
    found = Metadata()
    criteria = selection.data_set_criteria()
    if criteria is not None:
        data_sets = await _rows(client, "SectionDataSet", criteria, DATA_SET_INCLUDES)
        ids = [row["id"] for row in data_sets]
        images = await _rows_by_ids(
            client, "SectionImage", "data_set_id", ids, "alignment2d,alternate_images"
        )
        found.records += [("SectionDataSet", data_sets), ("SectionImage", images)]
        found.data_sets, found.section_images = data_sets, images
    if selection.atlases:
        atlases = await _rows_by_ids(
            client,
            "Atlas",
            "id",
            selection.atlases,
            "structure_graph(ontology),graphic_group_labels",
        )
        atlas_sets = sorted({row["atlas_data_set_id"] for row in atlases} - {None})
        graphs = sorted({row["structure_graph_id"] for row in atlases} - {None})
        plates = await _rows_by_ids(
            client, "AtlasImage", "data_set_id", atlas_sets, "alternate_images"
        )
        found.records += [
            ("AtlasDataSet", await _rows_by_ids(client, "AtlasDataSet", "id", atlas_sets, None)),
            ("Atlas", atlases),
            ("AtlasImage", plates),
            ("Structure", await _rows_by_ids(client, "Structure", "graph_id", graphs, None)),
        ]
        found.atlas_images, found.atlases = plates, atlases
    return found


def check_found(selection: Selection, metadata: Metadata) -> None:
    """NotFound when the selection matches nothing it names: a ``--data-set`` or ``--atlas``
    id not found (with the other selectors), or data-set selectors matching no data set."""
    missing = _missing(selection.data_sets, metadata.data_sets)
    if missing:
        raise NotFound(f"no section data set {missing} (matching the selectors given)")
    if selection.data_set_criteria() is not None and not metadata.data_sets:
        raise NotFound("no section data set matches the selectors given")
    missing = _missing(selection.atlases, metadata.atlases)
    if missing:
        raise NotFound(f"no atlas {missing}")


def _missing(asked: Sequence[int], rows: Sequence[dict[str, Any]]) -> str:
    found = {row["id"] for row in rows}
    return ", ".join(str(record_id) for record_id in asked if record_id not in found)
