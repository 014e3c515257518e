"""Slide-scanner files through OpenSlide, written by the tests in each vendor's layout: Aperio
SVS, Hamamatsu NDPI, Leica SCN, MIRAX; a generic tiled TIFF stays with libvips and keeps 16
bits."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openslide
import pytest
import simplejpeg
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


def write_mrxs(path: Path, pixels: np.ndarray, across: int = 2, down: int = 2) -> Path:
    """MIRAX: an (empty) .mrxs file beside a folder of the same name holding Slidedat.ini, an
    Index.dat whose one zoom level lists the JPEG camera images, and Data0000.dat holding
    them; `across` x `down` images, no overlap."""
    folder = path.with_suffix("")
    folder.mkdir()
    height, width = pixels.shape[0] // down, pixels.shape[1] // across
    slide_id = "brainmap-test-slide"
    data, records = bytearray(), []
    for y in range(down):
        for x in range(across):
            tile = pixels[y * height : (y + 1) * height, x * width : (x + 1) * width]
            jpeg = simplejpeg.encode_jpeg(np.ascontiguousarray(tile), quality=95)
            records.append(struct.pack("<iiii", y * across + x, len(data), len(jpeg), 0))
            data += jpeg
    (folder / "Data0000.dat").write_bytes(bytes(data))
    head = b"01.02" + slide_id.encode()
    levels = len(head) + 8  # after the roots of the hierarchical and other records
    first_page = levels + 4 + 8  # after the one level's pointer and its (0, page) header
    (folder / "Index.dat").write_bytes(
        head
        + struct.pack("<iiiii", levels, 0, levels + 4, 0, first_page)
        + struct.pack("<ii", len(records), 0)  # one page, no next
        + b"".join(records)
    )
    (folder / "Slidedat.ini").write_text(
        f"[GENERAL]\nSLIDE_VERSION=01.02\nSLIDE_ID={slide_id}\nIMAGENUMBER_X={across}\n"
        f"IMAGENUMBER_Y={down}\nOBJECTIVE_MAGNIFICATION=20\n"
        "[HIERARCHICAL]\nHIER_COUNT=1\nNONHIER_COUNT=0\nINDEXFILE=Index.dat\n"
        "HIER_0_NAME=Slide zoom level\nHIER_0_COUNT=1\nHIER_0_VAL_0_SECTION=LEVEL_0\n"
        "[DATAFILE]\nFILE_COUNT=1\nFILE_0=Data0000.dat\n"
        "[LEVEL_0]\nIMAGE_CONCAT_FACTOR=0\nOVERLAP_X=0\nOVERLAP_Y=0\n"
        "MICROMETER_PER_PIXEL_X=0.25\nMICROMETER_PER_PIXEL_Y=0.25\n"
        f"IMAGE_FILL_COLOR_BGR=16777215\nDIGITIZER_WIDTH={width}\n"
        f"DIGITIZER_HEIGHT={height}\nIMAGE_FORMAT=JPEG\n"
    )
    path.write_bytes(b"")
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
    [(write_svs, "aperio"), (write_ndpi, "hamamatsu"), (write_mrxs, "mirax")],
)
def test_a_slide_is_read_at_level_zero(
    tmp_path: Path, writer: Callable[[Path, np.ndarray], Path], vendor: str
) -> None:
    pixels = slide_pixels()
    suffix = {"aperio": "svs", "hamamatsu": "ndpi", "mirax": "mrxs"}[vendor]
    path = writer(tmp_path / f"slide.{suffix}", pixels)
    assert openslide.OpenSlide.detect_format(str(path)) == vendor
    record, stored = _ingested(tmp_path, path)
    assert (record.width, record.height, record.number_of_components) == (WIDTH, HEIGHT, 3)
    assert record.bits_per_component == 8
    assert np.abs(stored.astype(int) - pixels).mean() < 2  # JPEG tiles (and NDPI's JPEG)


@pytest.mark.parametrize(
    ("writer", "name", "micrometres"),
    [(write_svs, "s.svs", 0.499), (write_mrxs, "m.mrxs", 0.25)],
)
def test_a_slide_gives_its_pixel_size(
    tmp_path: Path, writer: Callable[[Path, np.ndarray], Path], name: str, micrometres: float
) -> None:
    record, _stored = _ingested(tmp_path, writer(tmp_path / name, slide_pixels()))
    assert record.resolution == pytest.approx(micrometres)


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
