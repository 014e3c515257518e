"""Golden URLs of the image-sync services and SVG drawings: `SynchronizationApi`, `SvgApi` and
the same calls on `Client` send the bytes allensdk 2.16.2 sends (URLs from the API's help pages,
as allensdk's own tests give them), and Client reads the answers as typed values and errors."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brainmap import ApiError, BadParameter, NotFound, QueryFailed
from brainmap.client import (
    Client,
    MockTransport,
    Request,
    Response,
    SvgApi,
    SynchronizationApi,
    json_response,
)
from brainmap.client.sync_answers import ImageSync, ReferencePoint

V2 = "http://api.brain-map.org/api/v2/"
SYNC = {"section_data_set_id": "479", "section_image_id": 101350196, "section_number": 444}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><path structure_id="315" d="M0 0L1 1Z"/></svg>'

# method, arguments, URL (allensdk's own tests and the help pages' examples)
CALLS: list[tuple[str, tuple[Any, ...], str]] = [
    (
        "image_to_image",
        (114754496, 18232, 10704, [113887162, 116903968]),
        "image_to_image/114754496.json?x=18232.000000&y=10704.000000"
        "&section_data_set_ids=113887162,116903968",
    ),
    (
        "image_to_image_2d",
        (68173101, 6208, 2368, [68173103, 68173105, 68173107]),
        "image_to_image_2d/68173101.json?x=6208.000000&y=2368.000000"
        "&section_image_ids=68173103,68173105,68173107",
    ),
    (
        "reference_to_image",
        (10, 6085, 3670.25, 4883, [68545324, 67810540]),
        "reference_to_image/10.json?x=6085.000000&y=3670.250000&z=4883.000000"
        "&section_data_set_ids=68545324,67810540",
    ),
    (
        "image_to_reference",
        (68173101, 6208.5, 2368),
        "image_to_reference/68173101.json?x=6208.500000&y=2368.000000",
    ),
    (
        "structure_to_image",
        (68545324, [315, 698, 1089]),
        "structure_to_image/68545324.json?structure_ids=315,698,1089",
    ),
    (
        "image_to_atlas",
        (114754496, 18232, 10704, 1),
        "image_to_atlas/114754496.json?x=18232.000000&y=10704.000000&atlas_id=1",
    ),
]


class Wire:
    """Keeps every request; answers a sync service as the real API does, an SVG with `SVG`."""

    def __init__(self, status: int = 200, msg: object = None) -> None:
        self.sent: list[str] = []
        self.status = status
        self.msg = msg
        self.answered: object = None

    def __call__(self, request: Request) -> Response:
        self.sent.append(request.url)
        if "/svg" in request.url:
            return Response(request.url, self.status, {"Content-Type": "image/svg+xml"}, SVG)
        service = request.url.removeprefix(V2).split("/")[0]
        msg = self.msg
        if msg is None:
            point = {"x": 1.5, "y": -2.0, "z": 3.25}
            msg = (
                {service: point}
                if service == "image_to_reference"
                else [{"image_sync": {**SYNC, "x": 7.0, "y": 8.5}}]
            )
        self.answered = msg
        envelope = {"success": self.status == 200, "id": 0, "start_row": 0, "msg": msg}
        return json_response(request, envelope, self.status)


def on_wire(url: str) -> str:
    """What allensdk sends for a JSON query URL (requests' quoting)."""
    return urllib.parse.quote(url, safe=";/?:@&=+$,")


@pytest.mark.parametrize(("method", "args", "url"), CALLS)
def test_synchronization_api_sends_allensdks_urls(
    method: str, args: tuple[Any, ...], url: str
) -> None:
    wire = Wire()
    api = SynchronizationApi(transport=MockTransport(wire))
    msg = getattr(api, "get_" + method)(*args)
    assert wire.sent == [on_wire(V2 + url)]
    assert msg == wire.answered


@pytest.mark.parametrize(("method", "args", "url"), CALLS)
def test_client_sends_the_same_urls(method: str, args: tuple[Any, ...], url: str) -> None:
    wire = Wire()
    with Client(transport=MockTransport(wire)) as client:
        getattr(client, method)(*args)
    assert wire.sent == [on_wire(V2 + url)]


def test_sync_api_on_another_server() -> None:
    wire = Wire()
    api = SynchronizationApi("http://127.0.0.1:9/api/v2/", transport=MockTransport(wire))
    api.get_image_to_reference(5, 1, 2)
    assert wire.sent == [
        "http://127.0.0.1:9/api/v2/image_to_reference/5.json?x=1.000000&y=2.000000"
    ]


@pytest.mark.parametrize(
    ("groups", "download", "url"),
    [
        (None, False, "svg/21889"),
        ([28], False, "svg/21889?groups=28"),
        ([], True, "svg_download/21889"),
        ([1, 2], True, "svg_download/21889?groups=1,2"),
    ],
)
def test_svg_api_urls(groups: list[int] | None, download: bool, url: str, workdir: Path) -> None:
    wire = Wire()
    api = SvgApi(transport=MockTransport(wire))
    assert api.build_query(21889, groups, download) == V2 + url
    if download:
        api.download_svg(21889, groups)
        assert (workdir / "21889.svg").read_bytes() == SVG
    else:
        assert api.get_svg(21889, groups) == SVG
    with Client(transport=MockTransport(wire)) as client:
        if download:
            assert client.download_svg(21889, workdir / "mine.svg", groups=groups) == len(SVG)
            assert (workdir / "mine.svg").read_bytes() == SVG
        else:
            assert client.svg(21889, groups=groups) == SVG.decode()
    assert wire.sent == [V2 + url, V2 + url]


def test_client_reads_the_answers() -> None:
    with Client(transport=MockTransport(Wire())) as client:
        assert client.image_to_reference(1, 2, 3) == ReferencePoint(1.5, -2.0, 3.25)
        (found,) = client.image_to_image(1, 2, 3, [479])
        assert found == ImageSync(101350196, 7.0, 8.5, 444, 479)
        assert found.record["section_data_set_id"] == "479"
        assert client.image_to_atlas(1, 2, 3, 1) == found


def test_client_reads_a_flat_answer_and_refuses_a_bad_one() -> None:
    flat = [{"section_image_id": 9, "x": "1.25", "y": 2}]
    with Client(transport=MockTransport(Wire(msg=flat))) as client:
        assert client.image_to_image_2d(1, 2, 3, [9]) == [ImageSync(9, 1.25, 2.0)]
    bad = MockTransport(Wire(msg=[{"image_sync": {"x": 1}}]))
    with Client(transport=bad) as client, pytest.raises(ApiError, match="section_image_id"):
        client.structure_to_image(1, [315])


ERRORS: list[tuple[int, object, type[Exception], str]] = [
    (404, "SectionImage 5 has no Alignment2d", NotFound, "no Alignment2d"),
    (400, "x is not a number", BadParameter, "image_to_reference: x is not a number"),
    (200, "Error in query: nonsense", QueryFailed, "nonsense"),
]


@pytest.mark.parametrize(("status", "said", "kind", "message"), ERRORS)
def test_client_raises_typed_errors(
    status: int, said: object, kind: type[Exception], message: str
) -> None:
    def answer(request: Request) -> Response:
        envelope = {"success": False, "id": 0, "start_row": 0, "msg": said}
        return json_response(request, envelope, status)

    with Client(transport=MockTransport(answer)) as client, pytest.raises(kind, match=message):
        client.image_to_reference(5, 1, 2)


def test_svg_of_an_unknown_image_is_not_found(workdir: Path) -> None:
    def missing(request: Request) -> Response:
        return Response(request.url, 404, {}, b"no AtlasImage 7")

    calls: list[Callable[[Client], object]] = [
        lambda client: client.svg(7),
        lambda client: client.download_svg(7, workdir / "7.svg"),
    ]
    with Client(transport=MockTransport(missing)) as client:
        for call in calls:
            with pytest.raises(NotFound, match="no AtlasImage 7"):
                call(client)
    assert not (workdir / "7.svg").exists()
