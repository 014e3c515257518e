"""`/metrics` counts the work behind the responses, over a real server on loopback: renders,
the lookups in the response, pyramid and tile caches, database statement time; and with
``PROMETHEUS_MULTIPROC_DIR`` the sums over the processes of ``serve --workers 2``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_metrics import QUERY, serving_workers

from brainmap.pyramid.tiles import TILE_CACHE
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from loopback import request
from scraped import Samples, moved, samples
from small_store import ATLAS_IMAGE, ISH_IMAGE, SmallStore

IMAGE = f"/api/v2/section_image_download/{ISH_IMAGE}?downsample=2"
RENDERS = "brainmap_render_duration_seconds_count"
HITS, MISSES = "brainmap_cache_hits_total", "brainmap_cache_misses_total"


@pytest.fixture(scope="module")
def server(small_store: SmallStore) -> Iterator[str]:
    """A server of its own: its response cache starts empty."""
    with BackgroundServer(create_app(small_store.store)) as running:
        yield running.url


def lookups(before: Samples, after: Samples, cache: str) -> tuple[float, float]:
    """The hits and misses of `cache` between two readings."""
    return moved(before, after, HITS, cache=cache), moved(before, after, MISSES, cache=cache)


def test_a_render_is_timed_and_its_repeat_comes_from_the_cache(server: str) -> None:
    TILE_CACHE.clear()
    first = samples(server)
    assert request(f"{server}{IMAGE}").status == 200
    rendered = samples(server)
    assert moved(first, rendered, RENDERS, media_type="image/jpeg") == 1
    assert moved(first, rendered, "brainmap_render_duration_seconds_sum", media_type="image/jpeg")
    assert lookups(first, rendered, "responses") == (0, 1)
    assert sum(lookups(first, rendered, "pyramids")) >= 1
    tile_hits, tile_misses = lookups(first, rendered, "tiles")
    assert (tile_hits, tile_misses > 0) == (0, True)

    assert request(f"{server}{IMAGE}").status == 200
    again = samples(server)
    assert lookups(rendered, again, "responses") == (1, 0)
    assert moved(rendered, again, RENDERS, media_type="image/jpeg") == 0
    assert lookups(rendered, again, "tiles") == (0, 0)

    # another encoding of the same pixels: a new response, from the tiles already decoded
    assert request(f"{server}{IMAGE}&quality=50").status == 200
    reencoded = samples(server)
    assert lookups(again, reencoded, "responses") == (0, 1)
    assert lookups(again, reencoded, "tiles") == (tile_misses, 0)
    assert moved(again, reencoded, RENDERS, media_type="image/jpeg") == 1


def test_each_output_format_is_timed_under_its_media_type(server: str) -> None:
    before = samples(server)
    assert request(f"{server}/iiif/3/{ISH_IMAGE}/full/max/0/default.png").status == 200
    after = samples(server)
    assert moved(before, after, RENDERS, media_type="image/png") == 1
    assert moved(before, after, RENDERS, media_type="image/jpeg") == 0


def test_an_svg_drawing_is_timed(server: str) -> None:
    before = samples(server)
    reply = request(f"{server}/api/v2/svg/{ATLAS_IMAGE}")
    assert reply.status == 200, reply.body
    after = samples(server)
    assert moved(before, after, RENDERS, media_type="image/svg+xml") == 1


def test_an_rma_query_moves_database_time(rma_server: str) -> None:
    before = samples(rma_server)
    assert request(f"{rma_server}{QUERY}").status == 200
    after = samples(rma_server)
    statements = "brainmap_db_statement_duration_seconds"
    assert moved(before, after, f"{statements}_count", kind="select") >= 1
    assert moved(before, after, f"{statements}_sum", kind="select") > 0
    assert moved(before, after, f"{statements}_count", kind="insert") == 0


def test_worker_processes_sum_their_renders_and_lookups(
    small_store: SmallStore, tmp_path: Path
) -> None:
    """Each process renders the image once and then answers it from its own response cache:
    two misses can only be the sum over both processes."""
    with serving_workers(small_store.store.root, tmp_path) as base:
        before = after = samples(base)
        images = 0
        while lookups(before, after, "responses")[1] < 2 and images < 200:
            assert request(f"{base}{IMAGE}").status == 200  # a new connection: either process
            images += 1
            after = samples(base)
    assert lookups(before, after, "responses") == (images - 2, 2)
    assert moved(before, after, RENDERS, media_type="image/jpeg") == 2
    assert moved(before, after, "brainmap_db_statement_duration_seconds_count", kind="select")
    assert any(tmp_path.glob("histogram_*.db"))  # the counts went through the shared folder
