"""The image-sync services and SVG drawings through `Client`, `SynchronizationApi` and `SvgApi`
against the real server over loopback, on the demo store (its phantom reference space, aligned
sections and annotated plates): each answer is the server's, typed; round trips come back;
the server's refusals arrive as NotFound and BadParameter."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brainmap import BadParameter, NotFound, SvgApi, SynchronizationApi
from brainmap.client import Client
from brainmap.client.sync_answers import ImageSync
from brainmap.demo.phantom import build_demo_store
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from loopback import get_json, request

SCALE = 0.06  # sections a few hundred pixels wide
SPACE = 9
DATA_SETS = (900000001, 900000002)  # coronal data sets of the phantom
ATLAS = 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = build_demo_store(tmp_path_factory.mktemp("demo") / "demo", scale=SCALE)
    with BackgroundServer(create_app(store)) as server:
        yield server.url


def raw(server: str, url: str) -> Any:
    """The ``msg`` the server answers for a URL the client built."""
    path, _, query = url.removeprefix(server).partition("?")
    return get_json(server, path, query)["msg"]


def as_sync(entry: dict[str, Any]) -> ImageSync:
    inner = entry["image_sync"]
    data_set = inner.get("section_data_set_id")
    return ImageSync(
        inner["section_image_id"],
        inner["x"],
        inner["y"],
        inner["section_number"],
        None if data_set is None else int(data_set),
    )


def test_every_service_answers_as_the_server_does(demo: str) -> None:
    api = SynchronizationApi(demo)
    with Client(demo) as client:
        images = client.section_images(DATA_SETS[0])
        image = images[len(images) // 2]
        x, y = image["width"] / 3, image["height"] / 2
        point = client.image_to_reference(image["id"], x, y)
        url = f"{demo}/api/v2/image_to_reference/{image['id']}.json?x={x:f}&y={y:f}"
        assert raw(demo, url) == {"image_to_reference": vars(point)}
        assert api.get_image_to_reference(image["id"], x, y) == raw(demo, url)

        back = client.reference_to_image(SPACE, point.x, point.y, point.z, DATA_SETS)
        url = (
            f"{demo}/api/v2/reference_to_image/{SPACE}.json?x={point.x:f}&y={point.y:f}"
            f"&z={point.z:f}&section_data_set_ids={DATA_SETS[0]},{DATA_SETS[1]}"
        )
        answer = api.get_reference_to_image(SPACE, point.x, point.y, point.z, DATA_SETS)
        assert answer == raw(demo, url) and back == [as_sync(entry) for entry in answer]
        here = back[0]
        assert (here.section_image_id, here.section_data_set_id) == (image["id"], DATA_SETS[0])
        assert here.x == pytest.approx(x, abs=0.01) and here.y == pytest.approx(y, abs=0.01)

        across = client.image_to_image(image["id"], x, y, [DATA_SETS[1]])
        assert across == [
            as_sync(e) for e in api.get_image_to_image(image["id"], x, y, [DATA_SETS[1]])
        ]
        assert across[0].section_data_set_id == DATA_SETS[1]

        others = [other["id"] for other in images[:2]]
        flat = client.image_to_image_2d(image["id"], x, y, others)
        assert flat == [as_sync(e) for e in api.get_image_to_image_2d(image["id"], x, y, others)]
        assert [found.section_image_id for found in flat] == others

        plate = client.image_to_atlas(image["id"], x, y, ATLAS)
        answer = api.get_image_to_atlas(image["id"], x, y, ATLAS)
        assert plate == as_sync(answer)
        assert plate.section_image_id in {p["id"] for p in client.atlas_images(ATLAS)}

        (centre,) = client.structure_to_image(DATA_SETS[0], [997])
        assert [centre] == [as_sync(e) for e in api.get_structure_to_image(DATA_SETS[0], [997])]
        assert centre.section_image_id in {i["id"] for i in images}


def test_svg_of_a_plate(demo: str, tmp_path: Path) -> None:
    with Client(demo) as client:
        plate = client.atlas_images(ATLAS)[0]["id"]
        text = client.svg(plate)
        assert text.lstrip().startswith(("<?xml", "<svg")) and "structure_id" in text
        assert SvgApi(demo).get_svg(plate) == request(f"{demo}/api/v2/svg/{plate}").body
        written = client.download_svg(plate, tmp_path / "plate.svg")
        SvgApi(demo).download_svg(plate, file_path=str(tmp_path / "theirs.svg"))
        body = request(f"{demo}/api/v2/svg_download/{plate}").body
        assert (
            (tmp_path / "plate.svg").read_bytes() == body == (tmp_path / "theirs.svg").read_bytes()
        )
        assert written == len(body)


@pytest.mark.parametrize(
    ("call", "error", "said"),
    [
        (lambda c: c.image_to_reference(123, 1, 2), NotFound, "123"),
        (lambda c: c.reference_to_image(77, 1, 2, 3, DATA_SETS), NotFound, "77"),
        (lambda c: c.image_to_reference(900100001, math.nan, 0), BadParameter, "x"),
        (lambda c: c.reference_to_image(SPACE, 1, 2, 3, []), BadParameter, "section_data_set_ids"),
        (lambda c: c.structure_to_image(DATA_SETS[0], [424242]), NotFound, "424242"),
        (lambda c: c.svg(555), NotFound, "555"),
    ],
)
def test_refusals_are_typed(demo: str, call: Any, error: type[Exception], said: str) -> None:
    with Client(demo) as client, pytest.raises(error, match=said):
        call(client)
