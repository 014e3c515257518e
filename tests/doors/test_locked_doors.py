"""Locked doors: no pixel path of a record reaches a file outside the store's pyramids folder,
neither at import (refused, nothing written) nor when served over loopback (image download,
IIIF, SVG, structure lookup: 404, the outside file never read). The outside files are valid
pyramids, copies of ones the store serves, so a door left open would answer 200."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from brainmap.cli import main
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.mirrored import record_mirrored_level
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    Ontology,
    Structure,
    StructureGraph,
)
from loopback import fetch

SECRET = b"TOP-SECRET-BYTES-OUTSIDE-THE-STORE"
INSIDE = 1
"""The control image: its picture and label map are files of the pyramids folder."""
HOSTILE = {
    2: "pyramids/../../outside/{name}",
    3: "{outside}/{name}",
    4: "pyramids/link-{name}",
    5: "pyramids/away/{name}",
    6: "{name}",
}
"""Image id -> its pixel paths (`name`: picture.tif or labels.tif): climbing, absolute, a
symlinked file, a symlinked folder, a file of the store root beside the pyramids folder."""


MIRRORED = 7
"""An Allen record whose pixels a mirror holds in the pyramids folder: served."""
MIRRORED_OUTSIDE = 8
"""An Allen record whose held level (written by other means) lies outside: refused."""


@dataclass(frozen=True)
class Served:
    url: str
    outside: Path


def _routes(image: int) -> list[str]:
    return [
        f"/api/v2/image_download/{image}?downsample=2",
        f"/api/v2/image_download/{image}?downsample=2&annotation=true",
        f"/iiif/3/{image}/info.json",
        f"/iiif/3/{image}/full/max/0/default.png",
        f"/api/v2/svg/{image}",
        f"/api/v2/image_to_structure/{image}.json?x=5&y=5",
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("locked")
    outside = root / "outside"
    outside.mkdir()
    store = Store.create(root / "store")
    pyramids = store.root / "pyramids"
    labels = np.full((64, 64), 315, np.uint32)
    write_pyramid(np.full((64, 64, 3), 90, np.uint8), pyramids / "picture.tif", PyramidKind.RGB8)
    write_pyramid(labels, pyramids / "labels.tif", PyramidKind.LABELS)
    for name in ("picture.tif", "labels.tif"):
        shutil.copy(pyramids / name, outside / name)
        shutil.copy(pyramids / name, store.root / name)
        (pyramids / f"link-{name}").symlink_to(outside / name)
    (pyramids / "away").symlink_to(outside)
    (outside / "secret.txt").write_bytes(SECRET)
    paths = {INSIDE: "pyramids/{name}", **HOSTILE}
    with store.session() as session:
        session.add_all([Ontology(id=1, name="Mouse"), AtlasDataSet(id=300)])
        session.add(StructureGraph(id=1, name="Mouse Brain Atlas", ontology_id=1))
        session.add(Structure(id=315, acronym="S", name="s", graph_id=1, ontology_id=1))
        session.add(Atlas(id=1, name="plates", atlas_data_set_id=300, structure_graph_id=1))
        session.flush()
        for image, form in paths.items():
            picture = form.format(outside=outside, name="picture.tif")
            label_map = form.format(outside=outside, name="labels.tif")
            fields = whole_image(64, 64)
            session.add(AtlasImage(id=image, data_set_id=300, path=picture, **fields))
            session.flush()
            session.add(
                AlternateImage(
                    id=image, sub_image_id=image, image_type="Atlas", path=label_map, atlas_id=1
                )
            )
        for image, held in (
            (MIRRORED, "pyramids/picture.tif"),
            (MIRRORED_OUTSIDE, "pyramids/away/picture.tif"),
        ):
            allen = f"/external/aibssan/production15/{image}.aff"
            session.add(AtlasImage(id=image, data_set_id=300, path=allen, **whole_image(64, 64)))
            record_mirrored_level(session, allen, 0, held)
    with BackgroundServer(create_app(store)) as server:
        yield Served(server.url, outside)
    store.close()


@pytest.mark.parametrize(("image", "status"), [(MIRRORED, 200), (MIRRORED_OUTSIDE, 404)])
@pytest.mark.parametrize("route", ["/api/v2/image_download/{}", "/iiif/3/{}/info.json"])
def test_a_mirrors_held_level_is_read_from_inside_only(
    served: Served, image: int, status: int, route: str
) -> None:
    found, body, _ = fetch(served.url + route.format(image))
    assert found == status, body
    assert status == 200 or b"pixel file 'pyramids/away/picture.tif' resolves outside" in body


@pytest.mark.parametrize("route", _routes(INSIDE))
def test_the_control_image_is_served_from_inside(served: Served, route: str) -> None:
    status, _, _ = fetch(served.url + route)
    assert status == 200


@pytest.mark.parametrize("image", sorted(HOSTILE))
@pytest.mark.parametrize("index", range(len(_routes(INSIDE))))
def test_a_path_leading_outside_is_not_found(served: Served, image: int, index: int) -> None:
    route = _routes(image)[index]
    status, body, _ = fetch(served.url + route)
    assert status == 404, body
    assert b"pixel file" in body
    assert b"\n" not in body.rstrip(b"\n")
    assert SECRET not in body


@pytest.mark.parametrize(
    "path", ["pyramids/../../outside/secret.txt", "{outside}/secret.txt", "../outside/secret.txt"]
)
def test_a_record_written_by_other_means_cannot_read_outside(
    served: Served, tmp_path: Path, path: str
) -> None:
    """Whatever a record names, the secret's bytes are never in an answer."""
    store = Store.create(tmp_path / "store")
    with store.session() as session:
        session.add(AtlasDataSet(id=300))
        session.flush()
        hostile = path.format(outside=served.outside)
        session.add(AtlasImage(id=9, data_set_id=300, path=hostile, **whole_image(64, 64)))
    try:
        with BackgroundServer(create_app(store)) as server:
            for route in (f"/api/v2/image_download/{9}", f"/iiif/3/{9}/info.json"):
                status, body, _ = fetch(server.url + route)
                assert status == 404 and SECRET not in body
    finally:
        store.close()


def _image_record(path: str, alternate: str | None = None) -> dict[str, object]:
    record: dict[str, object] = {
        "id": 5,
        "data_set_id": 123,
        "path": path,
        **whole_image(10, 10),
    }
    if alternate is not None:
        record["alternate_images"] = [
            {"id": 7, "sub_image_id": 5, "image_type": "Expression", "path": alternate}
        ]
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_image_record("pyramids/../../etc/passwd"), "climbs out with '..'"),
        (_image_record("../secret.tif"), "climbs out with '..'"),
        (_image_record("/external/../../etc/passwd"), "climbs out with '..'"),
        (
            _image_record("pyramids/x.tif", "pyramids/../../etc/passwd"),
            "alternate_images 7: pixel path 'pyramids/../../etc/passwd' climbs out",
        ),
    ],
)
def test_import_refuses_a_path_that_climbs(
    tmp_path: Path, record: dict[str, object], message: str
) -> None:
    store = tmp_path / "store"
    Store.create(store).close()
    result = CliRunner().invoke(main, ["import", "--store", str(store), _write(tmp_path, [record])])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "records.json" in line and "record 0 (id 5)" in line and message in line, line
    with sqlite3.connect(store / "brainmap.sqlite") as database:
        assert database.execute("select count(*) from sub_images").fetchone() == (0,)


def test_allen_records_keep_their_storage_paths_which_are_never_opened(tmp_path: Path) -> None:
    allen = "/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_171_B.aff"
    store_dir = tmp_path / "store"
    result = CliRunner().invoke(
        main, ["import", "--store", str(store_dir), _write(tmp_path, [_image_record(allen)])]
    )
    assert result.exit_code == 0, result.output
    store = Store.open(store_dir)
    try:
        with BackgroundServer(create_app(store)) as server:
            status, body, _ = fetch(f"{server.url}/api/v2/data/SubImage/5.json")
            assert status == 200 and json.loads(body)["msg"][0]["path"] == allen
            status, body, _ = fetch(f"{server.url}/api/v2/image_download/5")
            assert status == 404
            assert body.decode().strip() == (
                f"pixel file {allen!r} is not a file of this store (another storage's name)"
            )
    finally:
        store.close()


def _write(folder: Path, records: list[dict[str, object]]) -> str:
    path = folder / "records.json"
    path.write_text(json.dumps(records))
    return str(path)
