"""A small hand-made store with known pixels, for tests that check exact behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.server.state import ImageLimits
from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK, TUMOR_FEATURE_ANNOTATION
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    Equalization,
    Ontology,
    PlaneOfSection,
    Product,
    SectionDataSet,
    SectionImage,
    Structure,
    StructureGraph,
)

SMALL_LIMITS = ImageLimits(max_pixels=2_000_000, max_side=4096)
"""The limits the small store is served with: small enough to test the 413 answers."""
ISH_IMAGE = 1001
CONNECTIVITY_IMAGE = 2001
ATLAS_IMAGE = 3001
ATLAS_IMAGE_UNANNOTATED = 3002
RANGES = (0, 900, 0, 1000, 0, 4095)
STRUCTURE_COLOURS = {997: "FFFFFF", 8: "BFDAE3", 315: "70FF71", 549: "FF7080"}


@dataclass
class SmallStore:
    """The store and the exact pixels written into it."""

    store: Store
    ish: np.ndarray
    expression: np.ndarray
    connectivity: np.ndarray
    labels: np.ndarray


def _sub_image(
    cls: type, image_id: int, data_set: int, pixels: np.ndarray, path: str, **kw: object
):  # type: ignore[no-untyped-def]
    height, width = pixels.shape[:2]
    fields: dict[str, object] = dict(
        **whole_image(width, height),
        section_number=image_id % 100,
        resolution=1.0,
        number_of_components=3,
        bits_per_component=8,
    )
    fields.update(kw)
    return cls(
        id=image_id,
        data_set_id=data_set,
        path=path,
        **fields,
    )


def build_small_store(root: Path, db_url: str | None = None) -> SmallStore:
    """Write records (in the database at `db_url`, by default the folder's SQLite file) and
    pyramids; pixel arrays are returned for comparisons."""
    store = Store.create(root, db_url)
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:900, 0:1200]
    ish = np.stack([(x // 5) % 256, (y // 4) % 256, ((x + y) // 8) % 256], axis=2).astype(np.uint8)
    expression = np.zeros_like(ish)
    expression[300:600, 400:800] = (255, 200, 0)
    cy, cx = np.mgrid[0:700, 0:1000]
    ramps = np.stack([cx * 4, cy * 5, (cx + cy) * 2], axis=2)
    connectivity = (ramps + rng.integers(0, 8, size=ramps.shape)).astype(np.uint16)
    nissl = np.full((600, 800, 3), 200, dtype=np.uint8)
    labels = np.zeros((600, 800), dtype=np.uint32)
    labels[100:500, 100:400] = 315
    labels[100:500, 400:700] = 549
    stripes = np.zeros_like(ish)  # one-pixel colour blocks: averaging would mix them
    stripes[:, 0::2] = (255, 0, 0)
    stripes[:, 1::2] = (0, 0, 255)
    files = {
        "ish": (ish, PyramidKind.RGB8),
        "ish_expression": (expression, PyramidKind.RGB8),
        "ish_tumor": (stripes, PyramidKind.BLOCKS),
        "conn": (connectivity, PyramidKind.LOSSLESS),
        "conn_projection": (ish[:700, :1000], PyramidKind.RGB8),
        "nissl": (nissl, PyramidKind.RGB8),
        "labels": (labels, PyramidKind.LABELS),
    }
    paths = {}
    for stem, (pixels, kind) in files.items():
        paths[stem] = store.new_pyramid_name(stem)
        write_pyramid(pixels, store.pyramid_path(paths[stem]), kind)
    with store.session() as session:
        session.add_all(
            [
                Product(id=1, name="Mouse Brain", abbreviation="Mouse"),
                Product(id=5, name="Mouse Connectivity Projection", abbreviation="Connectivity"),
                PlaneOfSection(id=1, name="coronal"),
                Ontology(id=1, name="Mouse"),
                StructureGraph(id=1, name="Mouse Brain Atlas", ontology_id=1),
            ]
        )
        session.flush()
        ish_set = SectionDataSet(id=100, plane_of_section_id=1, failed=False)
        ish_set.products = [session.get(Product, 1)]
        conn_set = SectionDataSet(id=200, plane_of_section_id=1, failed=False)
        conn_set.products = [session.get(Product, 5)]
        session.add_all([ish_set, conn_set, AtlasDataSet(id=300)])
        session.flush()
        session.add_all(
            [
                _sub_image(
                    SectionImage,
                    ISH_IMAGE,
                    100,
                    ish,
                    paths["ish"],
                    x=10,
                    y=20,
                    width=1100,
                    height=800,
                    expression_path=paths["ish_expression"],
                ),
                _sub_image(
                    SectionImage,
                    CONNECTIVITY_IMAGE,
                    200,
                    connectivity,
                    paths["conn"],
                    bits_per_component=12,
                ),
                _sub_image(AtlasImage, ATLAS_IMAGE, 300, nissl, paths["nissl"], annotated=True),
                _sub_image(
                    AtlasImage, ATLAS_IMAGE_UNANNOTATED, 300, nissl, paths["nissl"], annotated=False
                ),
                Equalization(
                    id=1,
                    section_data_set_id=200,
                    red_lower=RANGES[0],
                    red_upper=RANGES[1],
                    green_lower=RANGES[2],
                    green_upper=RANGES[3],
                    blue_lower=RANGES[4],
                    blue_upper=RANGES[5],
                ),
                Atlas(
                    id=1,
                    name="Mouse, P56, Coronal",
                    image_type="Atlas - Adult Mouse",
                    atlas_data_set_id=300,
                    structure_graph_id=1,
                ),
            ]
        )
        session.flush()
        session.add_all(
            [
                AlternateImage(
                    id=1,
                    sub_image_id=ISH_IMAGE,
                    image_type=EXPRESSION_MASK,
                    path=paths["ish_expression"],
                ),
                AlternateImage(
                    id=4,
                    sub_image_id=ISH_IMAGE,
                    image_type=TUMOR_FEATURE_ANNOTATION,
                    path=paths["ish_tumor"],
                ),
                AlternateImage(
                    id=2,
                    sub_image_id=CONNECTIVITY_IMAGE,
                    image_type=PROJECTION_MASK,
                    path=paths["conn_projection"],
                ),
                AlternateImage(
                    id=3,
                    sub_image_id=ATLAS_IMAGE,
                    image_type="Atlas - Adult Mouse",
                    path=paths["labels"],
                    atlas_id=1,
                ),
            ]
        )
        parents = {997: None, 8: 997, 315: 8, 549: 8}
        id_paths = {997: "/997/", 8: "/997/8/", 315: "/997/8/315/", 549: "/997/8/549/"}
        for order, (sid, colour) in enumerate(STRUCTURE_COLOURS.items()):
            session.add(
                Structure(
                    id=sid,
                    acronym=f"S{sid}",
                    name=f"structure {sid}",
                    graph_id=1,
                    ontology_id=1,
                    graph_order=order,
                    parent_structure_id=parents[sid],
                    structure_id_path=id_paths[sid],
                    color_hex_triplet=colour,
                )
            )
    return SmallStore(store, ish, expression, connectivity, labels)
