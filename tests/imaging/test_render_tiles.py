"""Direct tile reads (pyramid/tiles.py) give libvips' own pixels, for every pyramid layout,
at every level and edge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from brainmap.geometry import ImageExtent, plan_region
from brainmap.imaging import render
from brainmap.params import ImageRequest
from brainmap.pyramid.local import Pyramid, open_pyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.tiles import tile_cache
from brainmap.pyramid.writer import PyramidKind, write_pyramid

HEIGHT, WIDTH = 1300, 1777


def _pixels(kind: PyramidKind) -> np.ndarray:
    """Structured content plus noise (so JPEG and the predictor have work), per layout."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    if kind is PyramidKind.LABELS:
        return ((x // 97) * 1_000_003 + (y // 61) * 7 + 2**31).astype(np.uint32)
    pattern = np.stack([x, y, x * y], axis=2) + rng.integers(0, 9, (HEIGHT, WIDTH, 3))
    if kind is PyramidKind.LOSSLESS:
        return (pattern * 3 % 4096).astype(np.uint16)
    return (pattern % 256).astype(np.uint8)


@pytest.fixture(scope="module", params=list(PyramidKind))
def pyramid_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    kind: PyramidKind = request.param
    path = tmp_path_factory.mktemp("tiles") / f"{kind.value}.tif"
    write_pyramid(_pixels(kind), path, kind)
    return path


@pytest.fixture(scope="module")
def rgb_pyramid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiles") / "rgb.tif"
    write_pyramid(_pixels(PyramidKind.RGB8), path, PyramidKind.RGB8)
    return path


def test_regions_match_libvips_at_every_level(pyramid_file: Path) -> None:
    tiles = Pyramid(pyramid_file).tiles
    assert tiles is not None
    assert tiles.levels == tier_count(WIDTH, HEIGHT)
    rng = np.random.default_rng(1)
    for page in range(tiles.levels):
        tiled = tiles.level(page)
        assert tiled is not None
        level = tiled.format
        vips = pyvips.Image.new_from_file(str(pyramid_file), page=page)
        assert (level.width, level.height) == (vips.width, vips.height)
        boxes = [(0, 0, level.width, level.height), (level.width - 1, level.height - 1, 1, 1)]
        for _ in range(5):
            left, top = int(rng.integers(0, level.width)), int(rng.integers(0, level.height))
            width = int(rng.integers(1, level.width - left + 1))
            height = int(rng.integers(1, level.height - top + 1))
            boxes.append((left, top, width, height))
        for box in boxes:
            expected = vips.crop(*box).numpy().reshape(box[3], box[2], -1)
            np.testing.assert_array_equal(tiles.region(page, *box), expected)


def test_read_region_is_the_same_with_and_without_direct_reads(
    pyramid_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyramid = Pyramid(pyramid_file)
    extent = ImageExtent(0, 0, WIDTH, HEIGHT, WIDTH, HEIGHT, tier_count(WIDTH, HEIGHT))
    plans = [plan_region(extent, downsample=d) for d in range(5)]
    plans.append(plan_region(extent, left=333, top=91, width=700, height=800))
    plans.append(plan_region(extent, downsample=1, left=1001, top=777, width=1000, height=900))
    request = ImageRequest(range=(0, 3000, 100, 2000, 0, 4095))
    nearest = "labels" in pyramid_file.name
    direct = [render.read_region(pyramid, plan, nearest=nearest) for plan in plans]
    rendered = [render.render_pixels(region, request).numpy() for region in direct]
    monkeypatch.setattr(render, "DIRECT_READ_BYTES", 0)  # every region through libvips
    for plan, region, pixels in zip(plans, direct, rendered, strict=True):
        through_libvips = render.read_region(pyramid, plan, nearest=nearest)
        assert (region.format, region.bands) == (through_libvips.format, through_libvips.bands)
        np.testing.assert_array_equal(region.numpy(), through_libvips.numpy())
        again = render.render_pixels(through_libvips, request).numpy()
        np.testing.assert_array_equal(pixels, again)


def test_other_layouts_are_left_to_libvips(tmp_path: Path) -> None:
    floats = tmp_path / "float.tif"
    ramp = pyvips.Image.xyz(300, 400)[0].cast("float") / 7
    ramp.tiffsave(str(floats), tile=True, bigtiff=True)
    pyramid = open_pyramid(floats)
    assert pyramid.tiles is None
    assert pyramid.level_format(0).dtype == np.float32
    box = (290, 13, 10, 300)
    expected = ramp.crop(*box).numpy().reshape(300, 10, 1)
    np.testing.assert_array_equal(pyramid.read_region(0, *box), expected)
    lzw = tmp_path / "lzw.tif"
    pyvips.Image.black(300, 400).tiffsave(str(lzw), tile=True, bigtiff=True, compression="lzw")
    assert open_pyramid(lzw).tiles is None
    classic = tmp_path / "classic.tif"
    pyvips.Image.black(300, 400).tiffsave(str(classic), tile=True, compression="deflate")
    assert open_pyramid(classic).tiles is None
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II+\x00" + b"\xff" * 20)
    with pytest.raises(DamagedPyramid, match="invalid BigTIFF offset size"):
        open_pyramid(junk)
    with pytest.raises(DamagedPyramid, match="is missing"):
        open_pyramid(tmp_path / "missing.tif")


def test_decoded_tiles_are_reused_within_the_byte_budget(rgb_pyramid: Path) -> None:
    tiles = Pyramid(rgb_pyramid).tiles
    assert tiles is not None
    first = tiles.tile(0, 3)
    assert tiles.tile(0, 3) is first  # held in TILE_CACHE, not decoded again
    assert not first.flags.writeable
    cache = tile_cache(3 * first.nbytes)
    for index in range(5):
        cache["x", index] = first
    assert cache.currsize == 3 * first.nbytes
    assert cache.get(("x", 0)) is None
    assert cache.get(("x", 4)) is first
