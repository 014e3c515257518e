"""The store look-ups of the image-sync services: what they find, in which order, and the
NotFound that names each missing record, field or matrix cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from brainmap.errors import NotFound
from brainmap.reference.alignment import section_fields, volume_fields
from brainmap.reference.construct import tilted_data_set, turned_section
from brainmap.store import alignments
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
)
from rma_store import _image


def _section(record_id: int, image_id: int, number: int, turn: float = 0.0) -> Alignment2d:
    section = turned_section(number, 1.5, turn, (5, 5), (100, 50))
    fields = section_fields(section.to_volume, section.from_volume)
    return Alignment2d(id=record_id, section_image_id=image_id, **fields)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    made = Store.create(tmp_path_factory.mktemp("alignments"))
    tilted = tilted_data_set("coronal", 25.0, (1.0, 2.0, 3.0), (50, 60, 70))
    fields = volume_fields(tilted.to_reference, tilted.from_reference)
    with made.session() as session:
        session.add_all(
            [
                SectionDataSet(id=1, section_thickness=25.0, reference_space_id=9),
                SectionDataSet(id=2, section_thickness=25.0),  # no Alignment3d
                SectionDataSet(id=3),  # no section_thickness
                SectionDataSet(id=4, section_thickness=25.0),  # aligned, no aligned images
                AtlasDataSet(id=5, section_thickness=100.0),
                Atlas(id=7, atlas_data_set_id=5),
                Atlas(id=8),
                ReferenceSpace(id=9, annotation_path="reference/9/volume.zarr"),
                Structure(id=100),
                Structure(id=101, parent_structure_id=100),
            ]
        )
        images = [
            _image(SectionImage, 10, 1, 30),
            _image(SectionImage, 11, 1, 10),
            _image(SectionImage, 12, 1, 20),
            _image(SectionImage, 13, 1, 5),  # no Alignment2d: not searched
            _image(SectionImage, 14, 1, None),  # no section number
            _image(SectionImage, 15, 2, 1),
            _image(SectionImage, 16, 4, 1),  # its Alignment2d misses a cell
            _image(AtlasImage, 20, 5, 2, annotated=True),
            _image(AtlasImage, 21, 5, 1, annotated=False),
        ]
        session.add_all(images)
        session.flush()
        damaged = _section(16, 16, 1)
        damaged.tsv_03 = None  # type: ignore[attr-defined]
        session.add_all(
            [
                _section(11, 11, 10, 5.0),
                _section(10, 10, 30),
                _section(99, 10, 30, 45.0),  # a second record: the first (id 10) counts
                _section(12, 12, 20),
                _section(14, 14, 0),
                _section(15, 15, 1),
                damaged,
                _section(20, 20, 2),
                _section(21, 21, 1),
            ]
        )
        for data_set_id in (1, 4, 5):
            session.add(
                Alignment3d(
                    id=data_set_id, aligned_id=data_set_id, aligned_type="DataSet", **fields
                )
            )
        session.add(Alignment3d(id=50, aligned_id=2, aligned_type="Specimen", **fields))
        session.add(Alignment3d(id=51, aligned_id=3, aligned_type="DataSet", **fields))
        session.commit()
    return made


def test_aligned_image(store: Store) -> None:
    with store.session() as session:
        found = alignments.aligned_image(session, 10)
    expected = turned_section(30, 1.5, 0.0, (5, 5), (100, 50))
    assert (found.id, found.data_set_id, found.section_number) == (10, 1, 30)
    np.testing.assert_allclose(found.alignment.to_volume, expected.to_volume, atol=1e-12)
    np.testing.assert_allclose(found.alignment.from_volume, expected.from_volume, atol=1e-12)


def test_aligned_data_set(store: Store) -> None:
    with store.session() as session:
        found = alignments.aligned_data_set(session, 1)
    expected = tilted_data_set("coronal", 25.0, (1.0, 2.0, 3.0), (50, 60, 70))
    assert (found.id, found.reference_space_id) == (1, 9)
    np.testing.assert_allclose(found.alignment.to_reference, expected.to_reference, atol=1e-12)
    assert found.alignment.section_thickness == 25.0


def test_data_set_images_by_section_number(store: Store) -> None:
    with store.session() as session:
        found = alignments.data_set_images(session, 1)
        plates = alignments.data_set_images(session, 5, annotated_only=True)
        everything = alignments.data_set_images(session, 5)
    assert [(i.id, i.section_number) for i in found] == [(11, 10), (12, 20), (10, 30)]
    assert [i.id for i in plates] == [20] and [i.id for i in everything] == [21, 20]


def test_atlas_plates_and_spaces(store: Store) -> None:
    with store.session() as session:
        data_set, plates = alignments.atlas_plates(session, 7)
        space = alignments.space_volumes(session, 9)
        parents = alignments.structure_parents(session)
    assert data_set.id == 5 and [p.id for p in plates] == [20]
    assert (space.annotation_path, space.template_path) == ("reference/9/volume.zarr", None)
    assert parents == {100: None, 101: 100}


MISSING = [
    (lambda s: alignments.aligned_image(s, 404), "no image with id 404"),
    (lambda s: alignments.aligned_image(s, 13), "image 13 has no Alignment2d"),
    (lambda s: alignments.aligned_image(s, 14), "image 14 has no section_number"),
    (lambda s: alignments.aligned_image(s, 16), "image 16: Alignment2d 16: tsv_03 is missing"),
    (lambda s: alignments.aligned_data_set(s, 404), "no data set with id 404"),
    (lambda s: alignments.aligned_data_set(s, 2), "data set 2 has no Alignment3d"),
    (lambda s: alignments.aligned_data_set(s, 3), "data set 3 has no section_thickness"),
    (lambda s: alignments.data_set_images(s, 4), "image 16: Alignment2d 16: tsv_03 is missing"),
    (lambda s: alignments.data_set_images(s, 3), "data set 3 has no aligned images"),
    (lambda s: alignments.data_set_images(s, 404), "data set 404 has no aligned images"),
    (lambda s: alignments.atlas_plates(s, 404), "no atlas with id 404"),
    (lambda s: alignments.atlas_plates(s, 8), "atlas 8 has no atlas data set"),
    (lambda s: alignments.space_volumes(s, 404), "no reference space with id 404"),
]


@pytest.mark.parametrize(("look_up", "message"), MISSING)
def test_what_is_missing_is_named(store: Store, look_up: Any, message: str) -> None:
    with store.session() as session, pytest.raises(NotFound) as raised:
        look_up(session)
    assert str(raised.value) == message
