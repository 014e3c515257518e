"""The web viewer in a real browser: Debian's headless Chromium driven by Playwright, against the
real server on loopback over the small store.

What the page draws is compared with what the API returns for the same view (its canvas pixels
against IIIF and Image Download Service images decoded here, both reduced to a coarse grid, with
a tolerance for resampling and JPEG). The module skips when Chromium or Playwright is missing.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
import pyvips

from loopback import Reply, request
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES
from viewer_build import require_built_viewer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
)
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's chromium package (make test does, as root)",
        allow_module_level=True,
    )

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WINDOW = {"width": 1000, "height": 700}
RANGE = ",".join(map(str, RANGES))
TILE = re.compile(r"/iiif/3/\d+/\d+,\d+,(\d+),\d+/(\d+),")
"""A IIIF tile request: the region's width and the output width."""
GRID = (48, 36)
SAME = 5.0
"""Largest mean absolute difference (0-255) of two renderings of one view on the GRID."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_built_viewer()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000
        )
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Browser, small_server: str) -> Iterator[Page]:
    """A fresh page on the server, failing the test on any script error."""
    context = browser.new_context(viewport=WINDOW, device_scale_factor=1, base_url=small_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=small_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def wait_drawn(page: Page) -> None:
    """Until the view has a viewport in the URL and every tile it needs drawn (aria-busy is
    true from the moment an image is asked for)."""
    page.wait_for_function(
        "() => location.hash.includes('region=')"
        " && document.querySelector('#viewer').getAttribute('aria-busy') === 'false'"
    )


def info_json(response: Response) -> bool:
    return response.url.endswith("/info.json")


def open_view(page: Page, state: str) -> None:
    with page.expect_response(info_json):
        page.goto(f"/#{state}")
    wait_drawn(page)


def wait_zoomed_in(page: Page, narrower_than: float) -> None:
    """Until the viewport in the URL is narrower than given and drawn."""
    page.wait_for_function(
        "width => +new URLSearchParams(location.hash.slice(1)).get('region').split(',')[2] < width",
        arg=narrower_than,
    )
    wait_drawn(page)


def hash_state(page: Page) -> dict[str, str]:
    return dict(parse_qsl(page.evaluate("location.hash").lstrip("#")))


def region(page: Page) -> tuple[float, float, float, float]:
    x, y, w, h = map(float, hash_state(page)["region"].split(","))
    return x, y, w, h


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


def get(url: str) -> Reply:
    reply = request(url)
    assert reply.status == 200, reply.body
    return reply


def test_the_catalogue_lists_products_data_sets_and_sections(page: Page) -> None:
    page.goto("/")
    products = page.locator("#products button")
    products.first.wait_for()
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
    drawn = canvas(page)
    x, y, w, h = region(page)
    assert x >= 0 and y >= 0 and x + w <= 1000 and y + h <= 700  # the view lies inside the image
    height, width = drawn.shape[:2]
    iiif = get(
        f"{small_server}/iiif/3/{CONNECTIVITY_IMAGE}/{x:.0f},{y:.0f},{w:.0f},{h:.0f}/"
        f"{width},{height}/0/default.jpg?range={RANGE}"
    )
    assert difference(drawn, decode(iiif.body)) < SAME


def test_changing_the_colormap_changes_the_pixels_as_the_api_does(
    page: Page, small_server: str
) -> None:
    open_view(page, f"image={ISH_IMAGE}&region=300,200,600,450")
    plain = canvas(page)
    with page.expect_response(lambda response: "colormap=jet" in response.url):
        page.locator("#controls [name=colormap]").select_option("jet")
    wait_drawn(page)
    coloured = canvas(page)
    assert hash_state(page)["colormap"] == "jet"
    assert difference(plain, coloured) > 5 * SAME
    x, y, w, h = region(page)
    height, width = coloured.shape[:2]
    iiif = get(
        f"{small_server}/iiif/3/{ISH_IMAGE}/{x:.0f},{y:.0f},{w:.0f},{h:.0f}/"
        f"{width},{height}/0/default.jpg?colormap=jet"
    )
    assert difference(coloured, decode(iiif.body)) < SAME


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
