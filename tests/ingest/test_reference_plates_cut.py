"""`brainmap reference plates`: an atlas cut from a stored volume, found and served like any
atlas, whose every plate pixel lands, through its alignment records read back over RMA, in the
voxel it was cut from."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from sqlalchemy import select
from test_reference_add import (
    CLI,
    GRAPH,
    STRUCTURES,
    blocks,
    brainmap,
    interrupt,
    snapshot,
    store_with_ontology,
    write_nrrd,
)

from brainmap.client.allensdk.image_download_api import ImageDownloadApi
from brainmap.reference.alignment import DataSetAlignment, SectionAlignment, image_to_reference
from brainmap.reference.plates import plate_indices
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import AlternateImage, ReferenceSpace
from loopback import get_json, jpeg, request

SHAPE = (12, 9, 15)
RESOLUTION = (25.0, 20.0, 10.0)
SPACE, ATLAS = 9, 5
TOLERANCE = 40  # JPEG's halved chroma bleeds across 4-pixel blocks; a boundary is 115 darker


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """The base URL of the real server over the store in `folder`."""
    store = Store.open(folder)
    try:
        with BackgroundServer(create_app(store)) as server:
            yield server.url
    finally:
        store.close()


def rma(base: str, criteria: str) -> list[dict]:
    answer = get_json(base, "/api/v2/data/query.json", f"criteria={criteria}&num_rows=all")
    assert answer["success"], answer
    return answer["msg"]  # type: ignore[no-any-return]


def prepared(tmp_path: Path, data: np.ndarray, template: np.ndarray | None = None) -> Path:
    """A store with the ontology and reference space SPACE made from `data` (and `template`)."""
    folder = store_with_ontology(tmp_path / "store")
    files = ["--annotation", write_nrrd(tmp_path / "annotation.nrrd", data, RESOLUTION)]
    if template is not None:
        files += ["--template", write_nrrd(tmp_path / "template.nrrd", template, RESOLUTION)]
    added = brainmap("reference", "add", "--store", folder, "--id", SPACE, "--name", "test space",
                     "--structure-graph", GRAPH, *files)  # fmt: skip
    assert added.exit_code == 0, added.output
    return folder


def labels_of(store: Path, image_id: int) -> np.ndarray:
    """A plate's label map, from its pyramid's full-resolution page."""
    opened = Store.open(store)
    with opened.session() as session:
        path = session.scalar(
            select(AlternateImage.path).where(AlternateImage.sub_image_id == image_id)
        )
    opened.close()
    return pyvips.Image.new_from_file(str(store / path), page=0).numpy()


def voxel_labels(data: np.ndarray, pir: np.ndarray) -> np.ndarray:
    index = np.floor(pir / np.asarray(RESOLUTION) + 0.5).astype(int)
    assert ((index >= 0) & (index < np.asarray(SHAPE))).all()
    return data[tuple(index.T)]


@pytest.mark.parametrize(
    ("plane", "every", "pixels_per_voxel"),
    [("coronal", 50, 1), ("sagittal", 10, 3), ("horizontal", 40, 2)],
)
def test_every_plate_pixel_has_the_label_of_the_voxel_its_alignment_names(
    tmp_path: Path, plane: str, every: float, pixels_per_voxel: int
) -> None:
    data, rng = blocks(SHAPE), np.random.default_rng(11)
    store = prepared(tmp_path, data)
    cut = brainmap("reference", "plates", "--store", store, "--reference-space", SPACE,
                   "--atlas", ATLAS, "--plane", plane, "--every", every,
                   "--pixels-per-voxel", pixels_per_voxel)  # fmt: skip
    assert cut.exit_code == 0, cut.output
    indices = plate_indices(plane, SHAPE, RESOLUTION, every)
    assert f"atlas {ATLAS}: {len(indices)} {plane} plates" in cut.output
    with serving(store) as base:
        plates = ImageDownloadApi(base_uri=base).atlas_image_query(ATLAS)
        assert [plate["section_number"] for plate in plates] == indices
        data_set_id = plates[0]["data_set_id"]
        (data_set,) = rma(base, f"model::AtlasDataSet,rma::criteria,[id$eq{data_set_id}]")
        assert data_set["reference_space_id"] == SPACE
        criteria = f"model::Alignment3d,rma::criteria,[aligned_id$eq{data_set_id}]"
        (volume,) = rma(base, criteria)
        stack = DataSetAlignment.from_record(volume, data_set["section_thickness"])
        for plate in plates:
            (record,) = rma(
                base, f"model::Alignment2d,rma::criteria,[section_image_id$eq{plate['id']}]"
            )
            section = SectionAlignment.from_record(record, plate["section_number"])
            labels = labels_of(store, plate["id"])
            assert labels.shape == (plate["height"], plate["width"])
            y, x = np.mgrid[0 : plate["height"], 0 : plate["width"]]
            pir = image_to_reference(section, stack, np.column_stack([x.ravel(), y.ravel()]))
            assert (voxel_labels(data, pir) == labels.ravel()).all()
            for pixel in rng.choice(len(pir), size=6, replace=False):
                x, y = pixel % plate["width"], pixel // plate["width"]
                point = sync(base, f"image_to_reference/{plate['id']}", f"x={x}&y={y}")
                found = point["image_to_reference"]
                assert [found["x"], found["y"], found["z"]] == pytest.approx(pir[pixel])
                query = f"x={found['x']}&y={found['y']}&z={found['z']}"
                structures = sync(base, f"reference_to_structure/{SPACE}", query)
                label = int(labels.ravel()[pixel])
                assert [s["id"] for s in structures] == ([label] if label else [])


def sync(base: str, service: str, query: str) -> Any:
    """The `msg` of an image-sync service's JSON answer."""
    answer = get_json(base, f"/api/v2/{service}.json", query)
    assert answer["success"], answer
    return answer["msg"]


def colour(triplet: str) -> list[int]:
    return [int(triplet[k : k + 2], 16) for k in (0, 2, 4)]


def test_plates_are_served_coloured_highlighted_and_drawn(tmp_path: Path) -> None:
    data = blocks(SHAPE, size=4, seed=3)
    store = prepared(tmp_path, data)
    cut = brainmap("reference", "plates", "--store", store, "--reference-space", SPACE,
                   "--atlas", ATLAS, "--plane", "coronal", "--every", 25,
                   "--pixels-per-voxel", 4)  # fmt: skip
    assert cut.exit_code == 0, cut.output
    with serving(store) as base:
        plates = ImageDownloadApi(base_uri=base).atlas_image_query(ATLAS)
        download = f"{base}/api/v2/atlas_image_download"
        checked = 0
        for plate in plates[::3]:
            ident, index = plate["id"], plate["section_number"]
            coloured = jpeg(f"{download}/{ident}?annotation=true")
            drawing = jpeg(f"{download}/{ident}")
            faded = jpeg(f"{download}/{ident}?annotation=true&structure=101")
            # Voxel (row, col) is the 4x4 block of pixels from (4 row, 4 col): its inside pixel
            # (4 row + 2, 4 col + 2) is no boundary.
            for row in range(SHAPE[1]):
                for col in range(SHAPE[2]):
                    label = int(data[index, row, col])
                    if label == 0:
                        continue
                    y, x = 4 * row + 2, 4 * col + 2
                    expected = colour(STRUCTURES[label][1])
                    assert coloured[y, x].tolist() == pytest.approx(expected, abs=TOLERANCE)
                    assert drawing[y, x].tolist() == pytest.approx(expected, abs=TOLERANCE)
                    if label in (101, 104, 105):  # A and its descendants stay bright
                        assert faded[y, x].tolist() == pytest.approx(expected, abs=TOLERANCE)
                    else:  # the rest fade 75 % toward white
                        whiter = [round(v * 0.25 + 255 * 0.75) for v in expected]
                        assert faded[y, x].tolist() == pytest.approx(whiter, abs=TOLERANCE)
                    checked += 1
            # The sync services find the plate itself from its own pixel, and it has an SVG.
            found = sync(base, f"image_to_atlas/{ident}", f"x=7&y=9&atlas_id={ATLAS}")
            assert found["image_sync"]["section_image_id"] == ident
            assert (found["image_sync"]["x"], found["image_sync"]["y"]) == pytest.approx((7, 9))
            drawn = request(f"{base}/api/v2/svg/{ident}")
            assert drawn.status == 200 and b'structure_id="' in drawn.body
        assert checked > 100


def test_a_template_gives_the_plates_their_picture(tmp_path: Path) -> None:
    data = blocks(SHAPE)
    template = (np.arange(np.prod(SHAPE)).reshape(SHAPE) % 1000).astype(np.uint16)
    store = prepared(tmp_path, data, template)
    cut = brainmap("reference", "plates", "--store", store, "--reference-space", SPACE,
                   "--atlas", ATLAS, "--plane", "sagittal", "--every", 30)  # fmt: skip
    assert cut.exit_code == 0, cut.output
    with serving(store) as base:
        plates = ImageDownloadApi(base_uri=base).atlas_image_query(ATLAS)
        for plate in plates:
            picture = jpeg(f"{base}/api/v2/atlas_image_download/{plate['id']}")
            plane = template[:, :, plate["section_number"]].astype(float)
            low, high = template.min(), 999  # the window: minimum to the 99.9 % quantile
            expected = np.clip(np.rint((plane - low) * 255 / (high - low)), 0, 255)
            assert np.abs(picture[..., 1] - expected).mean() < 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--reference-space", 8], 5, "--reference-space 8: no reference space"),
        (["--atlas", 1], 2, "--atlas 1: atlas 1 already exists"),
        (["--every", 10], 2, "plates must be at least one voxel (25.0 µm) apart"),
        (["--every", "nan"], 2, "--every nan: must be above 0 µm"),
        (["--plane", "oblique"], 2, "Invalid value for '--plane'"),
        (["--pixels-per-voxel", 0], 2, "Invalid value for '--pixels-per-voxel'"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    tmp_path: Path, args: list[object], code: int, message: str
) -> None:
    store = prepared(tmp_path, blocks(SHAPE))
    first = brainmap("reference", "plates", "--store", store, "--reference-space", SPACE,
                     "--atlas", 1, "--every", 25)  # fmt: skip
    assert first.exit_code == 0, first.output
    before = snapshot(store)
    given = {"--reference-space": SPACE, "--atlas": 2, "--every": 25}
    for name, value in zip(args[::2], args[1::2], strict=True):
        given[str(name)] = value
    options = [item for pair in given.items() for item in pair]
    result = brainmap("reference", "plates", "--store", store, *options)
    assert result.exit_code == code, result.output
    assert message in result.output.strip().splitlines()[-1]
    assert snapshot(store) == before


def test_ctrl_c_leaves_no_records_and_a_rerun_completes(tmp_path: Path) -> None:
    """A real SIGINT while plates are cut: exit 130, one line, no partial files, no atlas; the
    same command again makes every plate once, reusing those already written."""
    shape = (120, 160, 200)
    folder = store_with_ontology(tmp_path / "store")
    data = blocks(shape, size=7)
    annotation = write_nrrd(tmp_path / "annotation.nrrd", data, (25.0, 25.0, 25.0))
    added = brainmap("reference", "add", "--store", folder, "--id", SPACE, "--name", "big",
                     "--annotation", annotation)  # fmt: skip
    assert added.exit_code == 0, added.output
    command = ["reference", "plates", "--store", str(folder), "--reference-space", str(SPACE),
               "--atlas", str(ATLAS), "--every", "25", "--pixels-per-voxel", "2"]  # fmt: skip
    interrupt(command, lambda: len(list(folder.glob("pyramids/reference/**/*.tif"))) >= 4)
    assert not list(folder.rglob("*.partial"))
    written = len(list(folder.glob("pyramids/reference/**/*.tif")))
    assert 4 <= written < 2 * shape[0]
    with sqlite3.connect(f"file:{folder / 'brainmap.sqlite'}?immutable=1", uri=True) as db:
        assert db.execute("select count(*) from sub_images").fetchone() == (0,)
        assert db.execute("select count(*) from atlases").fetchone() == (0,)
    rerun = subprocess.run([*CLI, *command], capture_output=True, timeout=300, check=True)
    assert f"atlas {ATLAS}: {shape[0]} coronal plates".encode() in rerun.stdout
    assert len(list(folder.glob("pyramids/reference/**/*.tif"))) == 2 * shape[0]


def test_no_store_and_a_space_without_a_volume_are_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nothing"
    result = brainmap("reference", "plates", "--store", missing, "--reference-space", SPACE,
                      "--atlas", ATLAS, "--every", 25)  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().endswith("nothing: no store here (brainmap.sqlite is missing)")
    assert not missing.exists()
    folder = store_with_ontology(tmp_path / "store")
    store = Store.open(folder)
    with store.session() as session:
        session.add(ReferenceSpace(id=SPACE, name="imported, no volume"))
    store.close()
    before = snapshot(folder)
    result = brainmap("reference", "plates", "--store", folder, "--reference-space", SPACE,
                      "--atlas", ATLAS, "--every", 25)  # fmt: skip
    assert result.exit_code == 5
    assert f"--reference-space {SPACE}: has no volume" in result.output
    assert snapshot(folder) == before
