"""The image-sync services and reference_to_structure over loopback on the sync store, whose
answers are known by construction; and the ReferenceSpace model they rest on."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sync_store import (
    ATLAS,
    ATLAS_SET,
    CORONAL,
    EMPTY,
    IN_UNALIGNED_SET,
    LEFT,
    LEFT_CHILD,
    NO_SPACE_SET,
    PARENTS,
    RESOLUTION,
    RIGHT,
    ROOT,
    SAGITTAL,
    SPACE,
    SPACE_WITHOUT_VOLUME,
    UNALIGNED_IMAGE,
    SyncStore,
    build_sync_store,
)

from brainmap.cli import main
from brainmap.demo.phantom import build_demo_store
from brainmap.reference import alignment as maths
from brainmap.reference.volume import ReferenceVolume
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import Structure, SubImage
from loopback import call, get_json

SPACE_RECORD = {"id": 9, "name": "P56 Brain", "structure_graph_id": None, "age_id": 15}


@pytest.fixture(scope="module")
def sync(tmp_path_factory: pytest.TempPathFactory) -> SyncStore:
    return build_sync_store(tmp_path_factory.mktemp("sync"))


@pytest.fixture(scope="module")
def server(sync: SyncStore) -> Iterator[str]:
    with BackgroundServer(create_app(sync.store)) as running:
        yield running.url


def msg(server: str, path: str, query: str) -> Any:
    reply = get_json(server, path, query)
    assert reply["success"] is True
    return reply["msg"]


def pixels(seed: int, count: int = 4) -> list[tuple[float, float]]:
    """Pixels as allensdk sends them (``%f``): the values the server reads."""
    rng = np.random.default_rng(seed)
    return [(float(f"{x:f}"), float(f"{y:f}")) for x, y in rng.uniform(-50, 450, (count, 2))]


def located(sync: SyncStore, image_id: int, xy: tuple[float, float]) -> np.ndarray:
    data_set = sync.data_sets[sync.image_sets[image_id]]
    return maths.image_to_reference(sync.sections[image_id], data_set, xy)


def syncs(sync: SyncStore, data_set_id: int, pir: np.ndarray, annotated: bool = False) -> list[Any]:
    """The image_sync answers brainmap.reference.alignment gives for reference points."""
    images = sync.images_of(data_set_id)
    if annotated:
        images = [i for i in images if i % 2 == 0]
    found = maths.reference_to_image(
        sync.data_sets[data_set_id], [sync.sections[i] for i in images], pir
    )
    return [
        {
            "section_data_set_id": str(data_set_id),
            "section_image_id": images[index],
            "section_number": int(sync.sections[images[index]].section_number),
            "x": x,
            "y": y,
        }
        for index, x, y in zip(found.index, found.x, found.y, strict=True)
    ]


def close(answer: list[dict[str, Any]], expected: list[dict[str, Any]], tol: float = 1e-9) -> None:
    assert len(answer) == len(expected)
    for got, want in zip(answer, expected, strict=True):
        assert {k: v for k, v in got.items() if k not in "xy"} == {
            k: v for k, v in want.items() if k not in "xy"
        }
        assert got["x"] == pytest.approx(want["x"], abs=tol)
        assert got["y"] == pytest.approx(want["y"], abs=tol)


# -- the model -----------------------------------------------------------------------------


def test_reference_space_imports_and_is_served(tmp_path: Path) -> None:
    records = tmp_path / "spaces.json"
    records.write_text(json.dumps([SPACE_RECORD]))
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main, ["import", "--store", str(store), "--model", "ReferenceSpace", str(records)]
    )
    assert result.exit_code == 0, result.output
    with BackgroundServer(create_app(Store.open(store))) as running:
        reply = get_json(running.url, "/api/v2/data/ReferenceSpace/9.json")
    assert reply["msg"] == [
        {
            "age_id": 15,
            "id": 9,
            "name": "P56 Brain",
            "resolution_i": None,
            "resolution_p": None,
            "resolution_r": None,
            "structure_graph_id": None,
        }
    ]


# -- answers -------------------------------------------------------------------------------


def test_image_to_reference_by_hand(sync: SyncStore, server: str) -> None:
    # untilted coronal sets: volume x = r, y = i, depth = p; every section has its pixel
    # (200, 150) at volume (400, 300) µm, 2 µm pixels, and lies n * thickness µm deep
    plate = sync.images_of(ATLAS_SET)[2]  # section 3, 100 µm thick, turned 8°
    answer = msg(server, f"/api/v2/image_to_reference/{plate}.json", "x=200.000000&y=150.000000")
    assert answer == {"image_to_reference": pytest.approx({"x": 300.0, "y": 300.0, "z": 400.0})}
    plate = sync.images_of(ATLAS_SET)[0]  # section 1, not turned
    answer = msg(server, f"/api/v2/image_to_reference/{plate}.json", "x=210&y=145")
    assert answer == {"image_to_reference": pytest.approx({"x": 100.0, "y": 290.0, "z": 420.0})}
    [section] = sync.images_of(NO_SPACE_SET)  # section 5, 25 µm thick, turned -4°
    answer = msg(server, f"/api/v2/image_to_reference/{section}.json", "x=200&y=150")
    assert answer == {"image_to_reference": pytest.approx({"x": 125.0, "y": 300.0, "z": 400.0})}


def test_image_to_reference_equals_the_maths(sync: SyncStore, server: str) -> None:
    for image_id in sync.images_of(CORONAL) + sync.images_of(SAGITTAL):
        for x, y in pixels(image_id):
            answer = msg(server, f"/api/v2/image_to_reference/{image_id}.json", f"x={x:f}&y={y:f}")
            p, i, r = located(sync, image_id, (x, y))[0]
            assert answer["image_to_reference"] == pytest.approx({"x": p, "y": i, "z": r})


def test_round_trip_through_the_services(sync: SyncStore, server: str) -> None:
    """image -> reference -> image lands on the same pixel of the same image within 0.01 px."""
    for data_set_id in (CORONAL, SAGITTAL):
        for image_id in sync.images_of(data_set_id):
            for x, y in pixels(image_id + 7, 3):
                where = msg(
                    server, f"/api/v2/image_to_reference/{image_id}.json", f"x={x:f}&y={y:f}"
                )["image_to_reference"]
                query = f"x={where['x']:f}&y={where['y']:f}&z={where['z']:f}"
                [back] = msg(
                    server,
                    f"/api/v2/reference_to_image/{SPACE}.json",
                    f"{query}&section_data_set_ids={data_set_id}",
                )
                found = back["image_sync"]
                assert found["section_image_id"] == image_id
                assert abs(found["x"] - x) < 0.01 and abs(found["y"] - y) < 0.01


def test_reference_to_image_equals_the_maths(sync: SyncStore, server: str) -> None:
    rng = np.random.default_rng(3)
    for p, i, r in rng.uniform(0, 900, (6, 3)):
        point = np.array([[float(f"{v:f}") for v in (p, i, r)]])
        answer = msg(
            server,
            f"/api/v2/reference_to_image/{SPACE}.json",
            f"x={p:f}&y={i:f}&z={r:f}&section_data_set_ids={CORONAL},{SAGITTAL}",
        )
        expected = syncs(sync, CORONAL, point) + syncs(sync, SAGITTAL, point)
        close([item["image_sync"] for item in answer], expected)


def test_image_to_image_equals_the_maths(sync: SyncStore, server: str) -> None:
    for image_id in sync.images_of(CORONAL)[::3]:
        for x, y in pixels(image_id + 1):
            answer = msg(
                server,
                f"/api/v2/image_to_image/{image_id}.json",
                f"x={x:f}&y={y:f}&section_data_set_ids={SAGITTAL},{CORONAL}",
            )
            pir = located(sync, image_id, (x, y))
            expected = syncs(sync, SAGITTAL, pir) + syncs(sync, CORONAL, pir)
            close([item["image_sync"] for item in answer], expected)
            assert answer[1]["image_sync"]["section_image_id"] == image_id


def test_image_to_image_2d_equals_the_maths(sync: SyncStore, server: str) -> None:
    source = sync.images_of(CORONAL)[1]
    targets = [sync.images_of(CORONAL)[4], sync.images_of(SAGITTAL)[2]]
    for x, y in pixels(5):
        answer = msg(
            server,
            f"/api/v2/image_to_image_2d/{source}.json",
            f"x={x:f}&y={y:f}&section_image_ids={targets[0]},{targets[1]}",
        )
        expected = []
        for target in targets:
            [(tx, ty)] = maths.image_to_image_2d(
                sync.sections[source], sync.sections[target], (x, y)
            )
            expected.append(
                {
                    "section_data_set_id": str(sync.image_sets[target]),
                    "section_image_id": target,
                    "section_number": int(sync.sections[target].section_number),
                    "x": tx,
                    "y": ty,
                }
            )
        close([item["image_sync"] for item in answer], expected)


def test_image_to_atlas_lands_on_annotated_plates_only(sync: SyncStore, server: str) -> None:
    unannotated_nearest = 0
    for image_id in sync.images_of(CORONAL):
        for x, y in pixels(image_id + 2, 2):
            answer = msg(
                server,
                f"/api/v2/image_to_atlas/{image_id}.json",
                f"x={x:f}&y={y:f}&atlas_id={ATLAS}",
            )
            pir = located(sync, image_id, (x, y))
            [expected] = syncs(sync, ATLAS_SET, pir, annotated=True)
            del expected["section_data_set_id"]
            close([answer["image_sync"]], [expected])
            [nearest] = syncs(sync, ATLAS_SET, pir)
            unannotated_nearest += nearest["section_image_id"] % 2
    assert unannotated_nearest > 0  # the rule was put to the test


def _descendants(structure: int) -> set[int]:
    found = {structure}
    while grown := {s for s, p in PARENTS.items() if p in found} - found:
        found |= grown
    return found


def test_structure_to_image_from_the_volume_centres(sync: SyncStore, server: str) -> None:
    structures = [LEFT_CHILD, LEFT, RIGHT, ROOT]
    answer = msg(
        server,
        f"/api/v2/structure_to_image/{CORONAL}.json",
        "structure_ids=" + ",".join(map(str, structures)),
    )
    centres = np.array(
        [
            np.argwhere(np.isin(sync.labels, list(_descendants(s)))).mean(axis=0) * RESOLUTION
            for s in structures
        ]
    )
    close([item["image_sync"] for item in answer], syncs(sync, CORONAL, centres))


def test_reference_to_structure(sync: SyncStore, server: str) -> None:
    path = f"/api/v2/reference_to_structure/{SPACE}.json"
    at = {"x": 6 * RESOLUTION, "y": 5 * RESOLUTION + 12, "z": 20 * RESOLUTION - 12}
    reply = get_json(server, path, "&".join(f"{k}={v:f}" for k, v in at.items()))
    assert [record["id"] for record in reply["msg"]] == [LEFT_CHILD]
    assert reply["msg"][0]["acronym"] == f"S{LEFT_CHILD}" and reply["num_rows"] == 1
    for empty in ("x=0&y=0&z=0", "x=925&y=25&z=25", "x=-1000&y=0&z=0", "x=1e300&y=1&z=1"):
        assert msg(server, path, empty) == [], empty  # background, no record, outside


# -- XML -----------------------------------------------------------------------------------


def xml(server: str, path: str, query: str) -> ET.Element:
    status, headers, body = call(server, path, query)
    assert status == 200 and headers["content-type"] == "application/xml", body
    root = ET.fromstring(body)
    assert root.tag == "Response" and root.get("success") == "true"
    return root


def test_xml_answers(sync: SyncStore, server: str) -> None:
    image = sync.images_of(CORONAL)[2]
    [element] = xml(server, f"/api/v2/image_to_reference/{image}.xml", "x=10&y=20")
    assert element.tag == "image-to-reference" and [e.tag for e in element] == ["x", "y", "z"]
    json_answer = msg(server, f"/api/v2/image_to_reference/{image}.json", "x=10&y=20")
    assert float(element.findtext("z") or "") == json_answer["image_to_reference"]["z"]
    lists = {
        f"image_to_image/{image}": f"x=10&y=20&section_data_set_ids={SAGITTAL},{CORONAL}",
        f"reference_to_image/{SPACE}": f"x=1&y=2&z=3&section_data_set_ids={SAGITTAL}",
        f"image_to_image_2d/{image}": f"x=10&y=20&section_image_ids={image}",
        f"structure_to_image/{CORONAL}": f"structure_ids={LEFT},{RIGHT}",
    }
    for path, query in lists.items():
        [collection] = xml(server, f"/api/v2/{path}.xml", query)
        items = msg(server, f"/api/v2/{path}.json", query)
        assert collection.tag == "image-sync-helper-image-syncs"
        assert len(collection) == len(items)
        for element, item in zip(collection, items, strict=True):
            fields = item["image_sync"]
            assert element.tag == "image-sync-helper-image-sync"
            assert [e.tag for e in element] == [k.replace("_", "-") for k in fields]
            assert int(element.findtext("section-image-id") or "") == fields["section_image_id"]
            assert float(element.findtext("x") or "") == fields["x"]
    [atlas] = xml(server, f"/api/v2/image_to_atlas/{image}.xml", f"x=1&y=2&atlas_id={ATLAS}")
    assert atlas.tag == "image-sync"
    assert [e.tag for e in atlas] == ["section-image-id", "section-number", "x", "y"]
    [structures] = xml(server, f"/api/v2/reference_to_structure/{SPACE}.xml", "x=150&y=150&z=150")
    assert structures.tag == "structures"
    assert [s.findtext("id") for s in structures] == [str(LEFT)]


# -- errors --------------------------------------------------------------------------------

XY = "x=1&y=2"
ERRORS = [
    (f"image_to_reference/999999.json?{XY}", 404, "no image with id 999999"),
    (f"image_to_reference/{UNALIGNED_IMAGE}.json?{XY}", 404, "image 1099 has no Alignment2d"),
    (f"image_to_reference/{IN_UNALIGNED_SET}.json?{XY}", 404, "data set 300 has no Alignment3d"),
    (f"image_to_reference/{2**64}.json?{XY}", 404, f"no image with id {2**64}"),
    (f"image_to_reference/{'0' * 30}{2**64}.json?{XY}", 404, f"no image with id {2**64}"),
    ("image_to_reference/1001.csv?x=1&y=2", 404, "unknown format"),
    ("image_to_reference/1001.json?y=2", 400, "x: missing"),
    ("image_to_reference/1001.json?x=1&y=", 400, "y: missing"),
    ("image_to_reference/1001.json?x=one&y=2", 400, "x: not a number"),
    ("image_to_reference/1001.json?x=nan&y=2", 400, "x: not a number"),
    ("image_to_reference/1001.json?x=1e999&y=2", 400, "x: 1e999 does not fit"),
    ("image_to_reference/1001.json?x=1e308&y=1e308", 400, "x, y: so far out"),
    (f"reference_to_image/{SPACE}.json?x=1.7e308&y=1.7e308&z=-1.7e308&section_data_set_ids={CORONAL}",
     400, "x, y, z: so far out"),
    (f"image_to_image/1001.json?x=1e308&y=1e308&section_data_set_ids={SAGITTAL}", 400,
     "x, y: so far out"),
    ("image_to_image_2d/1001.json?x=1.7e308&y=1.7e308&section_image_ids=1003", 400,
     "x, y: so far out"),
    (f"image_to_atlas/1001.json?x=1e308&y=1e308&atlas_id={ATLAS}", 400, "x, y: so far out"),
    (f"reference_to_image/77.json?x=1&y=2&z=3&section_data_set_ids={CORONAL}", 404,
     "no reference space with id 77"),
    (f"reference_to_image/{SPACE}.json?x=1&y=2&section_data_set_ids={CORONAL}", 400, "z: missing"),
    (f"reference_to_image/{SPACE}.json?x=1&y=2&z=3", 400, "section_data_set_ids: missing"),
    (f"reference_to_image/{SPACE}.json?x=1&y=2&z=3&section_data_set_ids=100,a", 400,
     "section_data_set_ids: not a whole id: 'a'"),
    (f"reference_to_image/{SPACE}.json?x=1&y=2&z=3&section_data_set_ids=100,300", 404,
     "data set 300 has no Alignment3d"),
    (f"reference_to_image/{SPACE}.json?x=1&y=2&z=3&section_data_set_ids=4242", 404,
     "no data set with id 4242"),
    (f"image_to_image/1001.json?{XY}&section_data_set_ids={2**63}", 404,
     f"no data set with id {2**63}"),
    (f"image_to_image_2d/1001.json?{XY}&section_image_ids={UNALIGNED_IMAGE}", 404,
     "image 1099 has no Alignment2d"),
    (f"image_to_atlas/1001.json?{XY}", 400, "atlas_id: missing"),
    (f"image_to_atlas/1001.json?{XY}&atlas_id=1,2", 400, "atlas_id: one id"),
    (f"image_to_atlas/1001.json?{XY}&atlas_id=77", 404, "no atlas with id 77"),
    (f"structure_to_image/{CORONAL}.json", 400, "structure_ids: missing"),
    (f"structure_to_image/{CORONAL}.json?structure_ids={EMPTY}", 404,
     "structure 13 has no voxels in reference space 9"),
    (f"structure_to_image/{CORONAL}.json?structure_ids=10,77", 404, "no structure with id 77"),
    (f"structure_to_image/{NO_SPACE_SET}.json?structure_ids=10", 404,
     "data set 500 names no reference space"),
    ("structure_to_image/4242.json?structure_ids=10", 404, "no data set with id 4242"),
    (f"reference_to_structure/{SPACE_WITHOUT_VOLUME}.json?x=1&y=2&z=3", 404,
     "reference space 10 has no annotation volume"),
    ("reference_to_structure/77.xml?x=1&y=2&z=3", 404, "no reference space with id 77"),
    (f"reference_to_structure/{SPACE}.xml?x=1&y=2", 400, "z: missing"),
]  # fmt: skip


@pytest.mark.parametrize(("target", "status", "message"), ERRORS)
def test_errors(server: str, target: str, status: int, message: str) -> None:
    path, _, query = target.partition("?")
    code, headers, body = call(server, f"/api/v2/{path}", query)
    assert (code, headers["content-type"].split(";")[0]) == (status, "text/plain")
    assert message in body.decode() and "\n" not in body.decode().strip()


def test_unreadable_volume_is_500_naming_it(tmp_path: Path) -> None:
    damaged = build_sync_store(tmp_path)
    shutil.rmtree(damaged.store.root / "reference" / str(SPACE) / "annotation.zarr" / "annotation")
    (damaged.store.root / "reference" / str(SPACE) / "annotation.zarr" / "zarr.json").unlink()
    with BackgroundServer(create_app(damaged.store)) as running:
        code, _, body = call(
            running.url, f"/api/v2/reference_to_structure/{SPACE}.json", "x=150&y=150&z=150"
        )
    assert code == 500
    assert body.decode().startswith("reference space 9: volume reference/9/annotation.zarr ")
    assert str(tmp_path) not in body.decode()


# -- the demo store ------------------------------------------------------------------------

DEMO_SCALE = 0.06


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    store = build_demo_store(tmp_path_factory.mktemp("demo") / "demo", scale=DEMO_SCALE)
    with BackgroundServer(create_app(store)) as running:
        yield store, running.url


def demo_images(store: Store) -> list[tuple[int, int, int, int, bool, str]]:
    """(id, data set, width, height, annotated, kind) of every demo image, by id."""
    with store.session() as session:
        rows = session.execute(
            select(
                SubImage.id,
                SubImage.data_set_id,
                SubImage.width,
                SubImage.height,
                SubImage.annotated,
                SubImage.type,
            ).order_by(SubImage.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def both(server: str, path: str, query: str) -> tuple[Any, ET.Element]:
    """The json `msg` and the xml answer's element of one request."""
    [element] = xml(server, f"{path.removesuffix('.json')}.xml", query)
    return msg(server, path, query), element


def test_demo_round_trips_and_xml(demo: tuple[Store, str]) -> None:
    """Every demo image: its centre to the reference and back within 0.01 px, json and xml."""
    store, server = demo
    for image_id, data_set_id, width, height, _, _ in demo_images(store):
        x, y = width / 2 + 0.25, height / 3
        answer, element = both(
            server, f"/api/v2/image_to_reference/{image_id}.json", f"x={x:f}&y={y:f}"
        )
        where = answer["image_to_reference"]
        assert [float(element.findtext(axis) or "") for axis in "xyz"] == list(where.values())
        query = f"x={where['x']:f}&y={where['y']:f}&z={where['z']:f}"
        [back], element = both(
            server,
            "/api/v2/reference_to_image/9.json",
            f"{query}&section_data_set_ids={data_set_id}",
        )
        assert back["image_sync"]["section_image_id"] == image_id
        assert abs(back["image_sync"]["x"] - x) < 0.01 and abs(back["image_sync"]["y"] - y) < 0.01
        assert element.tag == "image-sync-helper-image-syncs"


def test_demo_services_compose(demo: tuple[Store, str]) -> None:
    """image_to_image and image_to_atlas answer what image_to_reference then reference_to_image
    answer; image_to_atlas only ever lands on annotated plates."""
    store, server = demo
    images = demo_images(store)
    sets = sorted({row[1] for row in images if row[5] == "SectionImage"})
    annotated = {row[0] for row in images if row[4]}
    [atlas_set] = {row[1] for row in images if row[5] == "AtlasImage"}
    for image_id, _, width, height, _, kind in images:
        if kind != "SectionImage":
            continue
        xy = f"x={width / 3:f}&y={height / 2:f}"
        where = msg(server, f"/api/v2/image_to_reference/{image_id}.json", xy)
        point = "x={x:f}&y={y:f}&z={z:f}".format(**where["image_to_reference"])
        ids = ",".join(map(str, sets))
        via_reference = msg(
            server, "/api/v2/reference_to_image/9.json", f"{point}&section_data_set_ids={ids}"
        )
        direct = msg(
            server, f"/api/v2/image_to_image/{image_id}.json", f"{xy}&section_data_set_ids={ids}"
        )
        # the reference point went through %f (µm to 6 decimals): 1e-4 px
        close([d["image_sync"] for d in direct], [v["image_sync"] for v in via_reference], 1e-4)
        plate, element = both(server, f"/api/v2/image_to_atlas/{image_id}.json", f"{xy}&atlas_id=1")
        assert element.tag == "image-sync"
        assert plate["image_sync"]["section_image_id"] in annotated
        [nearest] = msg(
            server, "/api/v2/reference_to_image/9.json", f"{point}&section_data_set_ids={atlas_set}"
        )
        if nearest["image_sync"]["section_image_id"] in annotated:
            expected = {
                k: v for k, v in nearest["image_sync"].items() if k != "section_data_set_id"
            }
            close([plate["image_sync"]], [expected], 1e-4)


def test_demo_structures(demo: tuple[Store, str]) -> None:
    """reference_to_structure names the voxel's label; structure_to_image goes to the centre of
    each structure's voxels (its descendants' included)."""
    store, server = demo
    volume = ReferenceVolume.open(store.root / "reference" / "9" / "annotation.zarr")
    labels = np.stack([volume.plane("p", index) for index in range(volume.shape[0])])
    resolution = np.asarray(volume.resolution_um)
    rng = np.random.default_rng(9)
    for voxel in rng.integers(0, volume.shape, (40, 3)):
        x, y, z = voxel * resolution + rng.uniform(-0.49, 0.49, 3) * resolution
        found = msg(server, "/api/v2/reference_to_structure/9.json", f"x={x:f}&y={y:f}&z={z:f}")
        label = int(labels[tuple(voxel)])
        assert [record["id"] for record in found] == ([] if label == 0 else [label])
    with store.session() as session:
        parents = dict(session.execute(select(Structure.id, Structure.parent_structure_id)).all())
    present = sorted(set(np.unique(labels).tolist()) - {0})[:6]
    data_set = demo_images(store)[0][1]
    answer, element = both(
        server,
        f"/api/v2/structure_to_image/{data_set}.json",
        "structure_ids=" + ",".join(map(str, present)),
    )
    assert len(element) == len(answer) == len(present)
    for structure, item in zip(present, answer, strict=True):
        family = {structure}
        while grown := {s for s, p in parents.items() if p in family} - family:
            family |= grown
        centre = np.argwhere(np.isin(labels, list(family))).mean(axis=0) * resolution
        [expected] = msg(
            server,
            "/api/v2/reference_to_image/9.json",
            "x={:f}&y={:f}&z={:f}&section_data_set_ids={}".format(*centre, data_set),
        )
        assert item["image_sync"]["section_image_id"] == expected["image_sync"]["section_image_id"]
        assert item["image_sync"]["x"] == pytest.approx(expected["image_sync"]["x"], abs=1e-3)


NUMBERISH = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**400), 10**400).map(str),
    st.from_regex(r"[-+]?[0-9]{0,400}\.?[0-9]{0,5}([eE][-+]?[0-9]{1,6})?", fullmatch=True),
    st.text(alphabet="0123456789.eE+-_ ١٢x%", max_size=30),
)


@settings(max_examples=150, deadline=None)
@given(x=NUMBERISH, y=NUMBERISH, ids=st.text(alphabet="0123456789, a", max_size=40))
def test_any_parameter_text_is_answered_or_refused(server: str, x: str, y: str, ids: str) -> None:
    """Whatever text x, y and the ids hold: an answer, a 400 naming a parameter or a 404 naming
    a record, never a server error."""
    query = urlencode({"x": x, "y": y, "z": x, "section_data_set_ids": ids or "100"})
    for path in (
        "/api/v2/image_to_reference/1001.json",
        f"/api/v2/reference_to_image/{SPACE}.xml",
        "/api/v2/image_to_image/1001.json",
        f"/api/v2/reference_to_structure/{SPACE}.json",
    ):
        code, _, body = call(server, path, query)
        assert code in (200, 400, 404), (path, query, body)
        if code == 400:
            assert body.decode().split(":")[0] in (
                "x",
                "y",
                "z",
                "section_data_set_ids",
                "x, y",
                "x, y, z",
            )
