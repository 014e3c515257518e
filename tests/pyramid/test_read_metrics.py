"""`/metrics` of a real server on loopback counts the object-store requests a remote pyramid
makes exactly as the S3 server (moto) saw them, their bytes and time, and the lookups in the
caches of opened pyramids and decoded tiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_remote import PIXELS, byte_range, upload

from brainmap.pyramid.remote import open_remote
from brainmap.pyramid.tiles import TILE_CACHE
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from s3_server import S3Server
from scraped import moved, samples
from small_store import SmallStore


@pytest.fixture(scope="module")
def server(small_store: SmallStore) -> Iterator[str]:
    """A server whose `/metrics` shows what this process read (it serves nothing itself)."""
    with BackgroundServer(create_app(small_store.store)) as running:
        yield running.url


def test_object_store_reads_are_counted_as_the_store_saw_them(
    server: str, bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    path = tmp_path / "rgb.tif"
    write_pyramid(PIXELS[PyramidKind.RGB8], path, PyramidKind.RGB8)
    url = upload(path, bucket)
    TILE_CACHE.clear()
    seen = len(s3_server.requests)
    before = samples(server)
    pyramid = open_remote(url)
    opened = len(s3_server.requests)
    pyramid.read_region(0, 0, 0, 1300, 900)  # every tile of the first level: 6 x 4, together
    assert open_remote(url) is pyramid
    after = samples(server)

    heads = [seen for seen in s3_server.requests[seen:] if seen.method == "HEAD"]
    index_reads = opened - seen - len(heads)
    tile_gets = s3_server.requests[opened:]
    assert (len(heads), len(tile_gets)) == (1, 1)  # 24 tiles written together: one GET
    requests = "brainmap_object_store_requests_total"
    assert moved(before, after, requests, kind="info") == 1
    assert moved(before, after, requests, kind="index") == index_reads > 0
    assert moved(before, after, requests, kind="tiles") == 1
    assert pyramid.tiles is not None
    tile_bytes = sum(pyramid.tiles.decoded_level(0).counts)
    asked = sum(end - start for start, end in map(byte_range, tile_gets))
    assert (
        moved(before, after, "brainmap_object_store_read_bytes_total", kind="tiles")
        == asked
        == tile_bytes
    )
    assert moved(before, after, "brainmap_object_store_read_bytes_total", kind="index") > 0
    calls = "brainmap_object_store_read_duration_seconds_count"
    assert moved(before, after, calls, kind="tiles") == 1  # one call, its GETs 8 at a time
    assert moved(before, after, calls, kind="index") == index_reads
    for kind in ("info", "index", "tiles"):
        assert (
            moved(before, after, "brainmap_object_store_read_duration_seconds_sum", kind=kind) > 0
        )
    assert moved(before, after, "brainmap_cache_misses_total", cache="remote_pyramids") == 1
    assert moved(before, after, "brainmap_cache_hits_total", cache="remote_pyramids") == 1
    assert moved(before, after, "brainmap_cache_misses_total", cache="tiles") == 24
    assert moved(before, after, "brainmap_cache_hits_total", cache="tiles") == 0

    pyramid.read_region(0, 300, 200, 400, 300)  # 2 x 2 tiles, all decoded already
    again = samples(server)
    assert len(s3_server.requests) == opened + 1
    assert moved(after, again, "brainmap_cache_hits_total", cache="tiles") == 4
    assert moved(after, again, "brainmap_cache_misses_total", cache="tiles") == 0
    assert moved(after, again, requests, kind="tiles") == 0

    TILE_CACHE.clear()
    sent = len(s3_server.requests)
    pyramid.read_region(0, 0, 0, 600, 300)  # 3 x 2 tiles, 3 small ones between the rows
    last = samples(server)
    gap_gets = s3_server.requests[sent:]
    asked = sum(end - start for start, end in map(byte_range, gap_gets))
    wanted = sum(pyramid.tiles.decoded_level(0).counts[tile] for tile in (0, 1, 2, 6, 7, 8))
    assert moved(again, last, requests, kind="tiles") == len(gap_gets) == 1
    read = moved(again, last, "brainmap_object_store_read_bytes_total", kind="tiles")
    assert read == asked > wanted  # the gap read and dropped is counted


def test_a_level_streamed_by_libvips_counts_its_reads(
    server: str, bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    path = tmp_path / "rgb.tif"
    write_pyramid(PIXELS[PyramidKind.RGB8], path, PyramidKind.RGB8)
    pyramid = open_remote(upload(path, bucket))
    seen = len(s3_server.requests)
    before = samples(server)
    pyramid.level(0).crop(100, 200, 700, 500).numpy()  # as a region too large to decode is read
    after = samples(server)
    gets = s3_server.requests[seen:]
    assert gets and all(seen.method == "GET" and seen.range for seen in gets)
    requests = "brainmap_object_store_requests_total"
    assert moved(before, after, requests, kind="stream") == len(gets)
    assert moved(before, after, "brainmap_object_store_read_bytes_total", kind="stream") > 0
    assert moved(before, after, requests, kind="tiles") == 0
