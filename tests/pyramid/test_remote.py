"""Pyramids read from object storage (moto's S3 on loopback): the same pixels as from a local
file, the tile index read once, tiles that lie together fetched in one ranged GET and the GETs
sent concurrently, damage named alike."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import fsspec
import numpy as np
import pytest
import pyvips
import tifffile
from test_damaged import scramble_first_tile

from brainmap.geometry import ImageExtent, plan_region
from brainmap.imaging import render
from brainmap.pyramid import remote
from brainmap.pyramid.local import Pyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.remote import (
    FETCHES,
    MERGE_GAP,
    RemotePyramid,
    fetch_ranges,
    joined_reads,
    open_remote,
)
from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.tiles import TILE_CACHE
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from s3_server import S3Server, Seen

WIDTH, HEIGHT = 1300, 900
RNG = np.random.default_rng(14)


def smooth_rgb() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([x % 256, y % 256, (x ^ y) % 256], axis=2).astype(np.uint8)


PIXELS = {
    PyramidKind.RGB8: smooth_rgb(),
    PyramidKind.LOSSLESS: RNG.integers(0, 65536, (HEIGHT, WIDTH, 3), dtype=np.uint16),
    PyramidKind.LABELS: RNG.integers(0, 2**32, (HEIGHT, WIDTH), dtype=np.uint32),
}


def upload(path: Path, bucket: str, data: bytes | None = None) -> str:
    """Put `data` (the file at `path` when None) in `bucket` under the file's name: its URL."""
    url = f"s3://{bucket}/pyramids/{path.name}"
    fsspec.filesystem("s3").pipe(url, path.read_bytes() if data is None else data)
    return url


def key(url: str) -> str:
    return "/" + url.removeprefix("s3://")


@pytest.fixture()
def rgb(tmp_path: Path) -> Path:
    path = tmp_path / "rgb.tif"
    write_pyramid(PIXELS[PyramidKind.RGB8], path, PyramidKind.RGB8)
    return path


@pytest.mark.parametrize("kind", list(PIXELS))
def test_regions_are_the_pixels_of_the_local_file(
    kind: PyramidKind, tmp_path: Path, bucket: str
) -> None:
    path = tmp_path / f"{kind.value}.tif"
    write_pyramid(PIXELS[kind], path, kind)
    local, far = Pyramid(path), RemotePyramid(upload(path, bucket))
    assert far.tiles is not None
    assert far.levels == local.levels == tier_count(WIDTH, HEIGHT) == 4
    TILE_CACHE.clear()
    for level in range(far.levels):
        size = far.level_format(level)
        assert size == local.level_format(level)
        boxes = [(0, 0, size.width, size.height), (size.width // 3, size.height // 5, 37, 29)]
        for box in boxes:
            np.testing.assert_array_equal(
                far.read_region(level, *box), local.read_region(level, *box)
            )
    # streamed by libvips, as a region too large to decode at once is
    crop = (100, 200, 700, 500)
    np.testing.assert_array_equal(
        far.level(0).crop(*crop).numpy(), local.level(0).crop(*crop).numpy()
    )
    # as the server draws it: downsample 2 of a box, resampled from level 1
    extent = ImageExtent(0, 0, WIDTH, HEIGHT, WIDTH, HEIGHT, 4)
    plan = plan_region(extent, downsample=2, left=300, top=100, width=800, height=600)
    nearest = kind is PyramidKind.LABELS
    drawn = [render.read_region(reader, plan, nearest=nearest).numpy() for reader in (far, local)]
    np.testing.assert_array_equal(*drawn)


def test_a_layout_not_read_directly_is_streamed_by_libvips(tmp_path: Path, bucket: str) -> None:
    path = tmp_path / "strips.tif"
    pyvips.Image.new_from_array(PIXELS[PyramidKind.LOSSLESS]).tiffsave(str(path), compression="lzw")
    local, far = Pyramid(path), RemotePyramid(upload(path, bucket))
    assert far.tiles is None
    assert far.levels == local.levels == 1
    assert far.level_format(0) == local.level_format(0)
    np.testing.assert_array_equal(
        far.read_region(0, 10, 20, 300, 200), PIXELS[PyramidKind.LOSSLESS][20:220, 10:310]
    )


def test_the_tile_index_is_read_once(rgb: Path, bucket: str, s3_server: S3Server) -> None:
    url = upload(rgb, bucket)
    opened = open_remote(url)
    index_reads = len(s3_server.gets(key(url)))
    assert 0 < index_reads <= 2 * opened.levels  # small blocks: every level's tags, not the tiles
    assert open_remote(url) is opened
    TILE_CACHE.clear()
    region = opened.read_region(0, 200, 200, 600, 300)  # tiles 0..3 across, 0..1 down: 8 tiles
    ranged = s3_server.gets(key(url))[index_reads:]
    assert len(ranged) == 1  # small JPEG tiles, written together: one GET
    assert all(seen.range is not None for seen in ranged)
    # the decoded tiles are kept: the same region again asks nothing
    np.testing.assert_array_equal(open_remote(url).read_region(0, 200, 200, 600, 300), region)
    assert len(s3_server.gets(key(url))) == index_reads + 1


def test_an_object_replaced_is_opened_again(
    rgb: Path, bucket: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = upload(rgb, bucket)
    before = open_remote(url)
    monkeypatch.setattr(remote, "REVALIDATE_SECONDS", 0.0)
    reads = len(s3_server.gets(key(url)))
    assert open_remote(url) is before  # asked again (a HEAD), unchanged: not read again
    assert len(s3_server.gets(key(url))) == reads
    labels = PIXELS[PyramidKind.LABELS][:300, :400]
    write_pyramid(labels, rgb, PyramidKind.LABELS)
    upload(rgb, bucket)
    after = open_remote(url)
    assert after is not before and after.levels == 2
    np.testing.assert_array_equal(after.read_region(0, 0, 0, 400, 300)[..., 0], labels)


def test_a_region_that_fails_asks_again_at_once(rgb: Path, bucket: str) -> None:
    url = upload(rgb, bucket)
    before = open_remote(url)
    labels = PIXELS[PyramidKind.LABELS]
    write_pyramid(labels, rgb, PyramidKind.LABELS)
    upload(rgb, bucket)  # replaced within REVALIDATE_SECONDS: the old index, the new bytes
    TILE_CACHE.clear()
    with pytest.raises(DamagedPyramid, match="does not decode"):
        open_remote(url).read_region(0, 0, 0, 500, 300)
    after = open_remote(url)
    assert after is not before
    np.testing.assert_array_equal(after.read_region(0, 0, 0, 500, 300)[..., 0], labels[:300, :500])


def test_a_region_that_fails_in_an_unchanged_object_asks_once(
    rgb: Path, bucket: str, s3_server: S3Server
) -> None:
    scramble_first_tile(rgb)
    url = upload(rgb, bucket)

    def asked() -> int:
        return sum(seen.path == key(url) for seen in s3_server.requests)

    with pytest.raises(DamagedPyramid, match="does not decode"):
        open_remote(url).read_region(0, 0, 0, 200, 200)
    before = asked()
    opened = open_remote(url)  # asked again at once: unchanged, so the same pyramid
    assert asked() == before + 1
    assert open_remote(url) is opened  # trusted again: no request until REVALIDATE_SECONDS
    assert asked() == before + 1


def byte_range(seen: Seen) -> tuple[int, int]:
    """The (start, end) of bytes a ranged GET asked for."""
    assert seen.range is not None
    first, last = seen.range.removeprefix("bytes=").split("-")
    return int(first), int(last) + 1


@pytest.fixture()
def lossless(tmp_path: Path) -> Path:
    path = tmp_path / "lossless.tif"  # tiles of about 384 KiB, each row's written together
    write_pyramid(PIXELS[PyramidKind.LOSSLESS], path, PyramidKind.LOSSLESS)
    return path


@pytest.mark.parametrize(
    ("kind", "gets"),
    # 4 x 3 tiles; large tiles: one GET a row (the other rows' tiles lie between); small JPEG
    # tiles: the 2 tiles between rows are fewer than MERGE_GAP bytes, so one GET
    [(PyramidKind.LOSSLESS, 3), (PyramidKind.LABELS, 3), (PyramidKind.RGB8, 1)],
)
def test_the_tiles_of_a_region_come_in_few_gets(
    kind: PyramidKind, gets: int, tmp_path: Path, bucket: str, s3_server: S3Server
) -> None:
    path = tmp_path / f"{kind.value}.tif"
    write_pyramid(PIXELS[kind], path, kind)
    url = upload(path, bucket)
    far, local = RemotePyramid(url), Pyramid(path)
    assert far.tiles is not None
    tiled = far.tiles.decoded_level(0)
    tiles = [row * tiled.across + column for row in range(3) for column in range(4)]
    TILE_CACHE.clear()
    seen = len(s3_server.gets(key(url)))
    region = far.read_region(0, 0, 0, 1000, 700)
    reads = sorted(map(byte_range, s3_server.gets(key(url))[seen:]))
    assert len(reads) == gets < len(tiles)
    np.testing.assert_array_equal(region, local.read_region(0, 0, 0, 1000, 700))
    # every tile in one read, each read its tiles and the gaps between them, no more
    spans = sorted(
        (tiled.offsets[tile], tiled.offsets[tile] + tiled.counts[tile]) for tile in tiles
    )
    held = 0
    for start, end in reads:
        inside = [span for span in spans if start <= span[0] and span[1] <= end]
        assert inside and (inside[0][0], inside[-1][1]) == (start, end)
        assert all(b[0] - a[1] <= MERGE_GAP for a, b in itertools.pairwise(inside))
        held += len(inside)
    assert held == len(tiles)


def test_joined_gets_are_sent_concurrently(
    lossless: Path, bucket: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    far, local = RemotePyramid(upload(lossless, bucket)), Pyramid(lossless)
    assert far.tiles is not None
    TILE_CACHE.clear()
    with s3_server.holding(3):  # a reader sending one GET at a time never has two in flight
        region = far.read_region(0, 0, 0, WIDTH, HEIGHT)  # 24 tiles, 4 MiB a GET: 10, 10, 4
    assert s3_server.most_in_flight == 3
    np.testing.assert_array_equal(region, local.read_region(0, 0, 0, WIDTH, HEIGHT))
    # two tiles a GET: 12 GETs, FETCHES at a time
    monkeypatch.setattr(remote, "MERGE_LIMIT", 2 * max(far.tiles.decoded_level(0).counts))
    TILE_CACHE.clear()
    with s3_server.holding(FETCHES):
        region = far.read_region(0, 0, 0, WIDTH, HEIGHT)
    assert s3_server.most_in_flight == FETCHES
    np.testing.assert_array_equal(region, local.read_region(0, 0, 0, WIDTH, HEIGHT))


def test_joined_ranges_come_back_as_asked(bucket: str, s3_server: S3Server) -> None:
    data = RNG.bytes(100_000)
    url = f"s3://{bucket}/blob"
    fsspec.filesystem("s3").pipe(url, data)
    fs, path = fsspec.core.url_to_fs(url)
    ranges = [
        (99_990, 30),  # cut short by the end
        (100, 50),
        (150, 50),  # right after the one before
        (120, 10),  # inside another
        (100, 50),  # the same again
        (200 + MERGE_GAP, 10),  # the gap read and dropped
        (60_000, 10),  # too far from any other: a GET of its own
        (100_005, 10),  # past the end: not asked for
        (500, 0),
    ]
    assert fetch_ranges(fs, path, len(data), ranges) == [
        data[offset : offset + count] for offset, count in ranges
    ]
    assert sorted(map(byte_range, s3_server.gets(key(url)))) == [
        (100, 210 + MERGE_GAP),
        (60_000, 60_010),
        (99_990, 100_000),
    ]


def test_a_joined_read_spans_at_most_merge_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "MERGE_LIMIT", 100)
    tiles = [(start, start + 30) for start in range(0, 300, 30)]  # 10 tiles end to end
    assert joined_reads(tiles[::-1]) == [
        (0, 90, [9, 8, 7]),
        (90, 180, [6, 5, 4]),
        (180, 270, [3, 2, 1]),
        (270, 300, [0]),
    ]
    assert joined_reads([(0, 500), (500, 510)]) == [(0, 500, [0]), (500, 510, [1])]


def beyond_the_end(path: Path) -> None:
    with tifffile.TiffFile(path, mode="r+b") as tiff:
        offsets = list(tiff.pages[0].dataoffsets)
        offsets[0] = path.stat().st_size + 10
        tiff.pages[0].tags["TileOffsets"].overwrite(offsets)


def cut(keep: float) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (cut(0), "is damaged: not a TIFF file"),
        (cut(0.01), "is damaged: no page can be read (is the file cut short?)"),
        (cut(0.5), "is damaged: "),
        (beyond_the_end, "is cut short: tile 0 of level 0 lies beyond its end"),
        (scramble_first_tile, "is damaged: tile 0 of level 0 does not decode"),
    ],
)
def test_damage_is_named_as_for_a_local_file(
    rgb: Path, bucket: str, damage: Callable[[Path], None], expected: str
) -> None:
    damage(rgb)
    url = upload(rgb, bucket)
    reasons = []
    for opener in (lambda: Pyramid(rgb), lambda: open_remote(url)):
        TILE_CACHE.clear()
        with pytest.raises(DamagedPyramid) as caught:
            opener().read_region(0, 0, 0, WIDTH, HEIGHT)
        reasons.append(str(caught.value))
    assert reasons[0].startswith(expected)
    assert reasons[1] == reasons[0]


def test_a_missing_object(bucket: str) -> None:
    url = f"s3://{bucket}/pyramids/none.tif"
    for opener in (RemotePyramid, open_remote):
        with pytest.raises(DamagedPyramid, match=r"^is missing$"):
            opener(url)
    gone = f"s3://{bucket}/pyramids/gone.tif"
    fsspec.filesystem("s3").pipe(gone, b"")
    with pytest.raises(DamagedPyramid, match=r"^is damaged: not a TIFF file"):
        open_remote(gone)
    fsspec.filesystem("s3").rm(gone)
    with pytest.raises(DamagedPyramid, match=r"^is damaged: not a TIFF file"):
        open_remote(gone)  # remembered until it is asked again
