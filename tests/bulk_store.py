"""A store with one section data set of many small images (more than the server's default page
of 50 rows), for the bulk download tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import PlaneOfSection, Product, SectionDataSet, SectionImage

DATA_SET = 500
IMAGES = 60
FIRST_ID = 50_001
SHAPES = ((240, 320), (200, 288), (272, 304))


def build_bulk_store(root: Path) -> Store:
    """`IMAGES` section images in data set `DATA_SET`, cycling through three pyramids."""
    store = Store.create(root)
    rng = np.random.default_rng(7)
    paths = []
    for index, (height, width) in enumerate(SHAPES):
        y, x = np.mgrid[0:height, 0:width]
        base = np.stack([x % 256, y % 256, (x * y) % 256], axis=2)
        pixels = (base + rng.integers(0, 16, size=base.shape)).clip(0, 255).astype(np.uint8)
        name = store.new_pyramid_name(f"bulk{index}")
        write_pyramid(pixels, store.pyramid_path(name), PyramidKind.RGB8)
        paths.append(name)
    with store.session() as session:
        product = Product(id=1, name="Mouse Brain", abbreviation="Mouse")
        session.add_all([product, PlaneOfSection(id=1, name="coronal")])
        session.flush()
        data_set = SectionDataSet(id=DATA_SET, plane_of_section_id=1, failed=False)
        data_set.products = [product]
        session.add(data_set)
        session.flush()
        for number in range(IMAGES):
            height, width = SHAPES[number % len(SHAPES)]
            session.add(
                SectionImage(
                    id=FIRST_ID + number,
                    data_set_id=DATA_SET,
                    **whole_image(width, height),
                    section_number=number,
                    resolution=1.0,
                    number_of_components=3,
                    bits_per_component=8,
                    path=paths[number % len(paths)],
                )
            )
    return store


def image_files(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` except the manifest, by name."""
    return {
        path.name: path.read_bytes()
        for path in folder.iterdir()
        if not path.name.startswith("brainmap-manifest")
    }
