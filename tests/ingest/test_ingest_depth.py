"""Ingest keeps every channel and every bit: pages as channels, alpha, 8/12/16-bit samples, and
an Equalization only above 8 bits (read back from the store's pyramids and records)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips
import tifffile
from sqlalchemy import select

from brainmap.ingest.images import ingest_images
from brainmap.pyramid.local import Pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import Equalization, SectionImage
from loopback import jpeg

RNG = np.random.default_rng(12)


def percentile_window(values: np.ndarray) -> tuple[int, int]:
    """The 0.1 and 99.9 percentiles as the smallest values reaching those fractions of the
    sorted samples (exact whole-number ranks)."""
    ranked = np.sort(values.ravel())
    count = ranked.size
    return int(ranked[-(-count // 1000) - 1]), int(ranked[-(-count * 999 // 1000) - 1])


def _ingest(
    tmp_path: Path, path: Path, **options: object
) -> tuple[SectionImage, np.ndarray, Store]:
    """Ingest one file into a new store: its record and its pyramid's level 0 (H x W x C)."""
    store = Store.create(tmp_path / "store")
    (image_id,) = ingest_images(store, [path], data_set_id=1, **options).image_ids  # type: ignore[arg-type]
    with store.session() as session:
        record = session.get(SectionImage, image_id)
        assert record is not None
    pixels = Pyramid(store.pyramid_path(record.path)).level(0).numpy()
    return record, pixels if pixels.ndim == 3 else pixels[:, :, np.newaxis], store


def _equalization(store: Store) -> tuple[int, ...] | None:
    with store.session() as session:
        row = session.scalars(select(Equalization)).one_or_none()
        if row is None:
            return None
        return (
            row.red_lower,
            row.red_upper,
            row.green_lower,
            row.green_upper,
            row.blue_lower,
            row.blue_upper,
        )


def test_a_full_range_16_bit_ramp_is_kept_unclipped(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 512).astype(np.uint16), (64, 1))
    path = tmp_path / "ramp.tif"
    tifffile.imwrite(path, ramp)
    record, pixels, store = _ingest(tmp_path, path)
    assert record.bits_per_component == 16 and record.number_of_components == 1
    assert pixels.dtype == np.uint16 and np.array_equal(pixels[:, :, 0], ramp)
    low, high = percentile_window(ramp)
    assert _equalization(store) == (low, high) * 3 and high > 4095


def test_16_bit_samples_within_4095_are_12_bit_with_a_window_on_that_scale(
    tmp_path: Path,
) -> None:
    deep = RNG.normal(1500, 300, size=(200, 300, 3)).clip(0, 4095).astype(np.uint16)
    path = tmp_path / "deep.png"
    pyvips.Image.new_from_array(deep).copy(interpretation="rgb16").write_to_file(str(path))
    record, pixels, store = _ingest(tmp_path, path)
    assert record.bits_per_component == 12 and np.array_equal(pixels, deep)
    window = _equalization(store)
    assert window is not None
    for channel in range(3):
        assert window[2 * channel : 2 * channel + 2] == percentile_window(deep[..., channel])


def test_8_bit_rgb_gets_no_equalization_unless_given(tmp_path: Path) -> None:
    rows, columns = np.mgrid[0:120, 0:160]
    colour = np.stack([columns + 40, rows + 60, 200 - columns], axis=2).astype(np.uint8)
    path = tmp_path / "brightfield.png"
    pyvips.Image.new_from_array(colour).write_to_file(str(path))
    record, pixels, store = _ingest(tmp_path, path)
    assert record.bits_per_component == 8 and record.number_of_components == 3
    assert np.abs(pixels.astype(int) - colour).mean() < 2  # JPEG tiles
    assert _equalization(store) is None
    given = ingest_images(store, [path], data_set_id=2, window=(0, 4000, 10, 4095, 0, 99))
    assert given.image_ids
    with store.session() as session:
        assert session.scalars(select(Equalization)).one().blue_upper == 99


@pytest.mark.parametrize("count", [2, 3])
def test_pages_of_one_size_and_one_sample_are_channels(tmp_path: Path, count: int) -> None:
    pages = RNG.integers(0, 65536, size=(count, 90, 110), dtype=np.uint16)
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tiff:
        for page in pages:
            tiff.write(page, photometric="minisblack")
    record, pixels, _store = _ingest(tmp_path, path)
    assert record.number_of_components == count and record.bits_per_component == 16
    assert np.array_equal(pixels[:, :, :count], np.moveaxis(pages, 0, 2))


def test_a_pyramid_tiff_is_read_at_full_resolution_only(tmp_path: Path) -> None:
    full = RNG.integers(0, 4096, size=(256, 320), dtype=np.uint16)
    path = tmp_path / "levels.tif"
    with tifffile.TiffWriter(path) as tiff:
        tiff.write(full, tile=(64, 64))
        tiff.write(full[::2, ::2], tile=(64, 64))
        tiff.write(full[::4, ::4], tile=(64, 64))
    record, pixels, _store = _ingest(tmp_path, path)
    assert (record.width, record.height, record.number_of_components) == (320, 256, 1)
    assert np.array_equal(pixels[:, :, 0], full)


def test_opaque_alpha_carries_nothing_and_is_dropped(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 65536, size=(80, 100, 4), dtype=np.uint16)
    rgba[..., 3] = 65535
    path = tmp_path / "rgba.png"
    pyvips.Image.new_from_array(rgba).copy(interpretation="rgb16").write_to_file(str(path))
    record, pixels, _store = _ingest(tmp_path, path)
    assert record.number_of_components == 3 and np.array_equal(pixels, rgba[..., :3])


def test_the_resolution_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "grey.png"
    pyvips.Image.new_from_array(np.zeros((40, 50), np.uint8)).write_to_file(str(path))
    record, _pixels, _store = _ingest(tmp_path, path, resolution=0.65)
    assert record.resolution == pytest.approx(0.65)


def test_the_equalization_applied_as_range_gives_the_percentile_stretch(tmp_path: Path) -> None:
    """The window ingest computes, sent back as ``range`` to the real server, stretches the
    data's 0.1..99.9 percentile span over 0..255 (a 16-bit image with rare bright outliers)."""
    rows, columns = np.mgrid[0:128, 0:512]
    deep = (20000 + columns * 40 + rows).astype(np.uint16)
    deep[::64, ::256] = 65535  # 0.003 % outliers: above the 99.9th percentile
    path = tmp_path / "stretch.tif"
    tifffile.imwrite(path, deep)
    record, _pixels, store = _ingest(tmp_path, path)
    window = _equalization(store)
    assert record.bits_per_component == 16 and window is not None
    low, high = window[:2]
    assert (low, high) == percentile_window(deep) and high < 65535
    with BackgroundServer(create_app(store)) as server:
        url = f"{server.url}/api/v2/image_download/{record.id}"
        shown = jpeg(f"{url}?range={','.join(map(str, window))}")[..., 0].astype(float)
    expected = np.clip((deep.astype(float) - low) * 255 / (high - low), 0, 255)
    inner = (slice(8, -8), slice(8, -8))  # away from JPEG's edge blocks and the outliers
    assert np.abs(shown[inner] - expected[inner]).mean() < 2
