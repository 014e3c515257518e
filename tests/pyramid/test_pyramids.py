"""Pyramid files: levels, lossless round trips, label maps never averaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brainmap.pyramid.local import Pyramid
from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.writer import PyramidKind, write_pyramid


def block_mean(pixels: np.ndarray, factor: int) -> np.ndarray:
    h, w = pixels.shape[0] // factor, pixels.shape[1] // factor
    blocks = pixels[: h * factor, : w * factor].reshape(h, factor, w, factor, -1)
    return blocks.mean(axis=(1, 3))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lossless_levels_round_trip_bit_exactly(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(7)
    top = 255 if dtype is np.uint8 else 4095
    pixels = rng.integers(0, top + 1, size=(700, 1100, 3)).astype(dtype)
    path = tmp_path / "deep.tif"
    write_pyramid(pixels, path, PyramidKind.LOSSLESS)
    pyramid = Pyramid(path)
    assert pyramid.levels == tier_count(1100, 700) == 4
    assert np.array_equal(pyramid.level(0).numpy(), pixels)
    for index in range(1, pyramid.levels):
        level = pyramid.level(index).numpy()
        assert level.dtype == pixels.dtype
        reference = block_mean(pixels, 2**index)[: level.shape[0], : level.shape[1]]
        assert np.abs(level.astype(float) - reference).max() <= 2 ** (index - 1) + 1


def test_label_maps_keep_only_existing_labels(tmp_path: Path) -> None:
    labels = np.zeros((600, 900), dtype=np.uint32)
    labels[100:500, 100:450] = 315
    labels[200:400, 450:800] = 1_000_003
    path = tmp_path / "labels.tif"
    write_pyramid(labels, path, PyramidKind.LABELS)
    pyramid = Pyramid(path)
    assert np.array_equal(pyramid.level(0).numpy(), labels)
    for index in range(1, pyramid.levels):
        assert set(np.unique(pyramid.level(index).numpy())) <= {0, 315, 1_000_003}


def test_rgb_tiles_are_jpeg_close_to_the_source(tmp_path: Path) -> None:
    y, x = np.mgrid[0:512, 0:768]
    pixels = np.stack([x % 256, y % 256, (x + y) % 256], axis=2).astype(np.uint8)
    path = tmp_path / "rgb.tif"
    write_pyramid(pixels, path, PyramidKind.RGB8)
    level = Pyramid(path).level(0).numpy()
    assert level.shape == pixels.shape
    assert np.abs(level.astype(int) - pixels).mean() < 4


def test_wrong_pixels_for_a_kind_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="3-band uchar"):
        write_pyramid(np.zeros((10, 10), np.uint8), tmp_path / "x.tif", PyramidKind.RGB8)
    with pytest.raises(ValueError, match="uint32"):
        write_pyramid(np.zeros((10, 10), np.uint16), tmp_path / "x.tif", PyramidKind.LABELS)
    assert list(tmp_path.iterdir()) == []


def test_colour_blocks_keep_only_existing_colours(tmp_path: Path) -> None:
    blocks = np.zeros((600, 900, 3), dtype=np.uint8)
    blocks[:, 0::2] = (255, 0, 0)
    blocks[100:300, 1::2] = (0, 0, 255)
    path = tmp_path / "blocks.tif"
    write_pyramid(blocks, path, PyramidKind.BLOCKS)
    pyramid = Pyramid(path)
    assert np.array_equal(pyramid.level(0).numpy(), blocks)
    for index in range(1, pyramid.levels):
        colours = np.unique(pyramid.level(index).numpy().reshape(-1, 3), axis=0)
        assert {tuple(c) for c in colours} <= {(0, 0, 0), (255, 0, 0), (0, 0, 255)}
