"""What the checks run on, found on the server itself through RMA queries (never ids written
into the kit), so the same checks run against any store and against api.brain-map.org."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from brainmap.testing.rma import Record, integer, quoted, records, stage
from brainmap.testing.verdicts import Skipped
from brainmap.testing.wire import Server

ATLASES_TRIED = 3
"""Atlases (lowest ids first) searched for an annotated plate."""


def plate_stages(atlas_id: int, image_type: str, rows: int) -> str:
    """allensdk's `atlas_image_query` stage (docs/allen-api.md §2.4) with `rows` rows in place
    of all of them: the atlas's annotated plates by section number. `image_type` is an RMA
    value: a quoted name or a pipe's variable."""
    criteria = (
        f"[annotated$eqtrue],atlas_data_set(atlases[id$eq{atlas_id}]),"
        f"alternate_images[image_type$eq{image_type}]"
    )
    return stage(
        "AtlasImage", criteria, options=f"[num_rows$eq{rows}][order$eqsub_images.section_number]"
    )


@dataclass(frozen=True)
class AtlasPlate:
    """An annotated AtlasImage record and the atlas (id, image type) whose annotation it has."""

    atlas_id: int
    image_type: str
    record: Record


class Samples:
    """Records the checks need, each looked up once per run; Skipped when the server has none."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def _first(self, model: str, criteria: str = "") -> Record | None:
        options = "[num_rows$eq1][order$eqid][count$eqfalse]"
        found = records(self.server, stage(model, criteria, options=options))
        return found[0] if found else None

    @cached_property
    def section_image(self) -> Record:
        """A SectionImage that passed quality control; one with an expression mask if any."""
        found = self._first("SectionImage", "[failed$eqfalse][expression_path]")
        found = found or self._first("SectionImage", "[failed$eqfalse]")
        if found is None:
            raise Skipped("the server has no SectionImage that passed quality control")
        return found

    @cached_property
    def masked_image(self) -> Record:
        """A SectionImage whose record names an expression mask."""
        if self.section_image.get("expression_path") is None:
            raise Skipped("no SectionImage names an expression mask (expression_path)")
        return self.section_image

    @cached_property
    def data_set_images(self) -> list[Record]:
        """Every SectionImage of the section image's data set, by id."""
        data_set = integer(self.section_image, "data_set_id")
        criteria = f"[data_set_id$eq{data_set}]"
        return records(
            self.server, stage("SectionImage", criteria, options="[num_rows$eq'all'][order$eqid]")
        )

    @cached_property
    def unmasked_image(self) -> Record:
        """A SubImage whose record names no expression mask: in the data set, else a plate."""
        for record in self.data_set_images:
            if record.get("expression_path") is None:
                return record
        if self.atlas_plate.record.get("expression_path") is None:
            return self.atlas_plate.record
        raise Skipped("every image found names an expression mask")

    @cached_property
    def atlas_plate(self) -> AtlasPlate:
        """The first annotated plate of the first atlas (by id) that has one."""
        options = f"[num_rows$eq{ATLASES_TRIED}][order$eqid][count$eqfalse]"
        for atlas in records(self.server, stage("Atlas", options=options)):
            image_type = atlas.get("image_type")
            if not isinstance(image_type, str) or "'" in image_type:
                continue
            atlas_id = integer(atlas, "id")
            plates = records(self.server, plate_stages(atlas_id, quoted(image_type), 1))
            if plates:
                return AtlasPlate(atlas_id, image_type, plates[0])
        raise Skipped(f"none of the first {ATLASES_TRIED} atlases has an annotated plate")

    @cached_property
    def structure_graph_id(self) -> int:
        """The structure graph with the lowest id."""
        graph = self._first("StructureGraph")
        if graph is None:
            raise Skipped("the server has no StructureGraph")
        return integer(graph, "id")

    @cached_property
    def structure(self) -> Record:
        """The structure with the lowest id in that graph."""
        found = self._first("Structure", f"[graph_id$eq{self.structure_graph_id}]")
        if found is None:
            raise Skipped(f"structure graph {self.structure_graph_id} has no structures")
        return found


@dataclass(frozen=True)
class Probe:
    """What a check works with: the server and the records found on it."""

    server: Server
    samples: Samples

    @classmethod
    def connect(cls, root: str, timeout: float) -> Probe:
        server = Server(root, timeout)
        return cls(server, Samples(server))
