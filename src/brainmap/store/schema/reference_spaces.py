"""Reference spaces: the 3-D atlases (CCF) sections are registered to, and where brainmap keeps
a space's chunked volumes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import HIDDEN, Record
from brainmap.store.schema.columns import float_or_null, str_or_null

if TYPE_CHECKING:
    from brainmap.store.schema.ontology import StructureGraph


class ReferenceSpace(Record):
    """A 3-D reference space (9 "P56 Brain", ...), axes (p, i, r) in µm.

    ``structure_graph_id`` names the ontology the annotation volume's labels are Structure ids
    of; ``resolution_p/i/r`` give its voxel size in µm along each axis (volumes may be
    anisotropic). ``annotation_path`` and ``template_path`` are brainmap's own: store-relative
    folders of the volumes written by `brainmap.reference.volume` (such as
    ``reference/9/annotation.zarr``), never in records.
    """

    name: Mapped[str_or_null]
    structure_graph_id: Mapped[int | None] = mapped_column(ForeignKey("structure_graphs.id"))
    resolution_p: Mapped[float_or_null]
    resolution_i: Mapped[float_or_null]
    resolution_r: Mapped[float_or_null]
    annotation_path: Mapped[str | None] = mapped_column(info=HIDDEN)
    template_path: Mapped[str | None] = mapped_column(info=HIDDEN)

    structure_graph: Mapped[StructureGraph | None] = relationship()
