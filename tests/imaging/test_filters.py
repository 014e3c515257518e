"""Steps 3-6 of the pixel pipeline against plain numpy formulas (at most one level apart)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pyvips

from brainmap.imaging import filters
from brainmap.imaging.annotate import BOUNDARY_SHADE, FADE, UNKNOWN, PlatePalette, parse_hex
from brainmap.imaging.colormaps import lookup_table, table_ids
from brainmap.params import COLORMAPS, parse_colormap

RNG = np.random.default_rng(11)


def vips(array: np.ndarray) -> pyvips.Image:
    return pyvips.Image.new_from_array(array)


def assert_close(actual: pyvips.Image, expected: np.ndarray) -> None:
    got = actual.numpy().astype(int)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1


def window_reference(pixels: np.ndarray, bounds: tuple[int, ...], scale: float) -> np.ndarray:
    out = np.empty(pixels.shape, dtype=int)
    for c in range(3):
        lo, hi = bounds[2 * c], bounds[2 * c + 1]
        values = pixels[..., c].astype(float) * scale
        out[..., c] = np.clip(np.rint((values - lo) * 255 / (hi - lo)), 0, 255)
    return out


def test_window_of_12_bit_data() -> None:
    pixels = RNG.integers(0, 4096, size=(64, 80, 3)).astype(np.uint16)
    bounds = (0, 923, 100, 987, 0, 4095)
    assert_close(filters.window(vips(pixels), bounds), window_reference(pixels, bounds, 1.0))


def test_default_window_of_deep_data_is_full_12_bit() -> None:
    pixels = RNG.integers(0, 4096, size=(32, 32, 3)).astype(np.uint16)
    expected = window_reference(pixels, (0, 4095) * 3, 1.0)
    assert_close(filters.window(vips(pixels), None), expected)


def test_a_full_range_16_bit_image_is_windowed_on_its_own_scale() -> None:
    ramp = np.repeat(np.arange(0, 65536, 16, dtype=np.uint16)[np.newaxis, :, np.newaxis], 3, 2)
    default = filters.window(vips(ramp), None, 65535)
    assert_close(default, window_reference(ramp, (0, 65535) * 3, 1.0))
    assert (default.numpy() == 255).mean() < 0.01  # on the 12-bit scale, 94 % would be white
    bounds = (0, 65535, 1000, 30000, 32768, 65535)
    assert_close(filters.window(vips(ramp), bounds, 65535), window_reference(ramp, bounds, 1.0))
    # 8-bit data is on the 4095 scale whatever the scale given
    pixels = RNG.integers(0, 256, size=(8, 8, 3)).astype(np.uint8)
    assert np.array_equal(filters.window(vips(pixels), None, 65535).numpy(), pixels)


def test_8_bit_data_is_windowed_on_the_12_bit_scale() -> None:
    pixels = RNG.integers(0, 256, size=(32, 48, 3)).astype(np.uint8)
    bounds = (0, 2000, 500, 4095, 0, 4095)
    expected = window_reference(pixels, bounds, 4095 / 255)
    assert_close(filters.window(vips(pixels), bounds), expected)
    assert np.array_equal(filters.window(vips(pixels), None).numpy(), pixels)


def test_gains_and_contrast() -> None:
    pixels = RNG.integers(0, 256, size=(40, 40, 3)).astype(np.uint8)
    gained = np.clip(np.rint(pixels * np.array([1.0, 0.5, 2.5])), 0, 255)
    assert_close(filters.gains(vips(pixels), (1, 0.5, 2.5)), gained)
    gain, bias = 0.7, 0.6
    m = gain / (1 - gain)
    x = pixels / 255
    expected = np.clip(np.rint(np.clip((x - 0.5) * m + 0.5 + (bias - 0.5), 0, 1) * 255), 0, 255)
    assert_close(filters.contrast(vips(pixels), gain, bias), expected)
    assert_close(filters.contrast(vips(pixels), 0.5, 0.5), pixels.astype(int))


@pytest.mark.parametrize("table", table_ids())
def test_colormap_reference(table: int) -> None:
    pixels = np.random.default_rng(table).integers(0, 256, size=(30, 50, 3)).astype(np.uint8)
    spec = parse_colormap(f"0.6,0.2,10,240,{table}")
    luminance = np.floor(pixels @ np.array(filters.LUMINANCE) + 0.5)  # rounds half up, as vips
    t = np.clip((luminance - 10) / 230, 0, 1)
    index = np.rint(t ** (math.log(0.5) / math.log(0.6)) * 255).astype(int)
    expected = lookup_table(table)[index].astype(int)
    expected[t < 0.2] = 0
    got = filters.apply_colormap(vips(pixels), spec).numpy().astype(int)
    # luminance rounding may move a pixel across one table entry
    assert np.abs(got - expected).max() <= 8
    assert (np.abs(got - expected) > 1).mean() < 0.02


def test_every_named_colormap_has_a_table() -> None:
    assert table_ids() == sorted(COLORMAPS.values())
    for table in table_ids():
        assert lookup_table(table).shape == (256, 3)


def colour_labels_reference(
    labels: np.ndarray, colours: dict[int, tuple[int, int, int]], highlight: set[int] | None = None
) -> np.ndarray:
    """The annotation rule of docs/rules.md, "Annotation", in plain numpy."""
    ids, inverse = np.unique(labels, return_inverse=True)
    rgb = [(255, 255, 255) if i == 0 else colours.get(int(i), UNKNOWN) for i in ids]
    palette = np.array(rgb, dtype=float)
    if highlight is not None:
        faded = ~np.isin(ids, list(highlight)) & (ids != 0)
        palette[faded] = palette[faded] * (1 - FADE) + 255 * FADE
    plate = palette[inverse.reshape(labels.shape)]
    edges = np.zeros(labels.shape, dtype=bool)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    plate[edges] *= BOUNDARY_SHADE
    return np.rint(plate).astype(np.uint8)


def paint(
    labels: np.ndarray, colours: dict[int, tuple[int, int, int]], highlight: set[int] | None = None
) -> np.ndarray:
    return PlatePalette.build(colours, highlight).paint(vips(labels)).numpy()


def test_annotation_colours_and_boundaries() -> None:
    labels = np.zeros((20, 20), dtype=np.uint32)
    labels[5:15, 5:10] = 7
    labels[5:15, 10:15] = 9
    colours = {7: parse_hex("FF0000"), 9: parse_hex("0000FF")}
    plate = paint(labels, colours)
    assert tuple(plate[0, 0]) == (255, 255, 255)
    assert tuple(plate[8, 7]) == (255, 0, 0)
    assert tuple(plate[8, 12]) == (0, 0, 255)
    assert tuple(plate[8, 10]) == (0, 0, 140)  # boundary: darker shade of its own colour
    faded = paint(labels, colours, highlight={9})
    assert tuple(faded[8, 12]) == (0, 0, 255)
    assert tuple(faded[8, 7]) == (255, 191, 191)


@pytest.mark.parametrize("highlight", [None, {8, 70_000}])
def test_annotation_of_32_bit_ids_matches_numpy(highlight: set[int] | None) -> None:
    ids = [5, 8, 315, 70_000, 312_782_574, 614_454_277, 484_682_470]
    colours = {
        i: (int(c[0]), int(c[1]), int(c[2]))
        for i, c in zip(ids, RNG.integers(0, 256, (7, 3)), strict=True)
    }
    present = np.array([0, *ids, 999, 600_000_000], dtype=np.uint32)  # two unknown ids
    labels = RNG.choice(present, size=(70, 90))
    labels[:20, :30] = 8
    assert np.array_equal(
        paint(labels, colours, highlight), colour_labels_reference(labels, colours, highlight)
    )


def test_annotation_refuses_ids_spread_over_too_many_high_halves() -> None:
    colours = {(i << 16) + 1: (0, 0, 0) for i in range(300)}
    with pytest.raises(ValueError, match="high halves"):
        PlatePalette.build(colours)
