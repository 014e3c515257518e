"""`/api/v2/svg/{id}` and `/api/v2/svg_download/{id}` over loopback: the drawing of a plate whose
label map the test writes (nested regions with holes, a structure in several pieces, touching
structures, a label no structure has), drawn by two atlases with their GraphicGroupLabels;
`groups=`, `structure=`, validators and every refusal."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from brainmap.imaging.annotate import FADE, parse_hex
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.server.background import BackgroundServer
from brainmap.server.responses import PixelFile
from brainmap.server.routes.svg import OutlineCache, svg_routes
from brainmap.server.state import ServerState, install_state
from brainmap.store.folder import Store
from brainmap.store.mirrored import record_mirrored_level
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    GraphicGroupLabel,
    Ontology,
    Structure,
    StructureGraph,
)
from imaging.test_outlines import iou, rendered_structures
from loopback import Reply, match, request
from small_store import ATLAS_IMAGE, ATLAS_IMAGE_UNANNOTATED, SmallStore
from small_store import STRUCTURE_COLOURS as SMALL_COLOURS

PLATE = 501
UNANNOTATED = 502
DAMAGED = 503
MISSING = 504
MIRRORED = 505
PICTURE = 506
STRUCTURES = {  # id: (colour, id path)
    997: ("FFFFFF", "/997/"),
    8: ("BFDAE3", "/997/8/"),
    315: ("70FF71", "/997/8/315/"),
    1089: ("2A8C4B", "/997/8/315/1089/"),
    549: ("FF7080", "/997/8/549/"),
}
UNKNOWN_LABEL = 4242
SVG = "{http://www.w3.org/2000/svg}"


def plate_labels() -> np.ndarray:
    labels = np.zeros((600, 800), dtype=np.uint32)
    labels[50:550, 50:500] = 315  # a frame ...
    labels[150:450, 150:400] = 0  # ... with a hole
    labels[200:400, 200:350] = 1089  # an island of a child structure in the hole
    labels[250:300, 250:300] = 315  # ... holding a piece of its parent
    labels[50:550, 500:700] = 549  # touching the frame
    labels[100:200, 720:780] = 549  # a second piece of 549
    labels[400:500, 540:640] = 8  # inside 549: a hole of it
    labels[560:590, 100:300] = UNKNOWN_LABEL  # no record: grey
    return labels


@dataclass
class SvgStore:
    store: Store
    labels: np.ndarray
    url: str = ""


def build_store(root: Path) -> SvgStore:
    store = Store.create(root)
    labels = plate_labels()
    second = np.zeros_like(labels)
    second[100:300, 100:300] = 549
    names = {}
    for stem, pixels in (("labels", labels), ("second", second), ("damaged", labels)):
        names[stem] = store.new_pyramid_name(stem)
        write_pyramid(pixels, store.pyramid_path(names[stem]), PyramidKind.LABELS)
    store.pyramid_path(names["damaged"]).write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    nissl = store.new_pyramid_name("nissl")
    write_pyramid(
        np.full((600, 800, 3), 200, np.uint8), store.pyramid_path(nissl), PyramidKind.RGB8
    )
    with store.session() as session:
        session.add_all(
            [
                Ontology(id=1, name="Mouse"),
                StructureGraph(id=1, name="Mouse Brain Atlas", ontology_id=1),
                AtlasDataSet(id=300),
            ]
        )
        session.flush()
        for sid, (colour, path) in STRUCTURES.items():
            session.add(
                Structure(
                    id=sid,
                    graph_id=1,
                    ontology_id=1,
                    color_hex_triplet=colour,
                    structure_id_path=path,
                )
            )
        groups = {
            gid: GraphicGroupLabel(id=gid, name=name)
            for gid, name in ((28, "structures"), (159226751, "both"), (99, "none"))
        }
        atlases = [
            Atlas(id=1, name="one", atlas_data_set_id=300, structure_graph_id=1),
            Atlas(id=2, name="two", atlas_data_set_id=300, structure_graph_id=1),
        ]
        atlases[0].graphic_group_labels = [groups[28], groups[159226751]]
        atlases[1].graphic_group_labels = [groups[159226751]]
        session.add_all([*groups.values(), *atlases])
        for image_id in (PLATE, UNANNOTATED, DAMAGED, MISSING, MIRRORED, PICTURE):
            session.add(
                AtlasImage(
                    id=image_id,
                    data_set_id=300,
                    path=nissl,
                    annotated=image_id != UNANNOTATED,
                    section_number=image_id % 100,
                    **whole_image(800, 600),
                )
            )
        session.flush()
        alternates = [
            (PLATE, 1, names["labels"]),
            (PLATE, 2, names["second"]),
            (DAMAGED, 1, names["damaged"]),
            (MISSING, 1, "pyramids/gone.tif"),
            (MIRRORED, 1, "/external/plate_annotation.aff"),  # a mirror's record path
            (PICTURE, 1, nissl),  # colours, not labels
        ]
        for index, (image_id, atlas_id, path) in enumerate(alternates, start=1):
            session.add(
                AlternateImage(
                    id=index,
                    sub_image_id=image_id,
                    atlas_id=atlas_id,
                    image_type="Atlas - Adult Mouse",
                    path=path,
                )
            )
        record_mirrored_level(session, "/external/plate_annotation.aff", 0, nissl)
        session.commit()
    return SvgStore(store, labels)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SvgStore]:
    """The store, and a real server with the SVG routes under /api/v2 and the house's state."""
    built = build_store(tmp_path_factory.mktemp("svg-store"))
    app = Starlette(routes=[Mount("/api/v2", routes=svg_routes())])
    install_state(app, ServerState.create(built.store))
    with BackgroundServer(app) as server:
        built.url = server.url
        yield built


def svg(served: SvgStore, target: str) -> Reply:
    reply = request(f"{served.url}/api/v2/{target}")
    assert reply.status == 200, reply.body
    assert reply.content_type == "image/svg+xml"
    return reply


def colour(sid: int) -> tuple[int, int, int]:
    return parse_hex(STRUCTURES[sid][0]) if sid in STRUCTURES else (200, 200, 200)


def test_a_renderer_gives_back_every_structure_of_the_plate(served: SvgStore) -> None:
    reply = svg(served, f"svg/{PLATE}?groups=28")
    ids = [int(s) for s in np.unique(served.labels) if s]
    drawn = rendered_structures(reply.body, {sid: colour(sid) for sid in ids})
    for sid in ids:
        assert iou(drawn == sid, served.labels == sid) >= 0.95, sid
    root = ElementTree.fromstring(reply.body)
    assert (root.get("width"), root.get("height")) == ("800", "600")
    [group] = root.findall(f"{SVG}g")
    assert group.get("atlas_id") == "1"
    assert group.get("graphic_group_label_ids") == "28,159226751"
    pieces = [int(p.get("structure_id", "")) for p in group.findall(f"{SVG}path")]
    # one path per connected region: 315 in two pieces, 549 in two, the rest in one
    assert sorted(pieces) == sorted([8, 315, 315, 549, 549, 1089, UNKNOWN_LABEL])


def layers(reply: Reply) -> list[str | None]:
    return [g.get("atlas_id") for g in ElementTree.fromstring(reply.body).findall(f"{SVG}g")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["1", "2"]),  # every atlas drawing the plate
        ("?groups=28", ["1"]),
        ("?groups=159226751", ["1", "2"]),
        ("?groups=99", []),  # a group none of the plate's atlases has: an empty drawing
        ("?groups=99,28", ["1"]),
    ],
)
def test_groups_choose_the_atlases_drawn(served: SvgStore, query: str, expected: list[str]) -> None:
    assert layers(svg(served, f"svg/{PLATE}{query}")) == expected


def test_the_empty_drawing_keeps_the_plate_size(served: SvgStore) -> None:
    root = ElementTree.fromstring(svg(served, f"svg/{PLATE}?groups=99").body)
    assert (root.get("width"), root.get("viewBox")) == ("800", "0 0 800 600")


def test_structure_highlights_it_and_its_descendants(served: SvgStore) -> None:
    root = ElementTree.fromstring(svg(served, f"svg/{PLATE}?groups=28&structure=315").body)
    fills = {p.get("structure_id"): p.get("fill") for p in root.iter(f"{SVG}path")}

    def hex_of(rgb: tuple[int, ...]) -> str:
        return "#" + "".join(f"{c:02X}" for c in rgb)

    def faded(rgb: tuple[int, int, int]) -> str:
        return hex_of(tuple(round(c * (1 - FADE) + 255 * FADE) for c in rgb))

    assert fills["315"] == "#70FF71" and fills["1089"] == "#2A8C4B"
    assert fills["549"] == faded(colour(549)) and fills["8"] == faded(colour(8))
    assert fills[str(UNKNOWN_LABEL)] == faded(colour(UNKNOWN_LABEL))


def test_svg_download_is_the_same_drawing_as_an_attachment(served: SvgStore) -> None:
    inline = svg(served, f"svg/{PLATE}?groups=28")
    download = svg(served, f"svg_download/{PLATE}?groups=28")
    assert download.body == inline.body
    assert download.headers["content-disposition"] == f'attachment; filename="{PLATE}.svg"'
    assert "content-disposition" not in inline.headers


def test_validators_answer_repeated_requests(served: SvgStore) -> None:
    first = svg(served, f"svg/{PLATE}")
    etag = first.headers["etag"]
    assert svg(served, f"svg/{PLATE}").headers["etag"] == etag
    again = request(f"{served.url}/api/v2/svg/{PLATE}", headers=match(etag))
    assert again.status == 304 and again.body == b""
    head = request(f"{served.url}/api/v2/svg/{PLATE}", method="HEAD")
    assert head.status == 200 and head.headers["etag"] == etag and head.body == b""
    other = svg(served, f"svg/{PLATE}?structure=549").headers["etag"]
    assert other != etag


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("svg/999999", 404, "no image with id 999999"),
        ("svg/99999999999999999999", 404, "no image with id 99999999999999999999"),
        ("svg/abc", 404, "no image with id abc"),
        (f"svg/{UNANNOTATED}", 404, f"image {UNANNOTATED} has no annotation"),
        (f"svg_download/{UNANNOTATED}", 404, f"image {UNANNOTATED} has no annotation"),
        (f"svg/{MIRRORED}", 404, f"image {MIRRORED}: this mirror holds its plates as pictures"),
        (f"svg/{PLATE}?groups=12345", 400, "groups: no GraphicGroupLabel with id 12345"),
        (f"svg/{PLATE}?groups=28,abc", 400, "groups: not a comma-separated list of ids"),
        (f"svg/{PLATE}?groups=", 400, "groups: not a comma-separated list of ids"),
        (f"svg/{PLATE}?groups=-28", 400, "groups: not a comma-separated list of ids"),
        (f"svg/{PLATE}?groups=99999999999999999999", 400, "groups: ids are at most"),
        (f"svg/{PLATE}?groups=28,{'9' * 5000}", 400, "groups: ids are at most"),
        (f"svg/{PLATE}?structure=abc", 400, "structure:"),
        (f"svg/{DAMAGED}", 500, f"image {DAMAGED}: pixel file pyramids/"),
        (f"svg/{PICTURE}", 500, "is not a label map (3 bands of uint8)"),
        (
            f"svg_download/{MISSING}",
            500,
            f"image {MISSING}: pixel file pyramids/gone.tif is missing",
        ),
    ],
)
def test_refusals_are_one_line_naming_the_fault(
    served: SvgStore, target: str, status: int, message: str
) -> None:
    reply = request(f"{served.url}/api/v2/{target}")
    assert reply.status == status, reply.body
    assert reply.content_type == "text/plain; charset=utf-8"
    assert message in reply.text and "\n" not in reply.text.strip()
    assert reply.text.startswith("image" if status == 500 else message)


def test_outlines_are_traced_once_per_version_of_the_label_map(tmp_path: Path) -> None:
    built = build_store(tmp_path / "store")
    with built.store.session() as session:
        path = session.get(AlternateImage, 1).path  # type: ignore[union-attr]
    labels = PixelFile(PLATE, path, built.store.pixels)
    cache = OutlineCache(1 << 20)
    width, height, regions = cache.regions(labels)
    assert (width, height) == (800, 600)
    assert cache.regions(labels)[2] is regions  # kept, not traced again
    changed = built.labels.copy()
    changed[560:590, 100:300] = 549
    # a new version of the file
    write_pyramid(changed, built.store.pyramid_path(path), PyramidKind.LABELS)
    again = cache.regions(labels)[2]
    assert again is not regions
    assert UNKNOWN_LABEL not in {region.structure_id for region in again}
    assert UNKNOWN_LABEL in {region.structure_id for region in regions}


def test_a_label_map_asked_for_at_once_is_traced_once(tmp_path: Path) -> None:
    built = build_store(tmp_path / "store")
    with built.store.session() as session:
        path = session.get(AlternateImage, 1).path  # type: ignore[union-attr]
    big = np.kron(built.labels, np.ones((4, 4), dtype=np.uint32))  # 3200 x 2400: ~0.5 s to trace
    write_pyramid(big, built.store.pyramid_path(path), PyramidKind.LABELS)
    labels = PixelFile(PLATE, path, built.store.pixels)
    cache = OutlineCache(1 << 24)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: cache.regions(labels)[2], range(4)))
    assert all(answer is answers[0] for answer in answers)


def test_a_replaced_label_map_is_drawn_anew(tmp_path: Path) -> None:
    built = build_store(tmp_path / "store")
    app = Starlette(routes=[Mount("/api/v2", routes=svg_routes())])
    install_state(app, ServerState.create(built.store))
    with BackgroundServer(app) as server:
        built.url = server.url
        first = svg(built, f"svg/{PLATE}?groups=28")
        with built.store.session() as session:
            path = session.get(AlternateImage, 1).path  # type: ignore[union-attr]
        write_pyramid(
            np.zeros_like(built.labels), built.store.pyramid_path(path), PyramidKind.LABELS
        )
        second = svg(built, f"svg/{PLATE}?groups=28")
    assert second.headers["etag"] != first.headers["etag"]
    assert b"<path" in first.body and b"<path" not in second.body


def test_create_app_serves_the_small_store_plate(
    small_server: str, small_store: SmallStore
) -> None:
    reply = request(f"{small_server}/api/v2/svg/{ATLAS_IMAGE}")
    assert reply.status == 200 and reply.content_type == "image/svg+xml"
    colours = {sid: parse_hex(hex_) for sid, hex_ in SMALL_COLOURS.items()}
    drawn = rendered_structures(reply.body, colours)
    for sid in (315, 549):
        assert iou(drawn == sid, small_store.labels == sid) >= 0.95
    download = request(f"{small_server}/api/v2/svg_download/{ATLAS_IMAGE}")
    assert download.body == reply.body
    assert download.headers["content-disposition"] == f'attachment; filename="{ATLAS_IMAGE}.svg"'
    refused = request(f"{small_server}/api/v2/svg/{ATLAS_IMAGE_UNANNOTATED}")
    assert (
        refused.status == 404
        and refused.text == f"image {ATLAS_IMAGE_UNANNOTATED} has no annotation"
    )
