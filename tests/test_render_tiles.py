"""Direct JPEG tile reads (imaging/tiles.py) give libvips' own pixels, at every level and edge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from brainmap.geometry import ImageExtent, plan_region
from brainmap.imaging import render
from brainmap.imaging.tiles import JpegTiles, TileCache, jpeg_tiles
from brainmap.store.pyramids import Pyramid, PyramidKind, tier_count, write_pyramid


@pytest.fixture(scope="module")
def rgb_pyramid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:1300, 0:1777]
    pixels = np.stack([x % 256, y % 256, (x * y) % 256], axis=2) + rng.integers(
        0, 9, (1300, 1777, 3)
    )
    path = tmp_path_factory.mktemp("tiles") / "rgb.tif"
    write_pyramid(pixels.clip(0, 255).astype(np.uint8), path, PyramidKind.RGB8)
    return path


def test_regions_match_libvips_at_every_level(rgb_pyramid: Path) -> None:
    tiles = JpegTiles.open(rgb_pyramid)
    assert tiles is not None
    rng = np.random.default_rng(1)
    for page, level in enumerate(tiles.pages):
        vips = pyvips.Image.new_from_file(str(rgb_pyramid), page=page)
        assert (level.width, level.height) == (vips.width, vips.height)
        boxes = [(0, 0, level.width, level.height), (level.width - 1, level.height - 1, 1, 1)]
        for _ in range(5):
            left, top = int(rng.integers(0, level.width)), int(rng.integers(0, level.height))
            width = int(rng.integers(1, level.width - left + 1))
            height = int(rng.integers(1, level.height - top + 1))
            boxes.append((left, top, width, height))
        for box in boxes:
            expected = vips.crop(*box).numpy()
            np.testing.assert_array_equal(tiles.region(page, *box), expected)


def test_read_region_is_the_same_with_and_without_direct_reads(
    rgb_pyramid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyramid = Pyramid(rgb_pyramid)
    extent = ImageExtent(0, 0, 1777, 1300, 1777, 1300, tier_count(1777, 1300))
    plans = [plan_region(extent, downsample=d) for d in range(5)]
    plans.append(plan_region(extent, left=333, top=91, width=700, height=800))
    plans.append(plan_region(extent, downsample=1, left=1001, top=777, width=1000, height=900))
    direct = [render.read_region(pyramid, plan).numpy() for plan in plans]
    monkeypatch.setattr(render, "jpeg_tiles", lambda path: None)
    for plan, pixels in zip(plans, direct, strict=True):
        np.testing.assert_array_equal(pixels, render.read_region(pyramid, plan).numpy())


def test_other_layouts_are_left_to_libvips(tmp_path: Path) -> None:
    deep = tmp_path / "deep.tif"
    write_pyramid(np.zeros((300, 400, 3), dtype=np.uint16), deep, PyramidKind.LOSSLESS)
    assert jpeg_tiles(deep) is None
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II+\x00" + b"\xff" * 20)
    assert jpeg_tiles(junk) is None
    assert JpegTiles.open(tmp_path / "missing.tif") is None


def test_decoded_tiles_are_reused_within_the_byte_budget(rgb_pyramid: Path) -> None:
    tiles = JpegTiles.open(rgb_pyramid)
    assert tiles is not None
    first = tiles.tile(0, 3)
    assert tiles.tile(0, 3) is first  # held in TILE_CACHE, not decoded again
    assert not first.flags.writeable
    cache = TileCache(3 * first.nbytes)
    for index in range(5):
        cache.put(("x", index), first)
    assert cache.size == 3 * first.nbytes
    assert cache.get(("x", 0)) is None
    assert cache.get(("x", 4)) is first
