"""Reading pyramids: one cache of opened files that follows rewrites, tiles from any file object,
and readers shared by threads."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fsspec
import numpy as np
import pytest
import pyvips

from brainmap.geometry import ImageExtent, plan_region
from brainmap.imaging import render
from brainmap.pyramid.local import Pyramid, open_pyramid
from brainmap.pyramid.reader import LevelFormat
from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.tiles import TILE_CACHE, TileReader
from brainmap.pyramid.writer import PyramidKind, write_pyramid


def deep_pixels(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4096, size=(height, width, 3)).astype(np.uint16)


def test_an_unchanged_file_is_opened_once(tmp_path: Path) -> None:
    path = tmp_path / "section.tif"
    write_pyramid(deep_pixels(300, 200, 1), path, PyramidKind.LOSSLESS)
    assert open_pyramid(path) is open_pyramid(path)


def test_a_pyramid_replaced_in_place_is_opened_again(tmp_path: Path) -> None:
    path = tmp_path / "section.tif"
    small = deep_pixels(300, 200, 1)
    write_pyramid(small, path, PyramidKind.LOSSLESS)
    before = open_pyramid(path)
    assert before.levels == 2
    np.testing.assert_array_equal(before.read_region(0, 0, 0, 300, 200), small)
    large = deep_pixels(1100, 700, 2)
    write_pyramid(large, path, PyramidKind.LOSSLESS)  # a new file renamed over the old one
    after = open_pyramid(path)
    assert after.levels == tier_count(1100, 700) == 4
    assert after.level_format(0) == LevelFormat(1100, 700, 3, np.dtype(np.uint16))
    # the tiles of the old file are not served for the new one
    np.testing.assert_array_equal(after.read_region(0, 0, 0, 300, 200), large[:200, :300])
    # as the server draws it: downsample 3 is read from the new file's level 3
    extent = ImageExtent(0, 0, 1100, 700, 1100, 700, 4)
    region = render.read_region(open_pyramid(path), plan_region(extent, downsample=3))
    level3 = pyvips.Image.new_from_file(str(path), page=3).numpy()
    np.testing.assert_array_equal(region.numpy(), level3)


def test_a_pyramid_overwritten_in_place_is_opened_again(tmp_path: Path) -> None:
    path, other = tmp_path / "section.tif", tmp_path / "other.tif"
    write_pyramid(deep_pixels(300, 200, 1), path, PyramidKind.LOSSLESS)
    before = open_pyramid(path)
    assert before.levels == 2
    labels = np.arange(600 * 900, dtype=np.uint32).reshape(600, 900)
    write_pyramid(labels, other, PyramidKind.LABELS)
    shutil.copyfile(other, path)  # the same file (inode), truncated and written again
    after = open_pyramid(path)
    assert after.levels == 3
    assert after.level_format(1) == LevelFormat(450, 300, 1, np.dtype(np.uint32))
    np.testing.assert_array_equal(after.read_region(0, 0, 0, 900, 600)[..., 0], labels)


def test_tiles_are_read_from_an_fsspec_file(tmp_path: Path) -> None:
    path = tmp_path / "rgb.tif"
    y, x = np.mgrid[0:700, 0:900]
    write_pyramid(np.stack([x, y, x ^ y], axis=2).astype(np.uint8), path, PyramidKind.RGB8)
    local = Pyramid(path)
    memory = fsspec.filesystem("memory")
    memory.pipe("/brainmap-tests/rgb.tif", path.read_bytes())
    try:
        remote = TileReader.open(memory.open("/brainmap-tests/rgb.tif", "rb"), "memory: rgb.tif")
        assert remote is not None
        assert remote.levels == local.levels == 3
        for level in range(remote.levels):
            size = local.level_format(level)
            np.testing.assert_array_equal(
                remote.region(level, 0, 0, size.width, size.height),
                local.read_region(level, 0, 0, size.width, size.height),
            )
    finally:
        memory.rm("/brainmap-tests", recursive=True)


def test_threads_share_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "deep.tif"
    pixels = deep_pixels(1500, 1100, 3)
    write_pyramid(pixels, path, PyramidKind.LOSSLESS)
    pyramid = Pyramid(path)
    rng = np.random.default_rng(4)
    boxes = [
        (int(left), int(top), 300, 200)
        for left, top in zip(rng.integers(0, 1200, 64), rng.integers(0, 900, 64), strict=True)
    ]
    TILE_CACHE.clear()
    with ThreadPoolExecutor(4) as pool:
        regions = list(pool.map(lambda box: pyramid.read_region(0, *box), boxes))
    for (left, top, width, height), region in zip(boxes, regions, strict=True):
        np.testing.assert_array_equal(region, pixels[top : top + height, left : left + width])


def test_regions_outside_a_level_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.tif"
    write_pyramid(np.zeros((300, 400), np.uint32), path, PyramidKind.LABELS)
    tiles = Pyramid(path).tiles
    assert tiles is not None
    with pytest.raises(ValueError, match="beyond"):
        tiles.region(0, 390, 0, 20, 10)
    with pytest.raises(ValueError, match="empty"):
        tiles.region(1, 0, 0, 0, 10)
