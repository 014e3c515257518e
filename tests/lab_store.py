"""A lab's store as ``brainmap ingest`` makes it, for the tests of where a store lives (a
folder, PostgreSQL, object storage): two sections of one data set with label maps, and the
requests that read every kind of pixel file the ingest wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips
from click.testing import CliRunner

from brainmap.cli import main

FIRST = 10**12
"""The first id brainmap gives a record of its own."""
ANSWERS = [
    "/api/v2/data/query.json?criteria=model::SectionImage,rma::criteria,[data_set_id$eq5]"
    ",rma::include,alternate_images,rma::options[order$eq'id']",
    f"/api/v2/image_download/{FIRST}?downsample=2",
    f"/api/v2/image_download/{FIRST}?left=100&top=50&width=500&height=400&range=0,2000,0,4095,0,900",
    f"/api/v2/image_download/{FIRST + 1}?downsample=1&quality=80",
    f"/api/v2/section_image_download/{FIRST + 1}?downsample=3&annotation=true",
    f"/iiif/3/{FIRST}/info.json",
    f"/iiif/3/{FIRST}/256,256,256,256/max/0/default.png",
    f"/api/v2/image_to_structure/{FIRST}.json?x=400&y=300",
]
"""Requests reading every kind of pixel file the ingest wrote: records, pictures at several
levels, a window on 12-bit data, the annotation drawn from the label map, IIIF, a label read."""


def _save(pixels: np.ndarray, path: Path, **options: object) -> Path:
    pyvips.Image.new_from_array(pixels).write_to_file(str(path), **options)
    return path


def lab_images(folder: Path) -> list[str]:
    """``brainmap ingest`` arguments (without the store) for two sections of data set 5 written
    in `folder`: a 12-bit three-channel TIFF and an 8-bit JPEG, each with a label map."""
    rng = np.random.default_rng(14)
    deep = rng.integers(0, 4096, size=(700, 900, 3)).astype(np.uint16)
    grey = np.tile(np.arange(900) % 256, (700, 1)).astype(np.uint8)
    labels = np.zeros((700, 900), dtype=np.uint16)
    labels[100:600, 200:700] = 20
    structures = folder / "structures.csv"
    structures.write_text(
        "id,acronym,name,parent_structure_id,color_hex_triplet\n"
        "10,root,root,,FFFFFF\n20,A,area a,10,FF0000\n"
    )
    colour = np.stack([grey, grey[::-1], 255 - grey], axis=2)
    return [
        "--data-set",
        "5",
        str(_save(deep, folder / "deep.tif", compression="deflate")),
        str(_save(colour, folder / "c.jpg", Q=95)),
        "--labels",
        str(_save(labels, folder / "labels-a.png")),
        "--labels",
        str(_save(labels[::-1].copy(), folder / "labels-b.png")),
        "--structures",
        str(structures),
    ]


def ingest(*arguments: str) -> None:
    """Run ``brainmap ingest`` with `arguments`, which must succeed."""
    result = CliRunner().invoke(main, ["ingest", *arguments])
    assert result.exit_code == 0, result.output
