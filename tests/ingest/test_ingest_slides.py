"""Slide-scanner files through OpenSlide, written by the tests in each vendor's layout: Aperio
SVS, Hamamatsu NDPI, Leica SCN; a generic tiled TIFF stays with libvips and keeps 16 bits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import openslide
import pytest
import tifffile

from brainmap.ingest.images import ingest_images
from brainmap.pyramid.local import Pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import SectionImage

HEIGHT, WIDTH = 300, 400
MARGIN = 16


def slide_pixels() -> np.ndarray:
    """A smooth RGB picture (JPEG-friendly) of HEIGHT x WIDTH."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([columns // 2, rows // 2 + 40, 250 - columns // 2], axis=2).astype(np.uint8)


def write_svs(path: Path, pixels: np.ndarray) -> Path:
    """Aperio: a tiled TIFF whose ImageDescription starts with "Aperio", with a reduced level."""
    description = (
        f"Aperio Image Library v12.0.0\n{WIDTH}x{HEIGHT} [0,0 {WIDTH}x{HEIGHT}] (256x256) "
        "|AppMag = 20|MPP = 0.4990"
    )
    with tifffile.TiffWriter(path) as tiff:
        for level in (pixels, pixels[::2, ::2]):
            tiff.write(
                level,
                tile=(256, 256),
                photometric="rgb",
                compression="zlib",
                description=description,
                metadata=None,
            )
    return path


def write_ndpi(path: Path, pixels: np.ndarray) -> Path:
    """Hamamatsu NDPI: one JPEG strip a level, with the NDPI format flag, lens and focal plane
    tags."""
    tags = [(65420, "I", 1, 1, True), (65421, "f", 1, 20.0, True), (65424, "i", 1, 0, True)]
    tifffile.imwrite(
        path,
        pixels,
        photometric="rgb",
        compression="jpeg",
        compressionargs={"level": 95},
        rowsperstrip=pixels.shape[0],
        extratags=tags,
        metadata=None,
    )
    return path


def write_scn(path: Path, pixels: np.ndarray) -> Path:
    """Leica SCN: a tiled BigTIFF with the Leica XML; the image sits MARGIN pixels inside a
    larger collection (1000 nm a pixel)."""
    nm = 1000
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01">'
        f'<collection name="c" uuid="c1" sizeX="{(WIDTH + 2 * MARGIN) * nm}" '
        f'sizeY="{(HEIGHT + 2 * MARGIN) * nm}">'
        '<image name="main" uuid="i1"><creationDate>2024-01-01T00:00:00Z</creationDate>'
        '<device model="Leica SCN400;Leica SCN" version="1.5"/>'
        f'<pixels sizeX="{WIDTH}" sizeY="{HEIGHT}">'
        f'<dimension sizeX="{WIDTH}" sizeY="{HEIGHT}" r="0" ifd="0"/></pixels>'
        f'<view sizeX="{WIDTH * nm}" sizeY="{HEIGHT * nm}" '
        f'offsetX="{MARGIN * nm}" offsetY="{MARGIN * nm}" '
        'spacingZ="0"/><scanSettings><objectiveSettings><objective>20</objective>'
        "</objectiveSettings><illuminationSettings><illuminationSource>brightfield"
        "</illuminationSource></illuminationSettings></scanSettings></image></collection></scn>"
    )
    tifffile.imwrite(
        path,
        pixels,
        tile=(256, 256),
        photometric="rgb",
        compression="zlib",
        description=xml,
        metadata=None,
        bigtiff=True,
    )
    return path


def _ingested(tmp_path: Path, path: Path) -> tuple[SectionImage, np.ndarray]:
    store = Store.create(tmp_path / "store")
    (image_id,) = ingest_images(store, [path], data_set_id=4).image_ids
    with store.session() as session:
        record = session.get(SectionImage, image_id)
        assert record is not None
    assert not list(store.root.glob(".ingest-*"))  # the decoded slide was removed
    return record, Pyramid(store.pyramid_path(record.path)).level(0).numpy()


@pytest.mark.parametrize(
    ("writer", "vendor"),
    [(write_svs, "aperio"), (write_ndpi, "hamamatsu")],
)
def test_a_slide_is_read_at_level_zero(
    tmp_path: Path, writer: Callable[[Path, np.ndarray], Path], vendor: str
) -> None:
    pixels = slide_pixels()
    path = writer(tmp_path / f"slide.{vendor}", pixels)
    assert openslide.OpenSlide.detect_format(str(path)) == vendor
    record, stored = _ingested(tmp_path, path)
    assert (record.width, record.height, record.number_of_components) == (WIDTH, HEIGHT, 3)
    assert record.bits_per_component == 8
    assert np.abs(stored.astype(int) - pixels).mean() < 2  # JPEG tiles (and NDPI's JPEG)


def test_an_svs_gives_its_pixel_size(tmp_path: Path) -> None:
    record, _stored = _ingested(tmp_path, write_svs(tmp_path / "s.svs", slide_pixels()))
    assert record.resolution == pytest.approx(0.499)


def test_a_leica_slide_is_laid_over_white_outside_the_scanned_region(tmp_path: Path) -> None:
    pixels = slide_pixels()
    path = write_scn(tmp_path / "slide.scn", pixels)
    assert openslide.OpenSlide.detect_format(str(path)) == "leica"
    record, stored = _ingested(tmp_path, path)
    assert (record.width, record.height) == (WIDTH + 2 * MARGIN, HEIGHT + 2 * MARGIN)
    inside = stored[MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert np.abs(inside.astype(int) - pixels).mean() < 2
    border = MARGIN // 2  # JPEG tiles blur the edge itself
    assert stored[:border].min() > 245 and stored[:, :border].min() > 245  # white, not black


def test_a_generic_tiled_tiff_keeps_its_16_bits(tmp_path: Path) -> None:
    deep = np.tile(np.linspace(0, 65535, WIDTH).astype(np.uint16), (HEIGHT, 1))
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(
        path, np.stack([deep, deep[:, ::-1], deep], axis=2), tile=(256, 256), photometric="rgb"
    )
    assert openslide.OpenSlide.detect_format(str(path)) == "generic-tiff"
    record, stored = _ingested(tmp_path, path)
    assert record.bits_per_component == 16 and np.array_equal(stored[..., 1], deep[:, ::-1])
