"""`brainmap ingest`: user files into a store, served back by the real server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips
from click.testing import CliRunner
from sqlalchemy import select

from brainmap.cli import main
from brainmap.ingest.errors import IngestError
from brainmap.ingest.images import ingest_images, write_pyramids
from brainmap.ingest.plan import Inputs, Options, plan
from brainmap.pyramid.local import Pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import Equalization, SectionImage
from brainmap.store.writes import OWN_IDS_FROM as FIRST
from loopback import jpeg

RNG = np.random.default_rng(5)


def save(pixels: np.ndarray, path: Path, **options: object) -> Path:
    pyvips.Image.new_from_array(pixels).write_to_file(str(path), **options)
    return path


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    deep = RNG.integers(0, 4096, size=(300, 400, 3)).astype(np.uint16)
    grey = np.tile(np.arange(400) % 256, (300, 1)).astype(np.uint8)
    colour = np.stack([grey, grey[::-1], 255 - grey], axis=2)
    labels = np.zeros((300, 400), dtype=np.uint16)
    labels[50:250, 100:300] = 20
    labels[100:200, 150:250] = 30
    structures = tmp_path / "structures.csv"
    structures.write_text(
        "id,acronym,name,parent_structure_id,color_hex_triplet\n"
        "10,root,root,,FFFFFF\n20,A,area a,10,FF0000\n30,B,area b,20,#00ff00\n"
    )
    return {
        "deep": save(deep, tmp_path / "deep.tif", bigtiff=True, compression="deflate"),
        "grey": save(grey, tmp_path / "grey.png"),
        "jpeg": save(colour, tmp_path / "colour.jpg", Q=95),
        "pyramid": save(colour, tmp_path / "pyr.tif", tile=True, pyramid=True),
        "mask": save(colour, tmp_path / "mask.png"),
        "labels": save(labels, tmp_path / "labels.png"),
        "small": save(grey[:100], tmp_path / "small.png"),
        "structures": structures,
        "junk": tmp_path / "junk.tif",
    }


def test_ingest_records_and_serves_every_input_kind(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    store = Store.create(tmp_path / "store")
    images = [inputs[k] for k in ("deep", "grey", "jpeg", "pyramid")]
    ids = ingest_images(
        store,
        images,
        data_set_id=7,
        expression=[inputs["mask"]] * 4,
        labels=[inputs["labels"]] * 4,
        structures=inputs["structures"],
    ).image_ids
    assert len(ids) == 4
    with store.session() as session:
        records = session.scalars(select(SectionImage).order_by(SectionImage.id)).all()
        assert [(r.width, r.height, r.tier_count) for r in records] == [(400, 300, 2)] * 4
        assert [r.bits_per_component for r in records] == [12, 8, 8, 8]
        assert [r.section_number for r in records] == [1, 2, 3, 4]
        assert all(r.expression_path for r in records)
        equalization = session.scalars(select(Equalization)).one()
        assert 4000 <= equalization.red_upper <= 4095 and equalization.red_lower <= 10
    with BackgroundServer(create_app(store)) as server:
        base = f"{server.url}/api/v2/image_download"
        windowed = jpeg(f"{base}/{ids[0]}?range=0,4095,0,4095,0,4095")
        assert windowed.shape == (300, 400, 3)
        assert jpeg(f"{base}/{ids[1]}")[10, 300].tolist() == pytest.approx([44] * 3, abs=4)
        plate = jpeg(f"{base}/{ids[2]}?annotation=true")
        assert plate[150, 120].tolist() == pytest.approx([255, 0, 0], abs=12)
        assert plate[150, 200].tolist() == pytest.approx([0, 255, 0], abs=12)
        assert jpeg(f"{base}/{ids[3]}?view=expression&downsample=1").shape == (150, 200, 3)


def test_a_killed_ingest_leaves_no_records_and_a_rerun_completes(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    store = Store.create(tmp_path / "store")
    images = [inputs["grey"], inputs["jpeg"]]
    write_pyramids(store, plan(store, Inputs(images), Options(3)))  # killed before recording
    with store.session() as session:
        assert session.scalars(select(SectionImage)).all() == []
    assert len(ingest_images(store, images, data_set_id=3).image_ids) == 2
    assert ingest_images(store, images, data_set_id=3).image_ids == []  # nothing duplicated
    deep = ingest_images(store, [inputs["deep"]], data_set_id=3, window=(0, 9, 0, 9, 0, 9))
    assert len(deep.image_ids) == 1
    with store.session() as session:
        assert session.scalars(select(Equalization)).one().green_upper == 9


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"images": ["junk"]}, "junk.tif: not a readable TIFF, PNG or JPEG image"),
        ({"images": ["grey"], "expression": ["small"]}, "expression mask is 400 x 100"),
        ({"images": ["grey", "jpeg"], "expression": ["mask"]}, "1 expression mask files for 2"),
        ({"images": ["grey"], "labels": ["labels"]}, "need a structure table"),
        ({"images": ["grey"], "labels": ["jpeg"], "structures": "structures"}, "one unsigned"),
    ],
)
def test_clear_errors(tmp_path: Path, inputs: dict[str, Path], case: dict, message: str) -> None:
    inputs["junk"].write_bytes(b"II*\x00 not really a tiff")
    arguments = {
        key: (inputs[value] if isinstance(value, str) else [inputs[v] for v in value])
        for key, value in case.items()
    }
    store = Store.create(tmp_path / "store")
    with pytest.raises(IngestError, match=message.replace("(", r"\(")):
        ingest_images(store, data_set_id=1, **arguments)


def test_cli(tmp_path: Path, inputs: dict[str, Path]) -> None:
    store_dir = tmp_path / "cli-store"
    arguments = ["ingest", "--store", str(store_dir), "--data-set", "5", str(inputs["grey"])]
    result = CliRunner().invoke(main, [*arguments, "--range", "0,100,0,200,0,300"])
    assert result.exit_code == 0, result.output
    assert (
        f"data set 5: 1 new section images (id {FIRST}), listed under product {FIRST}"
        in result.output
    )
    assert f"brainmap serve --store {store_dir}" in result.output
    assert f"http://127.0.0.1:8080/#image={FIRST}\n" in result.output
    inputs["junk"].write_bytes(b"not an image")
    failed = CliRunner().invoke(main, [*arguments[:-1], str(inputs["junk"])])
    assert failed.exit_code == 1 and "not a readable TIFF, PNG or JPEG" in failed.output


def test_ome_tiff_with_one_channel_a_page_is_joined(tmp_path: Path) -> None:
    channels = [RNG.integers(0, 4096, size=(64, 80)).astype(np.uint16) for _ in range(3)]
    stack = pyvips.Image.new_from_array(np.concatenate(channels, axis=0)).copy()
    stack.set_type(pyvips.GValue.gint_type, "page-height", 64)
    description = '<?xml version="1.0"?><OME><Image><Pixels SizeC="3" SizeX="80" SizeY="64"/>'
    stack.set_type(pyvips.GValue.gstr_type, "image-description", description + "</Image></OME>")
    path = tmp_path / "channels.ome.tif"
    stack.tiffsave(str(path))
    store = Store.create(tmp_path / "store")
    (image_id,) = ingest_images(store, [path], data_set_id=2).image_ids
    with store.session() as session:
        record = session.get(SectionImage, image_id)
        assert record is not None and record.number_of_components == 3
        pixels = Pyramid(store.pyramid_path(record.path)).level(0).numpy()
    assert np.array_equal(pixels, np.stack(channels, axis=2))
