"""A store for the image-sync services whose answers are known by construction: reference space 9
with a small annotation volume (written through brainmap.reference.volume), data sets tilted
against it and sections turned in their plane (brainmap.reference.construct), an atlas of plates,
and the records that are missing on purpose for the errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nrrd
import numpy as np

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    section_fields,
    volume_fields,
)
from brainmap.reference.construct import tilted_data_set, turned_section
from brainmap.reference.volume import write_volume
from brainmap.store.folder import Store
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    ReferenceSpace,
    SectionDataSet,
    SectionImage,
    Structure,
    StructureGraph,
)
from rma_store import _image

SPACE = 9
SPACE_WITHOUT_VOLUME = 10
RESOLUTION = 25.0
SHAPE = (40, 24, 32)  # (p, i, r) voxels
CORONAL = 100  # data sets
SAGITTAL = 200
UNALIGNED_SET = 300  # no Alignment3d
NO_SPACE_SET = 500  # aligned, but names no reference space
ATLAS = 5
ATLAS_SET = 400
UNALIGNED_IMAGE = 1099  # in CORONAL, no Alignment2d
IN_UNALIGNED_SET = 1098  # has its Alignment2d, its data set has no Alignment3d
ROOT, LEFT, RIGHT, LEFT_CHILD, EMPTY = 1, 10, 11, 12, 13
UNKNOWN_LABEL = 99  # in the volume, no Structure record
PARENTS: dict[int, int | None] = {
    ROOT: None,
    LEFT: ROOT,
    RIGHT: ROOT,
    LEFT_CHILD: LEFT,
    EMPTY: ROOT,
}


def annotation() -> np.ndarray:
    """The label volume: LEFT and its child side by side, RIGHT behind them, an unknown label."""
    labels = np.zeros(SHAPE, dtype=np.uint32)
    labels[5:20, 4:20, 4:16] = LEFT
    labels[5:20, 4:20, 16:28] = LEFT_CHILD
    labels[20:35, 4:20, 4:28] = RIGHT
    labels[36:38, 0:2, 0:2] = UNKNOWN_LABEL
    return labels


@dataclass
class SyncStore:
    """The store and the alignments its records were made from."""

    store: Store
    labels: np.ndarray
    data_sets: dict[int, DataSetAlignment] = field(default_factory=dict)
    sections: dict[int, SectionAlignment] = field(default_factory=dict)
    image_sets: dict[int, int] = field(default_factory=dict)  # image id -> data set id

    def images_of(self, data_set_id: int) -> list[int]:
        """The aligned images of a data set, by id."""
        return sorted(i for i, d in self.image_sets.items() if d == data_set_id)


def build_sync_store(root: Path) -> SyncStore:
    """Write the store under `root` (a new folder)."""
    store = Store.create(root / "store")
    labels = annotation()
    source = root / "annotation.nrrd"
    nrrd.write(str(source), labels, {"space directions": np.eye(3) * RESOLUTION}, index_order="F")
    volume = Path("reference") / str(SPACE) / "annotation.zarr"
    (store.root / volume).parent.mkdir(parents=True)
    write_volume(store.root / volume, source)
    built = SyncStore(store, labels)
    centre = np.asarray(SHAPE) * RESOLUTION / 2
    built.data_sets = {
        CORONAL: tilted_data_set("coronal", 25.0, (2.0, -3.0, 1.5), centre),
        SAGITTAL: tilted_data_set("sagittal", 50.0, (-1.0, 2.5, 3.0), centre),
        NO_SPACE_SET: tilted_data_set("coronal", 25.0),
        ATLAS_SET: tilted_data_set("coronal", 100.0),
    }
    numbers = {
        CORONAL: range(2, 40, 4),
        SAGITTAL: range(1, 16),
        NO_SPACE_SET: range(5, 6),
        ATLAS_SET: range(1, 10),
    }
    image_id = 1000
    for data_set_id, sections in numbers.items():
        for number in sections:
            image_id += 1
            turn = 4.0 * (image_id % 5) - 8.0
            built.sections[image_id] = turned_section(number, 2.0, turn, (200, 150), (400, 300))
            built.image_sets[image_id] = data_set_id
    with store.session() as session:
        session.add(StructureGraph(id=1, name="test ontology"))
        session.add_all(
            Structure(
                id=s, acronym=f"S{s}", name=f"structure {s}", graph_id=1, parent_structure_id=p
            )
            for s, p in PARENTS.items()
        )
        session.add(
            ReferenceSpace(
                id=SPACE,
                name="test space",
                structure_graph_id=1,
                resolution_p=RESOLUTION,
                resolution_i=RESOLUTION,
                resolution_r=RESOLUTION,
                annotation_path=volume.as_posix(),
            )
        )
        session.add(ReferenceSpace(id=SPACE_WITHOUT_VOLUME, name="no volume"))
        for data_set_id in (CORONAL, SAGITTAL, UNALIGNED_SET):
            session.add(
                SectionDataSet(id=data_set_id, section_thickness=25.0, reference_space_id=SPACE)
            )
        session.get(SectionDataSet, SAGITTAL).section_thickness = 50.0  # type: ignore[union-attr]
        session.add(SectionDataSet(id=NO_SPACE_SET, section_thickness=25.0))
        session.add(AtlasDataSet(id=ATLAS_SET, section_thickness=100.0, reference_space_id=SPACE))
        session.add(Atlas(id=ATLAS, atlas_data_set_id=ATLAS_SET, structure_graph_id=1))
        for data_set_id, alignment in built.data_sets.items():
            fields = volume_fields(alignment.to_reference, alignment.from_reference)
            session.add(
                Alignment3d(
                    id=data_set_id, aligned_id=data_set_id, aligned_type="DataSet", **fields
                )
            )
        for image_id, section in built.sections.items():
            data_set_id = built.image_sets[image_id]
            number = int(section.section_number)
            if data_set_id == ATLAS_SET:
                # plates with odd ids are not annotated: image_to_atlas never lands on them
                session.add(
                    _image(AtlasImage, image_id, data_set_id, number, annotated=image_id % 2 == 0)
                )
            else:
                session.add(_image(SectionImage, image_id, data_set_id, number))
        session.add(_image(SectionImage, UNALIGNED_IMAGE, CORONAL, 20))
        session.add(_image(SectionImage, IN_UNALIGNED_SET, UNALIGNED_SET, 3))
        session.flush()  # the images before the alignments that refer to them
        unaligned_set = {IN_UNALIGNED_SET: turned_section(3, 2.0)}
        for image_id, section in (built.sections | unaligned_set).items():
            fields = section_fields(section.to_volume, section.from_volume)
            session.add(Alignment2d(id=image_id, section_image_id=image_id, **fields))
        session.commit()
    return built
