"""The web viewer in a real browser: Debian's headless Chromium driven by Playwright, against the
real server on loopback over the small store, a lab's store (a new product with a 16-bit image,
a data set of no product) and an empty store.

What the page draws is compared with what the API returns for the same view (its canvas pixels
against IIIF and Image Download Service images decoded here, both reduced to a coarse grid, with
a tolerance for resampling and JPEG). The module skips when Chromium or Playwright is missing.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import pyvips

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from loopback import Reply, request
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES
from viewer_build import (
    DEEP_IMAGE,
    DEEP_RESOLUTION,
    FULL_16_BIT,
    OTHER_IMAGE,
    OTHER_SET,
    build_lab_store,
    enter,
    hash_state,
    info_json,
    launched_browser,
    open_view,
    page_on,
    region,
    screen_point,
    wait_drawn,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

RANGE = ",".join(map(str, RANGES))
TILE = re.compile(r"/iiif/3/\d+/\d+,\d+,(\d+),\d+/(\d+),")
"""A IIIF tile request: the region's width and the output width."""
GRID = (48, 36)
SAME = 5.0
"""Largest mean absolute difference (0-255) of two renderings of one view on the GRID."""


browser = pytest.fixture(scope="module", name="browser")(launched_browser)


@pytest.fixture()
def page(browser: Browser, small_server: str) -> Iterator[Page]:
    """A fresh page on the small store's server."""
    with page_on(browser, small_server) as fresh:
        yield fresh


def wait_zoomed_in(page: Page, narrower_than: float) -> None:
    """Until the viewport in the URL is narrower than given and drawn."""
    page.wait_for_function(
        "width => +new URLSearchParams(location.hash.slice(1)).get('region').split(',')[2] < width",
        arg=narrower_than,
    )
    wait_drawn(page)


def canvas(page: Page) -> np.ndarray:
    """The pixels OpenSeadragon drew (its largest canvas: not the navigator, no buttons)."""
    url = page.evaluate(
        "() => [...document.querySelectorAll('#viewer canvas')]"
        ".sort((a, b) => b.width * b.height - a.width * a.height)[0].toDataURL('image/png')"
    )
    image = pyvips.Image.new_from_buffer(base64.b64decode(url.split(",", 1)[1]), "")
    return np.asarray(image.numpy())[:, :, :3]


def decode(body: bytes) -> np.ndarray:
    return np.asarray(pyvips.Image.new_from_buffer(body, "").numpy())[:, :, :3]


def on_grid(pixels: np.ndarray) -> np.ndarray:
    """Reduced onto GRID (libvips: a box shrink, then linear), as floats."""
    image = pyvips.Image.new_from_array(np.ascontiguousarray(pixels))
    small = image.resize(GRID[0] / image.width, vscale=GRID[1] / image.height, kernel="linear")
    return np.asarray(small.numpy(), dtype=float)[: GRID[1], : GRID[0]]


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two pictures of the same view, on the coarse grid."""
    return float(np.abs(on_grid(a) - on_grid(b)).mean())


def crop_to_image(
    drawn: np.ndarray, view: tuple[float, float, float, float], box: tuple[int, int, int, int]
) -> np.ndarray:
    """The part of the canvas showing the full-resolution `box` (left, top, width, height)."""
    x, y, w, _ = view
    scale = drawn.shape[1] / w
    left, top = round((box[0] - x) * scale), round((box[1] - y) * scale)
    right, bottom = round((box[0] + box[2] - x) * scale), round((box[1] + box[3] - y) * scale)
    return drawn[top:bottom, left:right]


def assert_drawn_as_iiif(page: Page, server: str, image_id: int, query: str) -> np.ndarray:
    """The canvas is IIIF's picture of the view in the URL with the filters `query`."""
    drawn = canvas(page)
    x, y, w, h = region(page)
    height, width = drawn.shape[:2]
    iiif = get(
        f"{server}/iiif/3/{image_id}/{x:.0f},{y:.0f},{w:.0f},{h:.0f}/"
        f"^{width},{height}/0/default.jpg?{query}"
    )
    assert difference(drawn, decode(iiif.body)) < SAME
    return drawn


def get(url: str) -> Reply:
    reply = request(url)
    assert reply.status == 200, reply.body
    return reply


def test_the_catalogue_lists_products_data_sets_and_sections(page: Page) -> None:
    page.goto("/")
    products = page.locator("#products button")
    products.first.wait_for()
    # every data set has a product or is an atlas's: no "Other data sets"
    assert products.all_inner_texts() == ["Mouse Brain", "Mouse Connectivity Projection"]
    assert page.locator("#atlases button").all_inner_texts() == ["Mouse, P56, Coronal"]
    page.get_by_role("button", name="Mouse Connectivity Projection").click()
    page.get_by_role("button", name="Data set 200 · coronal").click()
    section = page.locator("#sections button")
    section.first.wait_for()
    assert "image 2001" in section.inner_text()
    page.wait_for_function("() => document.querySelector('#sections img').naturalWidth > 0")
    section.click()
    wait_drawn(page)
    # a section of a data set with an Equalization opens in that display range
    assert hash_state(page)["image"] == str(CONNECTIVITY_IMAGE)
    assert hash_state(page)["range"] == RANGE
    assert page.locator("#controls [name=red_upper]").input_value() == str(RANGES[1])
    assert section.get_attribute("aria-current") == "true"


def test_zooming_changes_the_viewport_the_url_and_loads_finer_tiles(page: Page) -> None:
    scales: list[float] = []  # of every IIIF tile requested
    page.on("request", lambda request: scales.extend(tile_scale(request.url)))
    open_view(page, f"image={ISH_IMAGE}")
    before, finest_before, seen = region(page), min(scales), len(scales)
    assert before[2] >= 1200  # the whole image
    box = page.locator("#viewer").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):  # OpenSeadragon ignores wheel events closer than 50 ms
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(120)
    wait_zoomed_in(page, before[2] / 1.5)  # four steps of 1.2 zoom in about twice
    assert min(scales[seen:]) < finest_before


def tile_scale(url: str) -> list[float]:
    """[full-resolution pixels per output pixel] of a IIIF tile URL, [] for other URLs."""
    tile = TILE.search(url)
    return [int(tile[1]) / int(tile[2])] if tile else []


def test_the_page_shows_what_iiif_returns_for_the_view(page: Page, small_server: str) -> None:
    open_view(page, f"image={CONNECTIVITY_IMAGE}&range={RANGE}&region=250,175,500,350")
    x, y, w, h = region(page)
    assert x >= 0 and y >= 0 and x + w <= 1000 and y + h <= 700  # the view lies inside the image
    assert_drawn_as_iiif(page, small_server, CONNECTIVITY_IMAGE, f"range={RANGE}")


def test_changing_the_colormap_changes_the_pixels_as_the_api_does(
    page: Page, small_server: str
) -> None:
    open_view(page, f"image={ISH_IMAGE}&region=300,200,600,450")
    plain = canvas(page)
    with page.expect_response(lambda response: "colormap=jet" in response.url):
        page.locator("#controls [name=colormap]").select_option("jet")
    wait_drawn(page)
    assert hash_state(page)["colormap"] == "jet"
    coloured = assert_drawn_as_iiif(page, small_server, ISH_IMAGE, "colormap=jet")
    assert difference(plain, coloured) > 5 * SAME


def test_the_download_service_url_gives_the_visible_region(page: Page) -> None:
    open_view(page, f"image={ISH_IMAGE}&colormap=jet")  # the whole image, margins around it
    page.get_by_role("button", name="Image Download Service URL").click()
    url = page.locator("#download-url").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url
    parts = urlsplit(url)
    assert parts.path == f"/api/v2/image_download/{ISH_IMAGE}"
    query = dict(parse_qsl(parts.query))
    assert query["colormap"] == "jet"
    view = region(page)
    drawn = canvas(page)
    # the coarsest level that still has a pixel for every screen pixel
    downsample = max(0, math.floor(math.log2(view[2] / drawn.shape[1])))
    assert int(query["downsample"]) == downsample >= 1
    assert (query["left"], query["top"]) == ("0", "0")
    assert (int(query["width"]), int(query["height"])) == (
        math.ceil(1200 / 2**downsample),
        math.ceil(900 / 2**downsample),
    )
    returned = decode(get(url).body)
    assert returned.shape[:2] == (int(query["height"]), int(query["width"]))
    assert difference(crop_to_image(drawn, view, (0, 0, 1200, 900)), returned) < SAME


def test_annotation_and_structure_highlight_by_acronym(page: Page) -> None:
    open_view(page, f"image={ATLAS_IMAGE}")
    page.get_by_label("Show structures").check()
    wait_drawn(page)
    highlight = page.get_by_label("Highlight")
    highlight.fill("nope")
    highlight.press("Enter")
    assert highlight.get_attribute("aria-invalid") == "true"
    assert "unknown structure: nope" in page.locator("#structure-error").inner_text()
    with page.expect_response(lambda response: "structure=315" in response.url) as tile:
        highlight.fill("s315")
        highlight.press("Enter")
    assert "annotation=true&atlas=1&structure=315" in tile.value.url
    wait_drawn(page)
    state = hash_state(page)
    assert (state["annotation"], state["atlas"], state["structure"]) == ("true", "1", "315")


def test_a_view_the_image_lacks_shows_the_servers_reason(page: Page) -> None:
    page.goto(f"/#image={ISH_IMAGE}&view=projection")
    page.wait_for_selector("#status.error")
    assert "projection" in page.locator("#status").inner_text()
    page.locator("#controls [name=view]").select_option("expression")
    wait_drawn(page)
    assert page.locator("#status").inner_text() == ""


def test_a_reload_restores_image_filters_and_viewport(page: Page) -> None:
    open_view(page, f"image={CONNECTIVITY_IMAGE}")
    page.locator("#controls [name=colormap]").select_option("hotmetal")
    home = region(page)
    page.get_by_title("Zoom in").click()
    wait_zoomed_in(page, home[2] / 1.5)  # a click zooms in twice
    assert hash_state(page)["colormap"] == "hotmetal"
    before, drawn = hash_state(page), canvas(page)
    with page.expect_response(info_json):
        page.reload()
    wait_drawn(page)
    after = hash_state(page)
    assert after == before
    assert page.locator("#controls [name=colormap]").input_value() == "hotmetal"
    assert page.locator("#controls [name=green_upper]").input_value() == str(RANGES[3])
    assert difference(canvas(page), drawn) < SAME / 2


def test_a_malformed_viewport_in_the_hash_opens_the_whole_image(page: Page) -> None:
    open_view(page, f"image={ISH_IMAGE}")
    home = region(page)
    for junk in ("10,10,300,-5", "10,10,0,300", "a,b,c,d", "1,2,3"):
        open_view(page, f"image={ISH_IMAGE}&region={junk}")
        assert region(page) == pytest.approx(home), junk


# -- a lab's store: a new product, a 16-bit image, a data set of no product; an empty store --


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BackgroundServer(create_app(build_lab_store(tmp_path_factory.mktemp("lab")))) as server:
        yield server.url


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BackgroundServer(create_app(Store.create(tmp_path_factory.mktemp("empty")))) as server:
        yield server.url


@pytest.fixture()
def lab_page(browser: Browser, lab_server: str) -> Iterator[Page]:
    with page_on(browser, lab_server) as fresh:
        yield fresh


def test_the_catalogue_reaches_a_new_products_data_sets_and_those_of_no_product(
    lab_page: Page,
) -> None:
    page = lab_page
    page.goto("/")
    products = page.locator("#products button")
    products.first.wait_for()
    # a product without data sets is left out
    assert products.all_inner_texts() == ["Lab images", "Other data sets"]
    page.get_by_role("button", name="Lab images").click()
    page.get_by_role("button", name="Data set 700 · Lab run").click()
    page.locator("#sections button", has_text=f"image {DEEP_IMAGE}").click()
    wait_drawn(page)
    assert hash_state(page)["image"] == str(DEEP_IMAGE)
    page.get_by_role("button", name="Other data sets").click()
    page.get_by_role("button", name=f"Data set {OTHER_SET}", exact=True).click()
    with page.expect_response(info_json):
        page.locator("#sections button", has_text=f"image {OTHER_IMAGE}").click()
    wait_drawn(page)
    assert hash_state(page)["image"] == str(OTHER_IMAGE)
    assert page.locator("#data-sets button").all_inner_texts() == [f"Data set {OTHER_SET}"]


def test_a_link_to_an_image_of_no_product_shows_where_it_is(lab_page: Page) -> None:
    open_view(lab_page, f"image={OTHER_IMAGE}")
    others = lab_page.get_by_role("button", name="Other data sets")
    assert others.get_attribute("aria-current") == "true"
    section = lab_page.locator("#sections button", has_text=f"image {OTHER_IMAGE}")
    assert section.get_attribute("aria-current") == "true"


def test_range_fields_follow_a_16_bit_image_and_recover_from_a_bad_value(
    lab_page: Page, lab_server: str
) -> None:
    page = lab_page
    open_view(page, f"image={DEEP_IMAGE}&region=250,100,300,400")
    # no Equalization: the fields show the image's whole scale
    assert hash_state(page)["range"] == FULL_16_BIT
    assert page.locator("#range-legend").inner_text() == "Range (0 to 65535, per channel)"
    red_upper = page.locator("#controls [name=red_upper]")
    assert red_upper.input_value() == "65535" and red_upper.get_attribute("max") == "65535"
    with page.expect_response(lambda response: "range=0,30000,0,65535,0,65535" in response.url):
        enter(page, "red_upper", "30000")
    wait_drawn(page)
    error = page.locator("#range-error")
    enter(page, "red_upper", "70000")
    error.filter(has_text="red upper must be a whole number from 0 to 65535").wait_for()
    assert red_upper.get_attribute("aria-invalid") == "true"
    assert hash_state(page)["range"] == "0,30000,0,65535,0,65535"
    # another control still applies, with the range last applied
    with page.expect_response(lambda r: "range=0,30000,0,65535,0,65535&colormap=jet" in r.url):
        page.locator("#controls [name=colormap]").select_option("jet")
    wait_drawn(page)
    # and a valid value applies again: the highest the scale has
    with page.expect_response(lambda r: f"range={FULL_16_BIT}&colormap=jet" in r.url):
        enter(page, "red_upper", "65535")
    wait_drawn(page)
    assert error.inner_text() == "" and red_upper.get_attribute("aria-invalid") == "false"
    assert page.locator("#status").inner_text() == ""
    enter(page, "green_lower", "65535")
    error.filter(has_text="green upper must be above green lower").wait_for()
    enter(page, "green_lower", "0")
    assert error.inner_text() == ""
    state = hash_state(page)
    assert (state["range"], state["colormap"]) == (FULL_16_BIT, "jet")
    assert_drawn_as_iiif(page, lab_server, DEEP_IMAGE, f"range={FULL_16_BIT}&colormap=jet")


def test_an_8_bit_image_opens_without_a_range(lab_page: Page) -> None:
    open_view(lab_page, f"image={OTHER_IMAGE}")
    assert "range" not in hash_state(lab_page)
    assert lab_page.locator("#controls [name=red_upper]").input_value() == ""
    assert lab_page.locator("#range-legend").inner_text() == "Range (0 to 4095, per channel)"
    assert lab_page.locator("#range-default").is_disabled()


def scale_bar(page: Page) -> tuple[float, float]:
    """The scale bar's length in µm (from its label) and in pixels of the view."""
    value, unit = page.locator(".scale-bar span").inner_text().split()
    micrometres = float(value) * {"µm": 1, "mm": 1000}[unit]
    box = page.locator(".scale-bar-line").bounding_box()
    assert box is not None
    return micrometres, box["width"]


def assert_scale_bar_true(page: Page, resolution: float) -> tuple[float, float]:
    """The bar's µm per pixel is the image's µm per pixel times image pixels per view pixel."""
    micrometres, pixels = scale_bar(page)
    view = page.locator("#viewer").bounding_box()
    assert view is not None
    assert 30 <= pixels <= 120
    assert micrometres / pixels == pytest.approx(resolution * region(page)[2] / view["width"], 0.01)
    return micrometres, pixels


def test_the_scale_bar_is_true_at_every_zoom(page: Page) -> None:
    open_view(page, f"image={ISH_IMAGE}")  # 1 µm a pixel
    whole = assert_scale_bar_true(page, 1.0)
    home = region(page)
    page.get_by_title("Zoom in").click()
    wait_zoomed_in(page, home[2] / 1.5)
    zoomed = assert_scale_bar_true(page, 1.0)
    assert zoomed[0] / zoomed[1] < whole[0] / whole[1] / 1.5


def test_the_scale_bar_follows_the_resolution_and_hides_without_one(lab_page: Page) -> None:
    open_view(lab_page, f"image={DEEP_IMAGE}")
    assert_scale_bar_true(lab_page, DEEP_RESOLUTION)
    open_view(lab_page, f"image={OTHER_IMAGE}")
    assert lab_page.locator(".scale-bar").is_hidden()


def wait_pointer_text(page: Page, text: str) -> None:
    page.wait_for_function(
        "text => document.querySelector('#pointer-structure').textContent === text", arg=text
    )


def test_the_structure_under_the_pointer_is_named(page: Page) -> None:
    lookups: list[str] = []
    page.on("request", lambda r: lookups.append(r.url) if "image_to_structure" in r.url else None)
    open_view(page, f"image={ATLAS_IMAGE}")
    for (x, y), text in (
        ((250, 300), "structure 315 (S315)"),
        ((550, 300), "structure 549 (S549)"),
        ((50, 50), "no structure"),
    ):
        page.mouse.move(*screen_point(page, x, y))
        wait_pointer_text(page, text)
    assert page.locator("#pointer-structure").is_visible()
    # a sweep across the plate asks far less often than the pointer moves, ending where it is
    asked = len(lookups)
    start, end = screen_point(page, 150, 200), screen_point(page, 650, 450)
    page.mouse.move(*start)
    page.mouse.move(*end, steps=60)
    wait_pointer_text(page, "structure 549 (S549)")
    page.wait_for_timeout(300)
    assert 1 <= len(lookups) - asked <= 20
    assert "atlas=1" in lookups[-1]


def test_no_structure_is_looked_up_on_an_image_without_annotation(page: Page) -> None:
    lookups: list[str] = []
    page.on("request", lambda r: lookups.append(r.url) if "image_to_structure" in r.url else None)
    open_view(page, f"image={ISH_IMAGE}")
    page.mouse.move(*screen_point(page, 600, 450))
    page.mouse.move(*screen_point(page, 300, 200), steps=5)
    page.wait_for_timeout(300)
    assert lookups == []
    assert page.locator("#pointer-structure").is_hidden()


def test_the_landing_view_says_what_to_do_first(page: Page) -> None:
    page.goto("/")
    landing = page.locator("#landing")
    landing.wait_for()
    text = landing.inner_text()
    assert "Choose a product" in text and "Other data sets" in text and "--product" in text
    assert "brainmap ingest --store STORE --data-set ID" in text
    assert "holds no images yet" not in text
    page.get_by_role("button", name="Mouse Brain").click()
    page.get_by_role("button", name="Data set 100").click()
    page.locator("#sections button").first.click()
    wait_drawn(page)
    assert landing.is_hidden()


def test_an_empty_store_says_how_to_add_images(browser: Browser, empty_server: str) -> None:
    with page_on(browser, empty_server) as page:
        page.goto("/")
        landing = page.locator("#landing")
        landing.wait_for()
        text = landing.inner_text()
        assert "This store holds no images yet" in text
        assert "brainmap ingest --store STORE --data-set ID" in text
        assert "Choose a product" not in text
        assert page.locator("#products button").count() == 0
