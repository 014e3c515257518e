"""Registration in the web viewer, in headless Chromium against the real server over the demo
store: on an aligned section, the reference point and structure under the pointer (throttled),
the nearest plate and the same point in another data set opened from the view's centre; on
images without alignment, none of it. Expected answers come from the server's own services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import SectionDataSet
from loopback import request
from small_store import ISH_IMAGE
from viewer_build import (
    hash_state,
    launched_browser,
    open_view,
    page_on,
    region,
    screen_point,
    wait_drawn,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PROBE_UM = (5000.0, 4200.0, 7600.0)
"""A reference point in the phantom's caudoputamen."""
SPACE = 9
ATLAS = 1


@pytest.fixture(scope="module")
def demo_server(demo_store: Store) -> Iterator[str]:
    with BackgroundServer(create_app(demo_store)) as server:
        yield server.url


browser = pytest.fixture(scope="module", name="browser")(launched_browser)


@pytest.fixture()
def page(browser: Browser, demo_server: str) -> Iterator[Page]:
    with page_on(browser, demo_server) as fresh:
        yield fresh


def service(server: str, path: str, **params: object) -> Any:
    reply = request(f"{server}/api/v2/{path}.json?{urlencode(params)}")
    assert reply.status == 200, reply.body
    return json.loads(reply.body)["msg"]


def coronal_ish(store: Store) -> list[int]:
    """The coronal ISH data sets (registered, with genes), by id."""
    with store.session() as session:
        found = session.scalars(
            select(SectionDataSet.id)
            .where(SectionDataSet.plane_of_section_id == 1, SectionDataSet.expression)
            .order_by(SectionDataSet.id)
        )
        return list(found)


def probe_pixel(server: str, data_set: int) -> tuple[int, int, int]:
    """The image of a data set nearest the probe, and the pixel there."""
    x, y, z = PROBE_UM
    (found,) = service(
        server, f"reference_to_image/{SPACE}", x=x, y=y, z=z, section_data_set_ids=data_set
    )
    sync = found["image_sync"]
    return sync["section_image_id"], round(sync["x"]), round(sync["y"])


def expected_text(server: str, image: int, x: int, y: int) -> str:
    """What the viewer should say for pixel (x, y): the server's point and structure."""
    point = service(server, f"image_to_reference/{image}", x=x, y=y)["image_to_reference"]
    found = service(server, f"reference_to_structure/{SPACE}", **point)
    name = f"{found[0]['name']} ({found[0]['acronym']})" if found else "no structure"
    where = ", ".join(f"{axis} {round(point[key])}" for axis, key in zip("pir", "xyz", strict=True))
    return f"{where} µm: {name}"


def wait_reference_text(page: Page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('#pointer-reference').textContent === text", arg=text
    )


def open_centred(page: Page, image: int, x: int, y: int, side: int = 120) -> tuple[int, int]:
    """Open an image with pixel (x, y) at the centre of the view; the centre pixel."""
    open_view(page, f"image={image}&region={x - side // 2},{y - side // 2},{side},{side}")
    page.locator("#sync-controls:not([disabled])").wait_for()
    left, top, width, height = region(page)
    return int(left + width / 2), int(top + height / 2)


def test_an_aligned_section_names_the_reference_point_and_structure_under_the_pointer(
    page: Page, demo_server: str, demo_store: Store
) -> None:
    lookups: list[str] = []
    page.on("request", lambda r: lookups.append(r.url) if "image_to_reference" in r.url else None)
    image, x, y = probe_pixel(demo_server, coronal_ish(demo_store)[0])
    open_view(page, f"image={image}")
    for pixel in ((x, y), (x + 20, y - 15), (2, 2)):
        text = expected_text(demo_server, image, *pixel)
        page.mouse.move(*screen_point(page, *pixel))
        wait_reference_text(page, text)
    assert "Caudoputamen (CP)" in expected_text(demo_server, image, x, y)
    assert expected_text(demo_server, image, 2, 2).endswith("µm: no structure")
    assert page.locator("#pointer-reference").is_visible()
    assert page.locator("#pointer-structure").is_hidden()
    assert page.locator("#view-centre").is_visible()
    # a sweep across the section asks far less often than the pointer moves, ending where it is
    asked = len(lookups)
    page.mouse.move(*screen_point(page, 30, 30))
    page.mouse.move(*screen_point(page, x, y), steps=60)
    wait_reference_text(page, expected_text(demo_server, image, x, y))
    page.wait_for_timeout(300)
    assert 1 <= len(lookups) - asked <= 20


def test_the_nearest_plate_opens_at_the_point_in_the_view_centre(
    page: Page, demo_server: str, demo_store: Store
) -> None:
    image, x, y = probe_pixel(demo_server, coronal_ish(demo_store)[0])
    cx, cy = open_centred(page, image, x, y)
    expected = service(demo_server, f"image_to_atlas/{image}", x=cx, y=cy, atlas_id=ATLAS)
    plate = expected["image_sync"]
    page.locator("#sync-controls [name=sync_atlas]").select_option(str(ATLAS))
    page.get_by_role("button", name="Open the nearest plate").click()
    px, py = opened(page, plate["section_image_id"])
    state = hash_state(page)
    assert (state["annotation"], state["atlas"]) == ("true", str(ATLAS))
    assert abs(px - plate["x"]) <= 2 and abs(py - plate["y"]) <= 2
    assert page.locator("#sync-controls").is_hidden()  # a plate is no aligned section


def test_the_same_point_opens_in_another_data_set(
    page: Page, demo_server: str, demo_store: Store
) -> None:
    source, other = coronal_ish(demo_store)[:2]
    image, x, y = probe_pixel(demo_server, source)
    cx, cy = open_centred(page, image, x, y)
    (found,) = service(
        demo_server, f"image_to_image/{image}", x=cx, y=cy, section_data_set_ids=other
    )
    target = found["image_sync"]
    choices = page.locator("#sync-controls [name=sync_data_set] option").all_inner_texts()
    assert f"Data set {other} · Slc17a7 · coronal" in choices
    assert not any(f"Data set {source} " in choice for choice in choices)
    page.locator("#sync-controls [name=sync_data_set]").select_option(str(other))
    page.get_by_role("button", name="Open the same point there").click()
    tx, ty = opened(page, target["section_image_id"])
    assert abs(tx - target["x"]) <= 2 and abs(ty - target["y"]) <= 2
    # under the pointer there: the point and structure the server gives for that pixel
    pixel = round(target["x"]), round(target["y"])
    page.mouse.move(*screen_point(page, *pixel))
    wait_reference_text(page, expected_text(demo_server, target["section_image_id"], *pixel))


def opened(page: Page, image: int) -> tuple[float, float]:
    """Once `image` is open and drawn, the centre of the view (from the URL)."""
    page.wait_for_function(
        "text => document.querySelector('#status').textContent.startsWith(text)",
        arg=f"Image {image}:",
    )
    wait_drawn(page)
    left, top, width, height = region(page)
    return left + width / 2, top + height / 2


def test_images_without_alignment_offer_none_of_it(browser: Browser, small_server: str) -> None:
    with page_on(browser, small_server) as page:
        lookups: list[str] = []
        page.on("request", lambda r: lookups.append(r.url) if "reference" in r.url else None)
        open_view(page, f"image={ISH_IMAGE}")
        page.mouse.move(*screen_point(page, 600, 450))
        page.mouse.move(*screen_point(page, 300, 200), steps=5)
        page.wait_for_timeout(300)
        assert lookups == []
        for hidden in ("#pointer-reference", "#view-centre", "#sync-controls"):
            assert page.locator(hidden).is_hidden(), hidden
