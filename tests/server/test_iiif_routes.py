"""The IIIF Image API over loopback against the real server on the small store: every parameter
form, checked against the pyramid's own pixels and against the Image Download Service."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import pyvips
import simplejpeg
from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.pyramid.local import Pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.state import ImageLimits
from brainmap.store.schema import SubImage
from each_database import (  # noqa: F401 - the small store's fixtures over each database
    small_server_each_database,
    small_store_each_database,
)
from iiif_strategies import regions, sizes
from loopback import fetch, match
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES, SmallStore

Headers = dict[str, str]


def decode(body: bytes) -> np.ndarray:
    """Any JPEG or PNG as height x width x bands."""
    image = pyvips.Image.new_from_buffer(body, "")
    return np.ndarray((image.height, image.width, image.bands), np.uint8, image.write_to_memory())


def iiif(base: str, image_id: int, path: str, query: str = "") -> np.ndarray:
    status, body, headers = fetch(
        f"{base}/iiif/3/{image_id}/{path}" + (f"?{query}" if query else "")
    )
    assert status == 200, body
    assert headers["content-type"] == ("image/png" if path.endswith(".png") else "image/jpeg")
    return decode(body)


def download(base: str, image_id: int, query: str) -> np.ndarray:
    status, body, _ = fetch(f"{base}/api/v2/image_download/{image_id}?{query}&quality=90")
    assert status == 200, body
    return simplejpeg.decode_jpeg(body)


def level(store: SmallStore, image_id: int, index: int) -> np.ndarray:
    """A whole pyramid level of an image, as stored."""
    with store.store.session() as session:
        path = session.get(SubImage, image_id).path
    page = Pyramid(store.store.pyramid_path(path)).level(index)
    return np.ndarray((page.height, page.width, page.bands), np.uint8, page.write_to_memory())


def mean_error(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape
    return float(np.abs(actual.astype(int) - expected.astype(int)).mean())


@pytest.fixture(scope="module")
def ish_levels(small_store: SmallStore) -> list[np.ndarray]:
    return [level(small_store, ISH_IMAGE, index) for index in range(4)]


def test_info_json(small_server: str) -> None:
    status, body, headers = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/info.json")
    assert status == 200
    assert headers["content-type"] == (
        'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
    )
    assert headers["access-control-allow-origin"] == "*"
    assert headers["link"] == '<http://iiif.io/api/image/3/level2.json>;rel="profile"'
    info = json.loads(body)
    assert next(iter(info)) == "@context"
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == f"{small_server}/iiif/3/{ISH_IMAGE}"
    assert (info["type"], info["protocol"], info["profile"]) == (
        "ImageService3",
        "http://iiif.io/api/image",
        "level2",
    )
    # the whole pixel file (image_width x image_height), not the 1100 x 800 bounding box
    assert (info["width"], info["height"]) == (1200, 900)
    assert (info["maxWidth"], info["maxHeight"], info["maxArea"]) == (4096, 4096, 2_000_000)
    assert [(s["width"], s["height"]) for s in info["sizes"]] == [
        (150, 113),
        (300, 225),
        (600, 450),
        (1200, 900),
    ]
    assert info["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}]
    assert info["extraQualities"] == ["color", "gray", "bitonal"]
    assert {"mirroring", "rotationArbitrary", "sizeUpscaling"} <= set(info["extraFeatures"])
    plain = fetch(
        f"{small_server}/iiif/3/{ISH_IMAGE}/info.json", headers={"Accept": "application/json"}
    )
    assert plain[2]["content-type"] == "application/json" and json.loads(plain[1]) == info
    head = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/info.json", "HEAD")
    assert (head[0], head[1]) == (200, b"")


def test_base_uri_redirects_to_info_and_preflight_allows_any_origin(small_server: str) -> None:
    status, _, headers = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}")
    assert status == 303
    assert headers["location"] == f"{small_server}/iiif/3/{ISH_IMAGE}/info.json"
    assert headers["access-control-allow-origin"] == "*"
    status, _, headers = fetch(
        f"{small_server}/iiif/3/{ISH_IMAGE}/full/max/0/default.jpg",
        "OPTIONS",
        {"Origin": "http://viewer", "Access-Control-Request-Headers": "if-none-match"},
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert "GET" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "if-none-match"


@pytest.mark.parametrize(
    ("region", "box"),
    [
        ("full", (0, 0, 1200, 900)),
        ("square", (150, 0, 900, 900)),  # centred along the longer side
        ("125,15,120,140", (125, 15, 120, 140)),
        ("1100,800,200,200", (1100, 800, 100, 100)),  # cropped at the image's edge
        ("pct:10,20,30,40", (120, 180, 360, 360)),
        ("pct:90,90,50,50", (1080, 810, 120, 90)),
    ],
)
def test_regions_are_the_pyramids_pixels(
    small_server: str, ish_levels: list[np.ndarray], region: str, box: tuple[int, int, int, int]
) -> None:
    x, y, w, h = box
    pixels = iiif(small_server, ISH_IMAGE, f"{region}/max/0/default.png")
    assert pixels.shape == (h, w, 3)
    assert mean_error(pixels, ish_levels[0][y : y + h, x : x + w]) < 0.5


@pytest.mark.parametrize(
    ("region", "status", "message"),
    [
        ("0,0,0,10", 400, "zero width or height"),
        ("1200,0,10,10", 400, "outside the 1200 x 900 image"),
        ("pct:0,100,10,10", 400, "outside"),
        ("1,2,3", 400, "needs 4 comma-separated numbers"),
    ],
)
def test_bad_regions(small_server: str, region: str, status: int, message: str) -> None:
    got, body, headers = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/{region}/max/0/default.jpg")
    assert (got, headers["access-control-allow-origin"]) == (status, "*")
    assert body.decode().startswith("region: ") and message in body.decode()


@pytest.mark.parametrize(
    ("size", "shape"),
    [
        ("max", (900, 1200)),
        ("300,", (225, 300)),
        (",225", (225, 300)),
        ("pct:25", (225, 300)),
        ("150,100", (100, 150)),  # distorted on request
        ("!500,500", (375, 500)),
        ("!5000,5000", (900, 1200)),  # confined, never upscaled without ^
        ("^max", (1224, 1632)),  # the largest within maxArea 2,000,000
        ("^1600,", (1200, 1600)),
        ("^,1000", (1000, 1333)),
        ("^pct:110", (990, 1320)),
        ("^!1500,1000", (1000, 1333)),
        ("^1300,950", (950, 1300)),
    ],
)
def test_size_forms(small_server: str, size: str, shape: tuple[int, int]) -> None:
    assert iiif(small_server, ISH_IMAGE, f"full/{size}/0/default.jpg").shape == (*shape, 3)


def test_sizes_at_a_scale_factor_are_that_level(
    small_server: str, ish_levels: list[np.ndarray]
) -> None:
    assert mean_error(iiif(small_server, ISH_IMAGE, "full/300,/0/default.png"), ish_levels[2]) < 0.5
    tile = iiif(small_server, ISH_IMAGE, "512,512,512,388/256,194/0/default.png")
    assert mean_error(tile, ish_levels[1][256:450, 256:512]) < 0.5
    # between levels: level 1 resampled; compare with 3 x 3 means of full resolution
    between = iiif(small_server, ISH_IMAGE, "full/400,/0/default.png").astype(float)
    means = ish_levels[0].reshape(300, 3, 400, 3, 3).mean(axis=(1, 3))
    assert between.shape == means.shape and np.abs(between - means).mean() < 4


def test_a_tile_is_the_download_services_bytes(small_server: str) -> None:
    tile = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/0,0,1024,768/256,192/0/default.jpg")[1]
    query = "downsample=2&left=0&top=0&width=256&height=192&quality=90"
    assert tile == fetch(f"{small_server}/api/v2/image_download/{ISH_IMAGE}?{query}")[1]


def test_upscaling_repeats_the_regions_pixels(
    small_server: str, ish_levels: list[np.ndarray]
) -> None:
    up = iiif(small_server, ISH_IMAGE, "600,300,100,80/^300,/0/default.png")
    assert up.shape == (240, 300, 3)
    back = up.reshape(80, 3, 100, 3, 3).mean(axis=(1, 3))
    assert mean_error(np.rint(back), ish_levels[0][300:380, 600:700]) < 4


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("1201,", "larger than the 1200 x 900 region; prefix the size with ^ to upscale"),
        ("pct:101", "above 100"),
        ("^2000,", "2000 x 1500 exceeds the limits (maxWidth and maxHeight 4096, maxArea 2000000)"),
        ("0,10", "less than one pixel"),
        ("10,10,10", "is not max"),
    ],
)
def test_bad_sizes(small_server: str, size: str, message: str) -> None:
    status, body, _ = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/full/{size}/0/default.jpg")
    assert status == 400 and body.decode().startswith("size: ") and message in body.decode()


def test_rotations_and_mirroring_move_pixels_exactly(
    small_server: str, ish_levels: list[np.ndarray]
) -> None:
    def get(rotation: str) -> np.ndarray:
        return iiif(small_server, ISH_IMAGE, f"100,50,300,200/max/{rotation}/default.png")

    upright = get("0")
    assert mean_error(upright, ish_levels[0][50:250, 100:400]) < 0.5
    assert np.array_equal(get("90"), np.rot90(upright, k=-1))  # clockwise: top row -> right
    assert np.array_equal(get("180"), np.rot90(upright, k=2))
    assert np.array_equal(get("270"), np.rot90(upright, k=1))
    assert np.array_equal(get("360"), upright)
    assert np.array_equal(get("!0"), upright[:, ::-1])  # mirrored on the vertical axis
    assert np.array_equal(get("!90"), np.rot90(upright[:, ::-1], k=-1))  # mirror, then rotate


def test_arbitrary_rotation(small_server: str) -> None:
    path = f"{small_server}/iiif/3/{ISH_IMAGE}/100,50,300,200/max/30/default"
    transparent = decode(fetch(path + ".png")[1])
    angle = math.radians(30)
    width = 300 * math.cos(angle) + 200 * math.sin(angle)
    height = 200 * math.cos(angle) + 300 * math.sin(angle)
    assert transparent.shape[2] == 4
    assert abs(transparent.shape[1] - width) <= 2 and abs(transparent.shape[0] - height) <= 2
    assert transparent[0, 0, 3] == 0 and transparent[-1, -1, 3] == 0  # corners outside
    centre = transparent[transparent.shape[0] // 2, transparent.shape[1] // 2]
    assert centre[3] == 255
    opaque = decode(fetch(path + ".jpg")[1])
    assert opaque.shape[2] == 3 and opaque[0, 0].max() < 12  # black corners in a JPEG
    mirrored = decode(fetch(path.replace("/30/", "/!30/") + ".png")[1])
    assert mirrored.shape == transparent.shape and not np.array_equal(mirrored, transparent)


def test_qualities(small_server: str) -> None:
    base = f"{small_server}/iiif/3/{ISH_IMAGE}/full/200,/0"
    colour = decode(fetch(f"{base}/default.png")[1])
    assert fetch(f"{base}/color.png")[1] == fetch(f"{base}/default.png")[1]
    gray = decode(fetch(f"{base}/gray.png")[1])
    assert gray.shape == (150, 200, 1) and 0 < (gray >= 128).mean() < 1
    luminance = np.floor(colour.astype(float) @ np.array([0.299, 0.587, 0.114]) + 0.5)
    assert np.abs(gray[..., 0] - luminance).max() <= 1
    assert decode(fetch(f"{base}/gray.jpg")[1]).shape == (150, 200, 1)
    bitonal = decode(fetch(f"{base}/bitonal.png")[1])[..., 0]
    assert set(np.unique(bitonal)) == {0, 255}
    assert np.array_equal(bitonal == 255, gray[..., 0] >= 128)


def test_formats(small_server: str) -> None:
    base = f"{small_server}/iiif/3/{ISH_IMAGE}/full/240,/0/default"
    status, jpeg, headers = fetch(f"{base}.jpg")
    assert (status, headers["content-type"]) == (200, "image/jpeg")
    assert simplejpeg.decode_jpeg(jpeg).shape == (180, 240, 3)
    status, png, headers = fetch(f"{base}.png")
    assert (status, headers["content-type"]) == (200, "image/png")
    assert png.startswith(b"\x89PNG") and decode(png).shape == (180, 240, 3)
    assert mean_error(decode(jpeg), decode(png)) < 2  # JPEG quality 90 of the same pixels


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("999999/full/max/0/default.jpg", 404, "no image with id 999999"),
        ("abc/full/max/0/default.jpg", 404, "no image with id abc"),
        ("999999/info.json", 404, "no image with id 999999"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?view=projection", 404, "has no projection mask"),
        (f"{ISH_IMAGE}/full/max/0/default.tif", 400, "format: 'tif' is not supported"),
        (f"{ISH_IMAGE}/full/max/0/default.webp", 400, "use jpg or png"),
        (f"{ISH_IMAGE}/full/max/0/sepia.jpg", 400, "quality: 'sepia' is not one of"),
        (f"{ISH_IMAGE}/full/max/-90/default.jpg", 400, "rotation: '-90'"),
        (f"{ISH_IMAGE}/full/max/400/default.jpg", 400, "rotation: 400 is outside 0..360"),
        (f"{ISH_IMAGE}/full/max/45/default.jpg", 400, "rotation: 45 turns the 1200 x 900 output"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?downsample=2", 400, "downsample: is not used"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?quality=50", 400, "JPEG quality is 90"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?range=1,2", 400, "range: needs 6"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?colormap=sepia", 400, "colormap"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?filter=gamma&filterVals=1", 400, "filter: unknown"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?filter=range", 400, "has no filterVals"),
        (f"{ISH_IMAGE}/full/max/0/default.jpg?filterVals=0,1", 400, "filterVals: has no filter="),
    ],
)
def test_errors_name_the_problem(small_server: str, path: str, status: int, message: str) -> None:
    got, body, headers = fetch(f"{small_server}/iiif/3/{path}")
    assert got == status and message in body.decode()
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("text/plain")


def test_etag_304_head_cors_and_canonical_link(small_server: str) -> None:
    url = f"{small_server}/iiif/3/{ISH_IMAGE}/pct:0,0,50,50/300,/0/default.jpg"
    status, body, headers = fetch(url)
    etag = headers["etag"]
    assert status == 200 and body and etag.startswith('"')
    assert headers["cache-control"] == "public, max-age=86400"
    assert headers["access-control-allow-origin"] == "*"
    canonical = f"{small_server}/iiif/3/{ISH_IMAGE}/0,0,600,450/300,225/0/default.jpg"
    assert headers["link"] == (
        f'<{canonical}>;rel="canonical", <http://iiif.io/api/image/3/level2.json>;rel="profile"'
    )
    not_modified = fetch(url, headers=match(etag))
    assert (not_modified[0], not_modified[1]) == (304, b"")
    assert not_modified[2]["access-control-allow-origin"] == "*"
    head = fetch(url, "HEAD")
    assert (head[0], head[1], head[2]["etag"], head[2]["content-type"]) == (
        200,
        b"",
        etag,
        "image/jpeg",
    )
    assert fetch(canonical)[2]["etag"] == etag  # equivalent forms are one resource
    assert fetch(canonical.replace("default.jpg", "default.png"))[2]["etag"] != etag
    assert fetch(canonical + "?colormap=jet")[2]["etag"] != etag
    upscaled = fetch(f"{small_server}/iiif/3/{ISH_IMAGE}/0,0,10,10/^20,/0/default.jpg")[2]
    assert "/0,0,10,10/%5E20,20/0/default.jpg>" in upscaled["link"]


@pytest.mark.parametrize(
    ("image_id", "iiif_path", "download_query", "filters"),
    [
        (
            CONNECTIVITY_IMAGE,
            "0,0,1000,700/250,/0/default.jpg",
            "downsample=2",
            "range=" + ",".join(map(str, RANGES)),
        ),
        (ISH_IMAGE, "10,20,1100,800/550,/0/default.jpg", "downsample=1", "colormap=jet"),
        (
            ISH_IMAGE,
            "full/600,/0/default.jpg",
            "downsample=1&left=0&top=0&width=600&height=450",
            "view=expression",
        ),
        (
            ATLAS_IMAGE,
            "full/400,/0/default.jpg",
            "downsample=1",
            "annotation=true&atlas=1&structure=315",
        ),
        (
            ISH_IMAGE,
            "256,256,256,256/256,256/0/default.jpg",
            "left=256&top=256&width=256&height=256",
            "rgb=1,0.5,0&contrast=0.7,0.6",
        ),
    ],
)
def test_filters_match_the_image_download_service(
    small_server: str, image_id: int, iiif_path: str, download_query: str, filters: str
) -> None:
    filtered = iiif(small_server, image_id, iiif_path, filters)
    expected = download(small_server, image_id, f"{download_query}&{filters}")
    assert mean_error(filtered, expected) < 0.5
    assert mean_error(iiif(small_server, image_id, iiif_path), expected) > 5  # they did change


def test_large_pngs_are_spooled_with_the_same_bytes(small_store: SmallStore) -> None:
    path = f"/iiif/3/{ATLAS_IMAGE}/full/max/90/default.png?annotation=true"
    app = create_app(small_store.store, limits=ImageLimits(buffer_pixels=1000))
    with BackgroundServer(app) as server:
        status, spooled, headers = fetch(server.url + path)
    with BackgroundServer(create_app(small_store.store)) as server:
        buffered = fetch(server.url + path)[1]
    assert status == 200 and int(headers["content-length"]) == len(spooled)
    assert np.array_equal(decode(spooled), decode(buffered))
    assert decode(spooled).shape == (800, 600, 3)


def test_sides_are_capped_at_what_a_jpeg_holds(small_store: SmallStore) -> None:
    """The default maxWidth (65535) is above libjpeg's 65500: IIIF advertises and enforces the
    lower one rather than fail while encoding."""
    with BackgroundServer(create_app(small_store.store)) as server:
        info = json.loads(fetch(f"{server.url}/iiif/3/{ISH_IMAGE}/info.json")[1])
        status, body, _ = fetch(f"{server.url}/iiif/3/{ISH_IMAGE}/0,0,1200,2/^65501,/0/default.jpg")
    assert (info["maxWidth"], info["maxHeight"]) == (65500, 65500)
    assert status == 400 and "65501 x 109 exceeds the limits (maxWidth and maxHeight 65500" in (
        body.decode()
    )


REGIONS = regions(1300, 11000)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("filter=range&filterVals=0,900,0,1000,0,4095", "range=0,900,0,1000,0,4095"),
        (
            "filter=colormap&filterVals=0.5,0,0,256,4&view=projection",
            "colormap=0.5,0,0,256,4&view=projection",
        ),
        (
            "filter=rgb&filterVals=1,0.5,0&filter=contrast&filterVals=0.6,0.5",
            "rgb=1,0.5,0&contrast=0.6,0.5",
        ),
    ],
)
@pytest.mark.parametrize("path", ["full/max/0/default.jpg", "0,0,512,512/256,/90/gray.png"])
def test_the_older_filter_form_is_read_among_the_filters(
    small_server: str, path: str, older: str, newer: str
) -> None:
    url = f"{small_server}/iiif/3/{CONNECTIVITY_IMAGE}/{path}"
    old_status, old_body, old_headers = fetch(f"{url}?{older}")
    new_status, new_body, new_headers = fetch(f"{url}?{newer}")
    assert old_status == new_status == 200, old_body[:200]
    assert old_body == new_body
    assert old_headers["etag"] == new_headers["etag"]
    assert old_headers["link"] == new_headers["link"]
    assert "filterVals" not in old_headers["link"]


SIZES = sizes(1, 400, 4000)
ROTATIONS = st.tuples(
    st.sampled_from(["", "!"]),
    st.one_of(
        st.sampled_from(["0", "90", "180", "270"]),
        st.integers(0, 36000).map(lambda v: f"{v / 100:g}"),
    ),
).map("".join)
FILTERS = st.sampled_from(
    ["", "colormap=jet", "range=0,900,0,1000,0,4095", "annotation=true", "view=expression"]
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([ISH_IMAGE, CONNECTIVITY_IMAGE, ATLAS_IMAGE]),
    REGIONS,
    SIZES,
    ROTATIONS,
    st.sampled_from(["default", "color", "gray", "bitonal"]),
    st.sampled_from(["jpg", "png"]),
    FILTERS,
)
def test_valid_urls_never_fail_the_server(
    small_server: str,
    image_id: int,
    region: str,
    size: str,
    rotation: str,
    quality: str,
    image_format: str,
    filters: str,
) -> None:
    url = f"{small_server}/iiif/3/{image_id}/{region}/{size}/{rotation}/{quality}.{image_format}"
    status, body, _ = fetch(f"{url}?{filters}")
    assert status in (200, 400, 404), (status, body[:200])
    if status == 200:
        assert decode(body).shape[0] >= 1


def test_one_pixel_wide_annotated_plates(small_server: str) -> None:
    """Boundaries of a plate one pixel wide compare each pixel with itself (libvips refused the
    shift before: a 500 from both services)."""
    plate = iiif(small_server, ATLAS_IMAGE, "full/1,/0/default.png", "annotation=true")
    assert plate.shape == (1, 1, 3)
    column = download(small_server, ATLAS_IMAGE, "annotation=true&width=1&height=5")
    assert column.shape == (5, 1, 3)


def test_regions_in_the_last_partial_pixel_of_a_level(small_server: str) -> None:
    """Level 3 of a 900-pixel-high image is 112 pixels high: rows 896-899 have no pixel of their
    own there (both services crashed reading past the level before)."""
    edge = iiif(small_server, ISH_IMAGE, "0,896,8,4/1,/0/default.jpg")
    assert edge.shape == (1, 1, 3)
    strip = download(small_server, ISH_IMAGE, "downsample=3&left=0&top=896&width=10&height=1")
    assert strip.shape == (1, 10, 3)
