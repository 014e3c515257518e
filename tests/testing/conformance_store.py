"""A small store holding one of everything the conformance kit looks for, shaped so that each
check can tell right from wrong: box sizes that do not halve evenly (floor against ceiling),
bounding boxes inside larger images, a data set where only some images have expression masks,
a structure graph of more than 50 structures with acronyms in both cases, a first atlas without
plates, and a failed image that discovery must pass over."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.service import EXPRESSION_MASK
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    Ontology,
    PlaneOfSection,
    Product,
    SectionDataSet,
    SectionImage,
    Structure,
    StructureGraph,
)

IMAGE_SIZE = (613, 421)
"""Width and height of every section image file; the records' boxes sit inside it."""
BOX = {"x": 6, "y": 4, "width": 601, "height": 409}
PLATE_SIZE = (517, 389)
SECTION_IMAGES = range(1001, 1007)
MASKED_IMAGES = (1001, 1003)
FAILED_IMAGE = 999
DATA_SET, ATLAS_DATA_SET, GRAPH = 100, 300, 1
PLATES = (3001, 3002)
ROOT = 997
STRUCTURES = range(1, 60)
"""Structure 1 ("CTX") and its children: acronyms "CTX<n>" (n even) and "ctx<n>" (n odd)."""


def _texture(width: int, height: int, phase: float) -> np.ndarray:
    """Smooth RGB waves: regions can be told apart, and JPEG keeps them faithfully."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = [
        120 + 100 * np.sin(x / 23 + phase) * np.cos(y / 31),
        120 + 100 * np.sin((x + y) / 41 + phase),
        60 + 50 * np.cos(x / 17 - y / 29 + phase),
    ]
    return np.stack(channels, axis=2).round().clip(0, 255).astype(np.uint8)


def _mask(width: int, height: int) -> np.ndarray:
    """Black with a yellow disc, as an expression mask looks."""
    y, x = np.mgrid[0:height, 0:width]
    inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 3) ** 2
    mask = np.zeros((height, width, 3), dtype=np.uint8)
    mask[inside] = (255, 220, 0)
    return mask


def _labels(width: int, height: int) -> np.ndarray:
    """A label map of vertical bands of structures 2, 3, 4 and 5."""
    labels = np.zeros((height, width), dtype=np.uint32)
    for band, structure in enumerate((2, 3, 4, 5)):
        labels[:, band * width // 4 : (band + 1) * width // 4] = structure
    return labels


def _write(store: Store, stem: str, pixels: np.ndarray, kind: PyramidKind) -> str:
    name = store.new_pyramid_name(stem)
    write_pyramid(pixels, store.pyramid_path(name), kind)
    return name


def _structures() -> list[Structure]:
    def structure(structure_id: int, acronym: str, parent: int | None, order: int) -> Structure:
        return Structure(
            id=structure_id,
            acronym=acronym,
            name=f"structure {acronym}",
            graph_id=GRAPH,
            ontology_id=1,
            graph_order=order,
            parent_structure_id=parent,
            color_hex_triplet=f"{(structure_id * 2654435761) % 0xFFFFFF:06X}",
        )

    found = [structure(ROOT, "root", None, 0), structure(1, "CTX", ROOT, 1)]
    for number in STRUCTURES[1:]:
        acronym = f"CTX{number}" if number % 2 == 0 else f"ctx{number}"
        found.append(structure(number, acronym, 1, number + 1))
    return found


def build_conformance_store(root: Path) -> Store:
    """Write the pyramids and records; the store is returned open."""
    store = Store.create(root)
    width, height = IMAGE_SIZE
    section = _write(store, "section", _texture(width, height, 0.0), PyramidKind.RGB8)
    mask = _write(store, "mask", _mask(width, height), PyramidKind.RGB8)
    nissl = _write(store, "nissl", _texture(*PLATE_SIZE, 1.5), PyramidKind.RGB8)
    labels = _write(store, "labels", _labels(*PLATE_SIZE), PyramidKind.LABELS)
    image_fields = {
        "image_width": width,
        "image_height": height,
        "tier_count": tier_count(width, height),
    }
    plate_fields = {
        "x": 0,
        "y": 0,
        "width": PLATE_SIZE[0],
        "height": PLATE_SIZE[1],
        "image_width": PLATE_SIZE[0],
        "image_height": PLATE_SIZE[1],
        "tier_count": tier_count(*PLATE_SIZE),
    }
    with store.session() as session:
        product = Product(id=1, name="Mouse Brain", abbreviation="Mouse")
        session.add_all(
            [product, PlaneOfSection(id=1, name="coronal"), Ontology(id=1, name="Mouse")]
        )
        session.add(StructureGraph(id=GRAPH, name="Mouse Brain Atlas", ontology_id=1))
        session.flush()
        session.add_all(_structures())
        data_sets = [
            SectionDataSet(id=DATA_SET, plane_of_section_id=1),
            SectionDataSet(id=DATA_SET + 1),
        ]
        data_sets[0].products = [product]
        session.add_all([*data_sets, AtlasDataSet(id=ATLAS_DATA_SET)])
        session.flush()
        session.add(
            SectionImage(
                id=FAILED_IMAGE,
                data_set_id=DATA_SET + 1,
                failed=True,
                section_number=1,
                path=section,
                expression_path=mask,
                **BOX,
                **image_fields,
            )
        )
        for number, image_id in enumerate(SECTION_IMAGES):
            masked = image_id in MASKED_IMAGES
            session.add(
                SectionImage(
                    id=image_id,
                    data_set_id=DATA_SET,
                    section_number=number,
                    resolution=1.63,
                    number_of_components=3,
                    bits_per_component=8,
                    path=section,
                    expression_path=mask if masked else None,
                    **BOX,
                    **image_fields,
                )
            )
        session.add_all(
            [
                Atlas(id=1, name="without plates", image_type="Atlas - Developing Mouse"),
                Atlas(
                    id=2,
                    name="Mouse, P56, Coronal",
                    image_type="Atlas - Adult Mouse",
                    atlas_data_set_id=ATLAS_DATA_SET,
                    structure_graph_id=GRAPH,
                ),
            ]
        )
        for number, plate_id in enumerate(PLATES):
            session.add(
                AtlasImage(
                    id=plate_id,
                    data_set_id=ATLAS_DATA_SET,
                    section_number=number,
                    annotated=True,
                    path=nissl,
                    **plate_fields,
                )
            )
        session.flush()
        session.add_all(
            AlternateImage(sub_image_id=image_id, image_type=EXPRESSION_MASK, path=mask)
            for image_id in (FAILED_IMAGE, *MASKED_IMAGES)
        )
        session.add_all(
            AlternateImage(
                sub_image_id=plate_id, image_type="Atlas - Adult Mouse", path=labels, atlas_id=2
            )
            for plate_id in PLATES
        )
    return store
