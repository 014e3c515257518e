"""The synthetic demo store: counts, record/pyramid consistency, label maps, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from demo_scale import SCALE
from sqlalchemy import select

from brainmap.demo.phantom import MARKER, build_demo_store
from brainmap.pyramid.local import Pyramid
from brainmap.pyramid.tiers import tier_count
from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasImage,
    Base,
    Equalization,
    Product,
    SectionDataSet,
    SectionImage,
    Structure,
    SubImage,
)


@pytest.fixture()
def store(demo_store: Store) -> Store:
    return demo_store


def _dump(store: Store) -> list[tuple[str, list[tuple[object, ...]]]]:
    """Every table's rows, in primary-key order."""
    with store.engine.connect() as connection:
        return [
            (
                table.name,
                [
                    tuple(row)
                    for row in connection.execute(table.select().order_by(*table.primary_key))
                ],
            )
            for table in Base.metadata.sorted_tables
        ]


def test_counts(store: Store) -> None:
    with store.session() as session:
        products = {p.id: p for p in session.scalars(select(Product))}
        assert products[1].name == "Mouse Brain" and products[1].abbreviation == "Mouse"
        assert products[5].name == "Mouse Connectivity Projection"
        assert products[2].abbreviation == "HumanMA"
        data_sets = session.scalars(select(SectionDataSet)).all()
        ish = [d for d in data_sets if d.products[0].id == 1]
        assert len(ish) >= 4 and {d.plane_of_section_id for d in ish} == {1, 2}
        assert all(len(d.genes) == 1 and len(d.section_images) >= 6 for d in ish)
        connectivity = [d for d in data_sets if d.products[0].id == 5]
        assert connectivity and connectivity[0].equalization is not None
        assert connectivity[0].red_channel and connectivity[0].green_channel
        atlas = session.get(Atlas, 1)
        assert atlas is not None and atlas.name == "Mouse, P56, Coronal"
        assert atlas.image_type == "Atlas - Adult Mouse" and atlas.structure_graph_id == 1
        plates = session.scalars(select(AtlasImage)).all()
        assert sum(p.annotated for p in plates) >= 10
        assert len(session.scalars(select(Structure)).all()) >= 30


def test_records_match_pyramids(store: Store) -> None:
    with store.session() as session:
        images = session.scalars(select(SubImage)).all()
        boxed = 0
        for image in images:
            pyramid = Pyramid(store.pyramid_path(image.path))
            assert (pyramid.width, pyramid.height) == (image.image_width, image.image_height)
            assert image.tier_count == tier_count(image.image_width, image.image_height)
            assert pyramid.levels == image.tier_count
            assert image.x >= 0 and image.x + image.width <= image.image_width
            assert image.y >= 0 and image.y + image.height <= image.image_height
            boxed += image.x > 0 or image.y > 0
            for alternate in image.alternate_images:
                other = Pyramid(store.pyramid_path(alternate.path))
                assert (other.width, other.height) == (pyramid.width, pyramid.height)
        assert boxed > 0


def test_masks_and_annotations(store: Store) -> None:
    with store.session() as session:
        for image in session.scalars(select(SectionImage)):
            kinds = {a.image_type for a in image.alternate_images}
            if image.data_set and image.data_set.products[0].id == 1:
                assert kinds == {EXPRESSION_MASK}
                assert image.expression_path == image.alternate_images[0].path
            else:
                assert kinds == {PROJECTION_MASK}
        for plate in session.scalars(select(AtlasImage)):
            labels = [a for a in plate.alternate_images if a.image_type == "Atlas - Adult Mouse"]
            assert len(labels) == plate.annotated
            assert all(a.atlas_id == 1 for a in labels)


def test_label_maps_hold_known_structures(store: Store) -> None:
    with store.session() as session:
        known = set(session.scalars(select(Structure.id))) | {0}
        paths = session.scalars(select(AlternateImage.path).where(AlternateImage.atlas_id == 1))
        for path in paths:
            level = Pyramid(store.pyramid_path(path)).level(0)
            assert level.format == "uint"
            found = set(np.unique(level.numpy()).tolist())
            assert found <= known and len(found) > 5


def test_connectivity_is_12_bit(store: Store) -> None:
    with store.session() as session:
        image = session.scalars(
            select(SectionImage).where(SectionImage.bits_per_component == 12)
        ).first()
        assert image is not None
        pixels = Pyramid(store.pyramid_path(image.path)).level(0).numpy()
        assert pixels.dtype == np.uint16 and pixels.shape[2] == 3
        assert 1000 < int(pixels.max()) <= 4095
        windows = session.scalars(select(Equalization)).one()
        assert (windows.blue_lower, windows.blue_upper) == (0, 4095)
        assert 0 < windows.red_upper < windows.blue_upper


def test_rebuild_is_identical_and_reused(store: Store, tmp_path: Path) -> None:
    again = build_demo_store(tmp_path / "demo", scale=SCALE)
    assert _dump(again) == _dump(store)
    marker = store.root / MARKER
    stamp = marker.stat().st_mtime_ns
    assert build_demo_store(store.root, scale=SCALE).root == store.root
    assert marker.stat().st_mtime_ns == stamp


def test_interrupted_build_is_redone(tmp_path: Path) -> None:
    partial = tmp_path / ".demo.partial"
    partial.mkdir()
    (partial / "leftover").write_text("x")
    store = build_demo_store(tmp_path / "demo", scale=0.02)
    assert (store.root / MARKER).is_file() and not partial.exists()


def test_foreign_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        build_demo_store(tmp_path, scale=0.02)
