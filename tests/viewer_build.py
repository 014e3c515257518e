"""The web viewer for the tests: whether its assets are built, Debian's Chromium driven by
Playwright to use it, the page helpers the browser tests share, and a lab's store to show."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import numpy as np
import pytest

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import Product, SectionDataSet, SectionImage
from brainmap.web import STATIC_DIR

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
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
WINDOW: ViewportSize = {"width": 1000, "height": 700}


def require_built_viewer() -> None:
    """Skip where the viewer cannot have been built (no npm); fail where it should have been."""
    if (STATIC_DIR / "index.html").is_file():
        return
    if shutil.which("npm") is None:
        pytest.skip("the web viewer is not built: npm is not on the PATH")
    pytest.fail("npm is on the PATH but the web viewer is not built: reinstall brainmap")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium over the built viewer; skips where Playwright or Chromium is missing."""
    require_built_viewer()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
    )
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium package (make test does, "
            "as root)"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000
        )
        yield browser
        browser.close()


def launched_browser() -> Iterator[Browser]:
    """Chromium for a module's tests: ``browser = pytest.fixture(scope="module",
    name="browser")(launched_browser)``."""
    with chromium() as launched:
        yield launched


@contextmanager
def page_on(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page on a server, failing the test on any script error."""
    context = browser.new_context(viewport=WINDOW, device_scale_factor=1, base_url=server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
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
    """Open the page at a state (the URL's hash) and wait until it is drawn."""
    with page.expect_response(info_json):
        page.goto(f"/#{state}")
    wait_drawn(page)


def hash_state(page: Page) -> dict[str, str]:
    return dict(parse_qsl(page.evaluate("location.hash").lstrip("#")))


def region(page: Page) -> tuple[float, float, float, float]:
    x, y, w, h = map(float, hash_state(page)["region"].split(","))
    return x, y, w, h


def screen_point(page: Page, image_x: float, image_y: float) -> tuple[float, float]:
    """Where the centre of a full-resolution pixel is on the page, from the view's region."""
    x, y, w, _ = region(page)
    box = page.locator("#viewer").bounding_box()
    assert box is not None
    scale = box["width"] / w
    return box["x"] + (image_x + 0.5 - x) * scale, box["y"] + (image_y + 0.5 - y) * scale


def enter(page: Page, name: str, value: str) -> None:
    """Type `value` into a control and press Enter (which applies the form)."""
    field = page.locator(f"#controls [name={name}]")
    field.fill(value)
    field.press("Enter")


# -- a lab's store ------------------------------------------------------------------------

LAB_PRODUCT, EMPTY_PRODUCT = 70, 71
LAB_SET, OTHER_SET = 700, 800
DEEP_IMAGE, OTHER_IMAGE = 7001, 8001
DEEP_RESOLUTION = 0.5
FULL_16_BIT = "0,65535,0,65535,0,65535"


def build_lab_store(root: Path) -> Store:
    """Written with the store's own API: the product "Lab images" with one data set of one
    full-range 16-bit image (0.5 µm a pixel, no Equalization), a product of no data set, and a
    data set of no product with one 8-bit image of unknown resolution."""
    store = Store.create(root)
    y, x = np.mgrid[0:600, 0:800]
    deep = np.stack([x * 81, y * 109, (x + y) * 46], axis=2).astype(np.uint16)  # up to ~65535
    rgb = np.stack([x % 256, y % 256, np.full_like(x, 128)], axis=2).astype(np.uint8)
    paths = {}
    files = (("deep", deep, PyramidKind.LOSSLESS), ("rgb", rgb, PyramidKind.RGB8))
    for stem, pixels, kind in files:
        paths[stem] = store.new_pyramid_name(stem)
        write_pyramid(pixels, store.pyramid_path(paths[stem]), kind)
    with store.session() as session:
        lab = Product(id=LAB_PRODUCT, name="Lab images", abbreviation="Lab")
        session.add_all([lab, Product(id=EMPTY_PRODUCT, name="No data sets", abbreviation="None")])
        lab_set = SectionDataSet(id=LAB_SET, name="Lab run", failed=False)
        lab_set.products = [lab]
        session.add_all([lab_set, SectionDataSet(id=OTHER_SET, failed=False)])
        session.flush()
        images = (
            (DEEP_IMAGE, LAB_SET, "deep", 16, DEEP_RESOLUTION),
            (OTHER_IMAGE, OTHER_SET, "rgb", 8, None),
        )
        session.add_all(
            SectionImage(
                id=image_id,
                data_set_id=data_set,
                path=paths[stem],
                bits_per_component=bits,
                resolution=resolution,
                section_number=1,
                number_of_components=3,
                **whole_image(800, 600),
            )
            for image_id, data_set, stem, bits, resolution in images
        )
    return store
