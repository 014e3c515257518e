"""The bad-input matrix of the viewer and of the structure lookup it uses.

* `GET /api/v2/image_to_structure/{id}.{fmt}?x=&y=[&atlas=]`: each bad request, its HTTP status
  and the plain-text line naming what is wrong; the store's files are byte for byte the same
  afterwards (a damaged or missing label map stays as it was: reported, never replaced).
* The viewer's input doors (range fields, structure field, the link's hash), in headless
  Chromium: each bad value, the message the page shows where; the view keeps what was applied
  (the URL's state is unchanged) and no request carries the bad value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.mirrored import record_mirrored_level
from brainmap.store.schema import AlternateImage
from loopback import request
from small_store import ATLAS_IMAGE, ATLAS_IMAGE_UNANNOTATED, ISH_IMAGE, build_small_store
from viewer_build import (
    DEEP_IMAGE,
    OTHER_IMAGE,
    build_lab_store,
    chromium,
    enter,
    hash_state,
    open_view,
    page_on,
    screen_point,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LOOKUP = "/api/v2/image_to_structure"
LABELS = "labels"
"""The stem of the small store's label map file."""


@dataclass(frozen=True)
class LookupDoor:
    """A request to the lookup (the target after its path), on a store that is `sound`,
    `damaged` (its label map is junk), `missing` (its label map was deleted) or `mirrored` (it
    holds the plate's annotation as a mirror does: a picture)."""

    door: str
    input: str
    target: str
    status: int
    message: str
    store: str = "sound"


@dataclass(frozen=True)
class ViewerDoor:
    """The page opened at `link` (a hash) on the `server` named, then `typed` = (field, value)
    entered, or the pointer moved over the image's pixel `point`, if given; the `message` shows
    in the element `shown_in`, and no request carries `bad`."""

    door: str
    input: str
    link: str
    shown_in: str
    message: str
    typed: tuple[str, str] | None = None
    bad: str = ""
    server: str = "lab"
    point: tuple[int, int] | None = None


A = ATLAS_IMAGE
MATRIX: list[LookupDoor | ViewerDoor] = [
    LookupDoor("lookup", "x missing", f"{A}.json?y=1", 400, "x: missing"),
    LookupDoor("lookup", "y missing", f"{A}.json?x=1", 400, "y: missing"),
    LookupDoor("lookup", "x empty", f"{A}.json?x=&y=1", 400, "x: not a whole number: ''"),
    LookupDoor("lookup", "x a fraction", f"{A}.json?x=1.5&y=1", 400, "x: not a whole number"),
    LookupDoor("lookup", "y a word", f"{A}.json?x=1&y=abc", 400, "y: not a whole number"),
    LookupDoor("lookup", "x in Arabic-Indic digits", f"{A}.json?x=%D9%A3&y=1", 400, "x: not a"),
    LookupDoor(
        "lookup", "x beyond 64 bits", f"{A}.json?x=99999999999999999999&y=1", 400, "64 bits"
    ),
    LookupDoor(
        "lookup", "y below -2**63", f"{A}.json?x=1&y=-99999999999999999999", 400, "y: -9999"
    ),
    LookupDoor("lookup", "atlas a word", f"{A}.json?x=1&y=1&atlas=x", 400, "atlas: not a whole"),
    LookupDoor("lookup", "atlas negative", f"{A}.json?x=1&y=1&atlas=-1", 400, "must not be neg"),
    LookupDoor("lookup", "unknown image", "9.json?x=1&y=1", 404, "no image with id 9"),
    LookupDoor(
        "lookup",
        "image id beyond 64 bits",
        "99999999999999999999.json?x=1&y=1",
        404,
        "no image with id 99999999999999999999",
    ),
    LookupDoor("lookup", "image id not a number", "abc.json?x=1&y=1", 404, "no image with id abc"),
    LookupDoor(
        "lookup", "image without annotation", f"{ISH_IMAGE}.json?x=1&y=1", 404, "has no annotation"
    ),
    LookupDoor(
        "lookup",
        "plate not annotated",
        f"{ATLAS_IMAGE_UNANNOTATED}.json?x=1&y=1",
        404,
        f"image {ATLAS_IMAGE_UNANNOTATED} has no annotation",
    ),
    LookupDoor(
        "lookup", "atlas not annotating it", f"{A}.json?x=1&y=1&atlas=2", 404, "for atlas 2"
    ),
    LookupDoor("lookup", "unknown format", f"{A}.yaml?x=1&y=1", 404, "use json, xml or csv"),
    LookupDoor(
        "lookup",
        "damaged label map",
        f"{A}.json?x=150&y=150",
        500,
        f"image {A}: pixel file pyramids/{LABELS}",
        store="damaged",
    ),
    LookupDoor(
        "lookup", "missing label map", f"{A}.json?x=150&y=150", 500, "is missing", store="missing"
    ),
    LookupDoor(
        "lookup",
        "a mirror's plate (a picture)",
        f"{A}.json?x=150&y=150",
        404,
        f"image {A}: this mirror holds its plates as pictures, not label maps",
        store="mirrored",
    ),
    ViewerDoor(
        "range field",
        "70000 on a 16-bit image",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "red upper must be a whole number from 0 to 65535",
        ("red_upper", "70000"),
        "70000",
    ),
    ViewerDoor(
        "range field",
        "-1",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "red lower must be a whole number from 0 to 65535",
        ("red_lower", "-1"),
        "-1,",
    ),
    ViewerDoor(
        "range field",
        "a fraction",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "green upper must be a whole number",
        ("green_upper", "1.5"),
        "1.5",
    ),
    ViewerDoor(
        "range field",
        "an exponent",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "blue upper must be a whole number",
        ("blue_upper", "1e3"),
        "1e3",
    ),
    ViewerDoor(
        "range field",
        "one field emptied",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "red upper must be a whole number from 0 to 65535 (fill all six fields, or none)",
        ("red_upper", ""),
        "range=0,,",
    ),
    ViewerDoor(
        "range field",
        "upper not above lower",
        f"image={DEEP_IMAGE}",
        "#range-error",
        "green upper must be above green lower",
        ("green_lower", "65535"),
        "range=0,65535,65535",
    ),
    ViewerDoor(
        "range field",
        "4096 on an 8-bit image, other fields empty",
        f"image={OTHER_IMAGE}",
        "#range-error",
        "must be whole numbers from 0 to 4095",
        ("red_upper", "4096"),
        "4096",
    ),
    ViewerDoor(
        "structure field",
        "unknown acronym",
        f"image={ATLAS_IMAGE}&annotation=true&atlas=1",
        "#structure-error",
        "unknown structure: nope",
        ("structure", "nope"),
        "nope",
        server="small",
    ),
    ViewerDoor(
        "pointer",
        "over a plate a mirror holds as a picture",
        f"image={ATLAS_IMAGE}",
        "#pointer-structure",
        "this mirror holds its plates as pictures, not label maps",
        server="mirrored",
        point=(150, 150),
    ),
    ViewerDoor("link", "image not a number", "image=abc", "#status", '"abc" is not an image id.'),
    ViewerDoor(
        "link", "unknown image", "image=424242", "#status", "There is no image 424242.", bad="iiif"
    ),
    ViewerDoor(
        "link",
        "range above an 8-bit image's scale",
        f"image={OTHER_IMAGE}&range=0,5000,0,4095,0,4095",
        "#range-error",
        "red upper must be a whole number from 0 to 4095",
        bad="5000",
    ),
    ViewerDoor(
        "link",
        "range of five numbers",
        f"image={DEEP_IMAGE}&range=0,100,0,100,0",
        "#range-error",
        "blue upper must be a whole number from 0 to 65535",
        bad="range=0,100,0,100,0",
    ),
]


def rows(kind: type) -> list[object]:
    return [
        pytest.param(door, id=f"{door.door}: {door.input}")
        for door in MATRIX
        if isinstance(door, kind)
    ]


# -- the lookup ----------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every file of a store by its digest (SQLite's own -wal/-shm companions left out)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(("-wal", "-shm"))
    }


@dataclass(frozen=True)
class Served:
    url: str
    root: Path


STORES = ("sound", "damaged", "missing", "mirrored")


@pytest.fixture(scope="module")
def lookup_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """A server over each of the STORES, all made from the small store."""
    stores = {name: build_small_store(tmp_path_factory.mktemp(name)).store for name in STORES}
    [damaged] = (stores["damaged"].root / "pyramids").glob(f"{LABELS}*")
    damaged.write_bytes(b"II*\x00" + bytes(range(256)) * 8)
    [missing] = (stores["missing"].root / "pyramids").glob(f"{LABELS}*")
    missing.unlink()
    with stores["mirrored"].session() as session:
        [labels] = session.scalars(
            select(AlternateImage.path).where(AlternateImage.atlas_id.is_not(None))
        )
        record_mirrored_level(session, labels, 0, labels)
    with ExitStack() as running:
        yield {
            name: Served(running.enter_context(BackgroundServer(create_app(store))).url, store.root)
            for name, store in stores.items()
        }


@pytest.mark.parametrize("door", rows(LookupDoor))
def test_lookup_door(door: LookupDoor, lookup_servers: dict[str, Served]) -> None:
    served = lookup_servers[door.store]
    before = snapshot(served.root)
    reply = request(f"{served.url}{LOOKUP}/{door.target}")
    assert reply.status == door.status, reply.body
    assert reply.content_type is not None and reply.content_type.startswith("text/plain")
    assert door.message in reply.text
    assert len(reply.text.strip().splitlines()) == 1
    assert str(served.root) not in reply.text  # names the file in the store, not on the machine
    assert snapshot(served.root) == before


# -- the viewer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BackgroundServer(create_app(build_lab_store(tmp_path_factory.mktemp("lab")))) as server:
        yield server.url


@pytest.mark.parametrize("door", rows(ViewerDoor))
def test_viewer_door(
    door: ViewerDoor,
    browser: Browser,
    lab_server: str,
    small_server: str,
    lookup_servers: dict[str, Served],
) -> None:
    servers = {"lab": lab_server, "small": small_server, "mirrored": lookup_servers["mirrored"].url}
    with page_on(browser, servers[door.server]) as page:
        asked: list[str] = []
        page.on("request", lambda sent: asked.append(sent.url))
        before = None
        if door.typed is None and door.point is None:
            page.goto(f"/#{door.link}")
        else:
            open_view(page, door.link)
            before = hash_state(page)
        if door.typed is not None:
            enter(page, *door.typed)
        if door.point is not None:
            page.mouse.move(*screen_point(page, *door.point))
        page.locator(door.shown_in).filter(has_text=door.message).wait_for()
        if door.point is not None:  # said once: the pointer moving on asks no more
            page.mouse.move(*screen_point(page, door.point[0] + 300, door.point[1]), steps=5)
        page.wait_for_timeout(200)  # any request the change would make is on its way by now
        if before is not None:
            assert hash_state(page) == before
        if door.typed is not None:
            field = page.locator(f"#controls [name={door.typed[0]}]")
            assert field.get_attribute("aria-invalid") == "true"
        if door.point is not None:
            assert len([url for url in asked if LOOKUP in url]) == 1
        if door.bad:
            assert not [url for url in asked if door.bad in url]
            assert door.bad not in page.evaluate("location.hash")
