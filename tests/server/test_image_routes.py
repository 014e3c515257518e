"""The image endpoints, over loopback against the real server on the small store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simplejpeg
from sqlalchemy import Engine, event

from brainmap.imaging.annotate import PlatePalette
from brainmap.pyramid.local import Pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.response_cache import ResponseCache
from brainmap.server.state import ImageLimits, server_state
from brainmap.store import pixels
from brainmap.store.schema import Structure
from each_database import (  # noqa: F401 - the small store's fixtures over each database
    small_server_each_database,
    small_store_each_database,
)
from loopback import fetch, image, match
from small_store import (
    ATLAS_IMAGE,
    CONNECTIVITY_IMAGE,
    ISH_IMAGE,
    RANGES,
    STRUCTURE_COLOURS,
    SmallStore,
)

ENDPOINTS = (
    "section_image_download",
    "atlas_image_download",
    "projection_image_download",
    "image_download",
)


def mean_error(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(actual.astype(int) - expected.astype(int)).mean())


def test_default_is_the_bounding_box_at_full_resolution(
    small_server: str, small_store: SmallStore
) -> None:
    pixels = image(small_server, ISH_IMAGE)
    assert pixels.shape == (800, 1100, 3)
    assert mean_error(pixels, small_store.ish[20:820, 10:1110]) < 6


def test_all_four_endpoints_are_one_service(small_server: str) -> None:
    bodies = {
        fetch(f"{small_server}/api/v2/{name}/{ISH_IMAGE}?downsample=3")[1] for name in ENDPOINTS
    }
    assert len(bodies) == 1


@pytest.mark.parametrize(
    ("downsample", "size"), [(1, (400, 550)), (2, (200, 275)), (3, (100, 137)), (9, (100, 137))]
)
def test_downsample_sizes(small_server: str, downsample: int, size: tuple[int, int]) -> None:
    assert image(small_server, ISH_IMAGE, f"downsample={downsample}").shape[:2] == size


def test_region_of_interest(small_server: str, small_store: SmallStore) -> None:
    pixels = image(small_server, ISH_IMAGE, "left=300&top=200&width=120&height=80")
    assert pixels.shape == (80, 120, 3)
    assert mean_error(pixels, small_store.ish[200:280, 300:420]) < 6
    clipped = image(small_server, ISH_IMAGE, "downsample=1&left=1000&top=800&width=500&height=500")
    assert clipped.shape == (50, 100, 3)


def test_expression_mask_by_either_spelling(small_server: str, small_store: SmallStore) -> None:
    by_view = image(small_server, ISH_IMAGE, "downsample=1&view=expression")
    by_flag = image(
        small_server, ISH_IMAGE, "downsample=1&expression=true", "section_image_download"
    )
    assert np.array_equal(by_view, by_flag)
    assert by_view[200, 300].tolist() == pytest.approx([255, 200, 0], abs=12)  # inside the mask
    assert by_view[10, 10].tolist() == pytest.approx([0, 0, 0], abs=12)


def test_connectivity_windowed_with_its_ranges(small_server: str, small_store: SmallStore) -> None:
    query = "range=" + ",".join(map(str, RANGES))
    pixels = image(small_server, CONNECTIVITY_IMAGE, query, "projection_image_download")
    source = small_store.connectivity.astype(float)
    expected = np.empty(source.shape)
    for c in range(3):
        lo, hi = RANGES[2 * c], RANGES[2 * c + 1]
        expected[..., c] = np.clip(np.rint((source[..., c] - lo) * 255 / (hi - lo)), 0, 255)
    # JPEG of random noise: compare a smooth statistic per channel and half
    for half in (slice(0, 500), slice(500, 1000)):
        assert (
            np.abs(pixels[:, half].mean(axis=(0, 1)) - expected[:, half].mean(axis=(0, 1))).max()
            < 4
        )


def test_projection_mask(small_server: str, small_store: SmallStore) -> None:
    pixels = image(small_server, CONNECTIVITY_IMAGE, "projection=true&downsample=1")
    assert pixels.shape == (350, 500, 3)


def test_annotation_colours_the_label_map(small_server: str) -> None:
    nissl = image(small_server, ATLAS_IMAGE, "annotation=false", "atlas_image_download")
    assert nissl[300, 200].tolist() == pytest.approx([200, 200, 200], abs=6)
    plate = image(small_server, ATLAS_IMAGE, "annotation=true&atlas=1", "atlas_image_download")
    assert plate[300, 200].tolist() == pytest.approx([0x70, 0xFF, 0x71], abs=12)
    assert plate[300, 600].tolist() == pytest.approx([0xFF, 0x70, 0x80], abs=12)
    assert plate[20, 20].tolist() == pytest.approx([255, 255, 255], abs=6)
    default_atlas = image(small_server, ATLAS_IMAGE, "annotation=true", "atlas_image_download")
    assert np.array_equal(default_atlas, plate)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("image_download/999999", 404, "no image with id 999999"),
        ("image_download/abc", 404, ""),
        (f"image_download/{ISH_IMAGE}?view=projection", 404, "has no projection mask"),
        (
            f"atlas_image_download/{ATLAS_IMAGE}?annotation=true&atlas=7",
            404,
            "no annotation for atlas 7",
        ),
        (f"image_download/{ISH_IMAGE}?annotation=true", 404, "has no annotation"),
        (f"image_download/{ISH_IMAGE}?downsample=-2", 400, "downsample"),
        (f"image_download/{ISH_IMAGE}?quality=high", 400, "quality"),
        (f"image_download/{ISH_IMAGE}?left=5000", 400, "outside"),
        (f"image_download/{ISH_IMAGE}?view=expression&projection=true", 400, "choose one"),
    ],
)
def test_errors(small_server: str, path: str, status: int, message: str) -> None:
    got_status, body, _ = fetch(f"{small_server}/api/v2/{path}")
    assert got_status == status
    assert message in body.decode()


OLDER_FORMS = [
    # (image, older form, the same request with name=values)
    (
        CONNECTIVITY_IMAGE,
        "filter=range&filterVals=0,2000,0,2000,0,4095",
        "range=0,2000,0,2000,0,4095",
    ),
    (
        ISH_IMAGE,
        "downsample=2&filter=colormap&filterVals=0.5,0,0,256,4",
        "downsample=2&colormap=0.5,0,0,256,4",
    ),
    (ISH_IMAGE, "filter=rgb&filterVals=1,0.5,0.25&downsample=3", "rgb=1,0.5,0.25&downsample=3"),
    (
        ISH_IMAGE,
        "downsample=3&filter=contrast&filterVals=0.7,0.4&quality=80",
        "downsample=3&contrast=0.7,0.4&quality=80",
    ),
    (
        CONNECTIVITY_IMAGE,
        "downsample=1&filter=range&filterVals=0,900,0,1000,0,4095&filter=colormap&filterVals=jet",
        "downsample=1&range=0,900,0,1000,0,4095&colormap=jet",
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("image_id", "older", "newer"), OLDER_FORMS)
def test_the_older_filter_form_answers_the_same_bytes(
    small_server: str, endpoint: str, image_id: int, older: str, newer: str
) -> None:
    base = f"{small_server}/api/v2/{endpoint}/{image_id}"
    old_status, old_body, old_headers = fetch(f"{base}?{older}")
    new_status, new_body, new_headers = fetch(f"{base}?{newer}")
    assert old_status == new_status == 200, old_body[:200]
    assert old_body == new_body
    assert old_headers["etag"] == new_headers["etag"]
    assert fetch(f"{base}?{older}", headers=match(new_headers["etag"]))[0] == 304
    assert old_body != fetch(base + "?downsample=3")[1]  # the filter does change the pixels


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter=gamma&filterVals=2", "filter: unknown filter 'gamma'"),
        ("filter=range", "filter: filter=range has no filterVals"),
        ("filterVals=0,1,0,1,0,1", "filterVals: has no filter= before it"),
        ("range=0,9,0,9,0,9&filter=range&filterVals=0,1,0,1,0,1", "range: given both"),
        ("filter=range&filterVals=0,1,0,1", "range: needs 6"),
    ],
)
def test_older_filter_form_errors(small_server: str, query: str, message: str) -> None:
    for endpoint in ENDPOINTS:
        status, body, _ = fetch(f"{small_server}/api/v2/{endpoint}/{ISH_IMAGE}?{query}")
        assert status == 400 and body.decode().startswith(message), (endpoint, body)


def test_head_has_no_body(small_server: str) -> None:
    status, body, headers = fetch(
        f"{small_server}/api/v2/image_download/{ISH_IMAGE}?downsample=4", "HEAD"
    )
    assert (status, body, headers["content-type"]) == (200, b"", "image/jpeg")


def test_too_large_output_is_413_saying_how_to_tile(small_store: SmallStore) -> None:
    app = create_app(small_store.store, limits=ImageLimits(max_pixels=10_000, max_side=4096))
    with BackgroundServer(app) as server:
        status, body, _ = fetch(f"{server.url}/api/v2/image_download/{ISH_IMAGE}?downsample=2")
    assert status == 413
    assert "tile it into" in body.decode()


def test_etag_cache_control_and_304(small_server: str) -> None:
    url = f"{small_server}/api/v2/image_download/{ISH_IMAGE}?downsample=2"
    status, body, headers = fetch(url)
    etag = headers["etag"]
    assert status == 200 and body and etag.startswith('"')
    assert headers["cache-control"] == "public, max-age=86400"
    assert fetch(url, headers=match(etag))[:2] == (304, b"")
    assert fetch(url, headers=match(f'"other", W/{etag}'))[0] == 304
    assert fetch(url, headers=match('"other"'))[0] == 200
    assert fetch(url + "&quality=50")[2]["etag"] != etag
    assert fetch(url, "HEAD")[2]["etag"] == etag
    annotated = f"{small_server}/api/v2/image_download/{ATLAS_IMAGE}?annotation=true"
    highlighted = fetch(annotated + "&structure=315")[2]["etag"]
    assert fetch(annotated)[2]["etag"] not in (etag, highlighted)


def test_large_outputs_are_spooled_with_the_same_pixels(small_store: SmallStore) -> None:
    query = f"/api/v2/image_download/{ATLAS_IMAGE}?annotation=true&quality=80"
    app = create_app(small_store.store, limits=ImageLimits(buffer_pixels=1000))
    with BackgroundServer(app) as server:
        status, spooled, headers = fetch(server.url + query)
    with BackgroundServer(create_app(small_store.store)) as server:
        buffered = fetch(server.url + query)[1]
    assert status == 200
    assert int(headers["content-length"]) == len(spooled)
    # libvips streams the spooled JPEG, libjpeg-turbo encodes the buffered one (render.py):
    # the same pixels and settings, rounded apart by at most a few levels
    spooled_pixels, buffered_pixels = (
        simplejpeg.decode_jpeg(spooled),
        simplejpeg.decode_jpeg(buffered),
    )
    assert spooled_pixels.shape == buffered_pixels.shape
    assert mean_error(spooled_pixels, buffered_pixels) < 1.0


def test_response_cache_is_bounded_in_bytes() -> None:
    cache = ResponseCache(capacity=800)
    for index in range(10):
        cache.keep(f'"{index}"', bytes(100))
    assert cache.currsize <= 800 and cache.get('"0"') is None and cache.get('"9"') == bytes(100)
    cache.keep('"big"', bytes(101))  # above an eighth of the capacity: never kept
    assert cache.get('"big"') is None
    assert set(cache) == {f'"{index}"' for index in range(2, 10)}  # the two oldest went


def test_repeated_requests_are_served_from_the_cache(small_store: SmallStore) -> None:
    app = create_app(small_store.store)
    kept = server_state(app).responses
    with BackgroundServer(app) as server:
        url = f"{server.url}/api/v2/image_download/{ISH_IMAGE}?downsample=1&quality=70"
        _, first, headers = fetch(url)
        second = fetch(url)[1]
        assert kept[headers["etag"]] == first
        kept[headers["etag"]] = b"the kept body"  # what a request answered by the cache gets
        third = fetch(url)[1]
    assert first == second
    assert third == b"the kept body"
    uncached = create_app(small_store.store, limits=ImageLimits(cache_bytes=0))
    with BackgroundServer(uncached) as server:
        assert (
            fetch(f"{server.url}/api/v2/image_download/{ISH_IMAGE}?downsample=1&quality=70")[1]
            == first
        )
    assert server_state(uncached).responses.currsize == 0


PLATE = f"/api/v2/atlas_image_download/{ATLAS_IMAGE}?annotation=true"


@contextmanager
def graph_reads(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements reading structures, as the engine runs them."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM structures" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@pytest.fixture()
def plate_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per plate palette built, each build still done by `PlatePalette.build`."""
    builds: list[int] = []
    build = PlatePalette.build

    def counted(*args: Any, **kwargs: Any) -> PlatePalette:
        builds.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(PlatePalette, "build", counted)
    return builds


def test_plates_build_palettes_once_and_only_to_render(
    small_store: SmallStore, plate_builds: list[int]
) -> None:
    with (
        BackgroundServer(create_app(small_store.store)) as server,
        graph_reads(small_store.store.engine) as reads,
    ):
        status, body, headers = fetch(f"{server.url}{PLATE}&downsample=1")
        assert (status, len(reads), len(plate_builds)) == (200, 1, 1)
        revalidated = fetch(f"{server.url}{PLATE}&downsample=1", headers=match(headers["etag"]))
        assert revalidated[0] == 304
        assert fetch(f"{server.url}{PLATE}&downsample=1")[1] == body  # the response cache's
        assert (len(reads), len(plate_builds)) == (3, 1)  # one colour query a request
        assert fetch(f"{server.url}{PLATE}&downsample=2")[0] == 200  # rendered, same palette
        assert fetch(f"{server.url}{PLATE}&downsample=2&structure=315")[0] == 200  # highlighted
    assert (len(reads), len(plate_builds)) == (5, 2)


def test_a_recoloured_structure_changes_plates_under_a_running_server(
    small_store: SmallStore,
) -> None:
    store = small_store.store
    with BackgroundServer(create_app(store)) as server:
        status, before, headers = fetch(f"{server.url}{PLATE}")
        assert status == 200
        with store.session() as session:
            session.get_one(Structure, 315).color_hex_triplet = "0000FE"
        try:
            status, after, changed = fetch(f"{server.url}{PLATE}", headers=match(headers["etag"]))
            assert status == 200  # the old validator no longer matches
            assert changed["etag"] != headers["etag"] and after != before
        finally:
            with store.session() as session:
                session.get_one(Structure, 315).color_hex_triplet = STRUCTURE_COLOURS[315]
        assert fetch(f"{server.url}{PLATE}")[1] == before


def test_a_fresh_server_answers_a_304_without_building_a_palette(
    small_store: SmallStore, plate_builds: list[int]
) -> None:
    with BackgroundServer(create_app(small_store.store)) as server:
        etag = fetch(f"{server.url}{PLATE}")[2]["etag"]
    with BackgroundServer(create_app(small_store.store)) as server:
        assert fetch(f"{server.url}{PLATE}", headers=match(etag))[0] == 304
    assert len(plate_builds) == 1


def test_a_304_or_a_cached_body_opens_no_pyramid(
    small_store: SmallStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    real_open = pixels.open_pyramid

    def counted(path: Path) -> Pyramid:
        opened.append(path)
        return real_open(path)

    monkeypatch.setattr(pixels, "open_pyramid", counted)
    with BackgroundServer(create_app(small_store.store)) as server:
        url = f"{server.url}/api/v2/image_download/{ISH_IMAGE}?downsample=4"
        status, body, headers = fetch(url)
        assert (status, len(opened)) == (200, 1)
        assert fetch(url, headers=match(headers["etag"]))[0] == 304
        assert fetch(url)[1] == body  # the response cache's
        assert fetch(url, "HEAD")[0] == 200
    assert len(opened) == 1
