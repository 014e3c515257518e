"""The image doors (the four download endpoints, IIIF images and info.json) against bad input:
the older filter form, range bounds on the image's bit depth, numbers that do not fit, damaged
pixel files. Each row is answered by the real server on loopback over a store this module
writes, and leaves every file of the store as it was."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pyvips
import tifffile

from brainmap.imaging import render
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.state import ImageLimits
from brainmap.store.folder import Store
from brainmap.store.schema import SectionImage
from loopback import fetch

DEEP = 11
"""A full-range 16-bit ramp, recorded as 16 bits."""
DEEP_AS_12 = 12
"""The same file recorded as 12 bits: its scale is 4095."""
RGB = 13
"""A good 8-bit RGB image."""
TRUNCATED, GARBAGE, EMPTY, JPEG_TILE, DEFLATE_TILE, MISSING, TEXT = 21, 22, 23, 24, 25, 26, 27
"""Damaged pixel files, one kind each."""
LOGGED, REPAIRED = 31, 32
"""Damaged files for the tests that follow one file over several requests."""
WIDTH, HEIGHT = 600, 40
RAMP = np.repeat(
    np.rint(np.linspace(0, 65535, WIDTH)).astype(np.uint16)[np.newaxis, :], HEIGHT, axis=0
)
RNG = np.random.default_rng(12)


@dataclass(frozen=True)
class DoorsStore:
    store: Store
    url: str

    def files(self) -> dict[str, str]:
        """Every file of the store (SQLite's transient sidecars aside) and its digest."""
        return {
            str(path.relative_to(self.store.root)): hashlib.sha1(path.read_bytes()).hexdigest()
            for path in sorted(self.store.root.rglob("*"))
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))
        }


def rgb_pixels() -> np.ndarray:
    return RNG.integers(0, 256, size=(300, 400, 3), dtype=np.uint8)


def corrupt_first_tile(path: Path) -> None:
    """Overwrite the inside of the first full-resolution tile with noise."""
    with tifffile.TiffFile(path) as tiff:
        offset, count = tiff.pages[0].dataoffsets[0], tiff.pages[0].databytecounts[0]
    data = bytearray(path.read_bytes())
    data[offset + 16 : offset + count - 16] = RNG.integers(
        0, 256, count - 32, dtype=np.uint8
    ).tobytes()
    path.write_bytes(bytes(data))


def write_damaged(path: Path, kind: int) -> None:
    """A pyramid file damaged in the way `kind` names (nothing at all for MISSING)."""
    if kind == MISSING:
        return
    if kind in (JPEG_TILE, TRUNCATED, LOGGED):
        write_pyramid(rgb_pixels(), path, PyramidKind.RGB8)
    else:
        write_pyramid(RAMP, path, PyramidKind.LOSSLESS)
    if kind in (JPEG_TILE, DEFLATE_TILE):
        corrupt_first_tile(path)
    elif kind in (TRUNCATED, LOGGED):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind in (GARBAGE, REPAIRED):
        path.write_bytes(RNG.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif kind == EMPTY:
        path.write_bytes(b"")
    else:
        path.write_bytes(b"<html><body>Not Found</body></html>\n")


def section(
    store: Store, image_id: int, name: str, size: tuple[int, int], bits: int
) -> SectionImage:
    return SectionImage(
        id=image_id,
        path=store.new_pyramid_name(name),
        bits_per_component=bits,
        number_of_components=3 if bits == 8 else 1,
        section_number=image_id,
        **whole_image(*size),
    )


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoorsStore]:
    store = Store.create(tmp_path_factory.mktemp("image-doors"))
    records = [
        section(store, DEEP, "ramp16", (WIDTH, HEIGHT), 16),
        section(store, DEEP_AS_12, "ramp16", (WIDTH, HEIGHT), 12),
        section(store, RGB, "rgb", (400, 300), 8),
    ]
    write_pyramid(RAMP, store.pyramid_path(records[0].path), PyramidKind.LOSSLESS)
    write_pyramid(rgb_pixels(), store.pyramid_path(records[2].path), PyramidKind.RGB8)
    for kind in (
        TRUNCATED,
        GARBAGE,
        EMPTY,
        JPEG_TILE,
        DEFLATE_TILE,
        MISSING,
        TEXT,
        LOGGED,
        REPAIRED,
    ):
        record = section(store, kind, f"damaged-{kind}", (400, 300), 8)
        write_damaged(store.pyramid_path(record.path), kind)
        records.append(record)
    with store.session() as session:
        session.add_all(records)
        session.commit()
    store.engine.dispose()  # the WAL is folded into the database file: reads leave it alone
    with BackgroundServer(create_app(store)) as server:
        yield DoorsStore(store, server.url)
    store.close()


DOWNLOAD = "GET /api/v2/{endpoint}/{id}"
IIIF_IMAGE = "GET /iiif/3/{id}/{region}/{size}/{rotation}/{quality}.{format}"
IIIF_INFO = "GET /iiif/3/{id}/info.json"
FULL = "full/max/0/default.jpg"

MATRIX: list[tuple[str, str, str, int, str]] = [
    # (door, input, target, status, message fragment)
    # the older filter form
    (
        DOWNLOAD,
        "filter=gamma&filterVals=2",
        f"image_download/{RGB}?filter=gamma&filterVals=2",
        400,
        "filter: unknown filter 'gamma'",
    ),
    (
        DOWNLOAD,
        "filter=range without filterVals",
        f"section_image_download/{RGB}?filter=range",
        400,
        "filter: filter=range has no filterVals after it",
    ),
    (
        DOWNLOAD,
        "filterVals without filter",
        f"atlas_image_download/{RGB}?filterVals=0,1,0,1,0,1",
        400,
        "filterVals: has no filter= before it",
    ),
    (
        DOWNLOAD,
        "filterVals before its filter",
        f"projection_image_download/{RGB}?filterVals=1,1,1&filter=rgb",
        400,
        "filterVals: has no filter= before it",
    ),
    (
        DOWNLOAD,
        "range= and filter=range together",
        f"projection_image_download/{RGB}?range=0,9,0,9,0,9&filter=range&filterVals=0,1,0,1,0,1",
        400,
        "range: given both as range= and as filter=range",
    ),
    (
        DOWNLOAD,
        "filter=range with 2 values",
        f"image_download/{RGB}?filter=range&filterVals=0,1",
        400,
        "range: needs 6 comma-separated numbers, got 2",
    ),
    (
        DOWNLOAD,
        "filter=colormap, unknown table",
        f"image_download/{RGB}?filter=colormap&filterVals=0.5,0,0,256,99",
        400,
        "colormap: unknown lookup table id 99",
    ),
    (
        DOWNLOAD,
        "filter=range&filterVals=0,2000,0,2000,0,4095",
        f"image_download/{RGB}?filter=range&filterVals=0,2000,0,2000,0,4095",
        200,
        "",
    ),
    (
        IIIF_IMAGE,
        "filter=Range (names are lower case)",
        f"{RGB}/{FULL}?filter=Range&filterVals=0,1,0,1,0,1",
        400,
        "filter: unknown filter 'Range'",
    ),
    (
        IIIF_IMAGE,
        "filter=contrast without filterVals",
        f"{RGB}/{FULL}?filter=contrast",
        400,
        "filter=contrast has no filterVals",
    ),
    (
        IIIF_IMAGE,
        "filter=colormap&filterVals=jet",
        f"{RGB}/{FULL}?filter=colormap&filterVals=jet",
        200,
        "",
    ),
    # range bounds on the image's scale
    (
        DOWNLOAD,
        "16-bit image, range=0,65535 x3",
        f"image_download/{DEEP}?range=0,65535,0,65535,0,65535",
        200,
        "",
    ),
    (
        DOWNLOAD,
        "16-bit image, range up to 70000",
        f"image_download/{DEEP}?range=0,70000,0,65535,0,65535",
        400,
        "range: bounds are at most 65535 for this image, got 70000",
    ),
    (
        DOWNLOAD,
        "16-bit image, older form up to 70000",
        f"image_download/{DEEP}?filter=range&filterVals=0,70000,0,1,0,1",
        400,
        "range: bounds are at most 65535",
    ),
    (
        DOWNLOAD,
        "16-bit data recorded 12-bit, range up to 5000",
        f"image_download/{DEEP_AS_12}?range=0,5000,0,1,0,1",
        400,
        "range: bounds are at most 4095 for this image, got 5000",
    ),
    (
        DOWNLOAD,
        "8-bit image, range up to 4096",
        f"image_download/{RGB}?range=0,4096,0,1,0,1",
        400,
        "range: bounds are at most 4095",
    ),
    (
        DOWNLOAD,
        "a negative lower bound",
        f"image_download/{RGB}?range=-1,4095,0,1,0,1",
        400,
        "range: r lower bound -1 is negative",
    ),
    (
        IIIF_IMAGE,
        "16-bit image, range=0,65535 x3",
        f"{DEEP}/{FULL}?range=0,65535,0,65535,0,65535",
        200,
        "",
    ),
    (
        IIIF_IMAGE,
        "16-bit image, range up to 70000",
        f"{DEEP}/{FULL}?range=0,1,0,1,0,70000",
        400,
        "range: bounds are at most 65535",
    ),
    # numbers that do not fit
    (
        DOWNLOAD,
        "downsample=99999999999999999999 (clamped, rules.md Geometry)",
        f"image_download/{RGB}?downsample=99999999999999999999",
        200,
        "",
    ),
    (
        DOWNLOAD,
        "left=1e400",
        f"image_download/{RGB}?left=1e400",
        400,
        "left: '1e400' is not an integer",
    ),
    (
        DOWNLOAD,
        "top=99999999999999999999",
        f"image_download/{RGB}?top=99999999999999999999",
        400,
        "top: region lies outside the 400 x 300 image",
    ),
    (
        DOWNLOAD,
        "width=99999999999999999999 (clipped to the image)",
        f"image_download/{RGB}?width=99999999999999999999",
        200,
        "",
    ),
    (
        DOWNLOAD,
        "quality=99999999999999999999",
        f"image_download/{RGB}?quality=99999999999999999999",
        400,
        "quality: must be 0..100",
    ),
    (
        DOWNLOAD,
        "atlas=99999999999999999999",
        f"image_download/{RGB}?annotation=true&atlas=99999999999999999999",
        400,
        "atlas: ids are at most 9223372036854775807",
    ),
    (
        DOWNLOAD,
        "structure=99999999999999999999",
        f"image_download/{RGB}?annotation=true&structure=99999999999999999999",
        400,
        "structure: ids are at most",
    ),
    (
        DOWNLOAD,
        "range bound 1e400",
        f"image_download/{RGB}?range=0,1e400,0,1,0,1",
        400,
        "range: '1e400' is not a finite number",
    ),
    (
        DOWNLOAD,
        "downsample=\uff11 (a fullwidth digit)",
        f"image_download/{RGB}?downsample=%EF%BC%91",
        400,
        "downsample: '\uff11' is not an integer",
    ),
    (
        DOWNLOAD,
        "rgb=1_0,1,1",
        f"image_download/{RGB}?rgb=1_0,1,1",
        400,
        "rgb: '1_0' is not a number",
    ),
    (
        DOWNLOAD,
        "image id 99999999999999999999",
        "section_image_download/99999999999999999999",
        404,
        "no image with id 99999999999999999999",
    ),
    (
        DOWNLOAD,
        "image id of 5000 digits",
        "image_download/" + "7" * 5000,
        404,
        "no image with id 7777777777",
    ),
    (DOWNLOAD, "image id abc", "image_download/abc", 404, "no image with id abc"),
    (IIIF_IMAGE, "identifier of 5000 digits", "7" * 5000 + f"/{FULL}", 404, "no image with id 777"),
    (IIIF_INFO, "identifier of 5000 digits", "7" * 5000 + "/info.json", 404, "no image with id 7"),
    (
        IIIF_IMAGE,
        "region x 99999999999999999999",
        f"{RGB}/99999999999999999999,0,10,10/max/0/default.jpg",
        400,
        "region: 99999999999999999999,0,10,10 lies outside",
    ),
    (
        IIIF_IMAGE,
        "size 99999999999999999999,",
        f"{RGB}/full/99999999999999999999,/0/default.jpg",
        400,
        "size: 99999999999999999999 x",
    ),
    (
        IIIF_IMAGE,
        "size ^pct:99999999999999999999",
        f"{RGB}/full/^pct:99999999999999999999/0/default.jpg",
        400,
        "exceeds the limits",
    ),
    (IIIF_IMAGE, "rotation 1e400", f"{RGB}/full/max/1e400/default.jpg", 400, "rotation: '1e400'"),
    (
        IIIF_IMAGE,
        "identifier 99999999999999999999",
        f"99999999999999999999/{FULL}",
        404,
        "no image with id 99999999999999999999",
    ),
    (
        IIIF_INFO,
        "identifier 99999999999999999999",
        "99999999999999999999/info.json",
        404,
        "no image with id 99999999999999999999",
    ),
    (
        IIIF_IMAGE,
        "range bound 1e400",
        f"{RGB}/{FULL}?range=0,1e400,0,1,0,1",
        400,
        "range: '1e400' is not a finite number",
    ),
    # damaged pixel files
    (
        DOWNLOAD,
        "pixel file cut in half",
        f"image_download/{TRUNCATED}",
        500,
        f"image {TRUNCATED}: pixel file pyramids/damaged-{TRUNCATED}.tif is damaged: no page",
    ),
    (
        DOWNLOAD,
        "pixel file of random bytes",
        f"atlas_image_download/{GARBAGE}",
        500,
        f"image {GARBAGE}: pixel file pyramids/damaged-{GARBAGE}.tif is damaged: not a TIFF file",
    ),
    (
        DOWNLOAD,
        "empty pixel file",
        f"image_download/{EMPTY}?downsample=1",
        500,
        "is damaged: not a TIFF file",
    ),
    (
        DOWNLOAD,
        "an HTML page saved as the pixel file",
        f"image_download/{TEXT}",
        500,
        "is damaged: not a TIFF file",
    ),
    (
        DOWNLOAD,
        "a JPEG tile of noise",
        f"image_download/{JPEG_TILE}",
        500,
        "is damaged: tile 0 of level 0 does not decode",
    ),
    (
        DOWNLOAD,
        "a deflate tile of noise",
        f"section_image_download/{DEFLATE_TILE}?range=0,4095,0,1,0,1",
        500,
        "is damaged: tile 0 of level 0 does not decode",
    ),
    (
        DOWNLOAD,
        "a tile of noise, not read (downsample 1 reads level 1)",
        f"image_download/{JPEG_TILE}?downsample=1",
        200,
        "",
    ),
    (
        DOWNLOAD,
        "missing pixel file",
        f"image_download/{MISSING}",
        500,
        f"image {MISSING}: pixel file pyramids/damaged-{MISSING}.tif is missing",
    ),
    (
        IIIF_IMAGE,
        "pixel file cut in half",
        f"{TRUNCATED}/{FULL}",
        500,
        "is damaged: no page can be read",
    ),
    (
        IIIF_IMAGE,
        "a deflate tile of noise",
        f"{DEFLATE_TILE}/0,0,256,256/max/0/default.png",
        500,
        "tile 0 of level 0 does not decode",
    ),
    (IIIF_IMAGE, "missing pixel file", f"{MISSING}/full/max/0/default.png", 500, "is missing"),
    (
        IIIF_INFO,
        "pixel file of random bytes",
        f"{GARBAGE}/info.json",
        500,
        f"image {GARBAGE}: pixel file pyramids/damaged-{GARBAGE}.tif is damaged",
    ),
    (IIIF_INFO, "missing pixel file", f"{MISSING}/info.json", 500, "is missing"),
    (
        IIIF_INFO,
        "a tile of noise (the index opens: tiles are read by images)",
        f"{JPEG_TILE}/info.json",
        200,
        "",
    ),
]


def url_of(doors: DoorsStore, door: str, target: str) -> str:
    return f"{doors.url}/api/v2/{target}" if door == DOWNLOAD else f"{doors.url}/iiif/3/{target}"


@pytest.mark.parametrize(("door", "given", "target", "status", "message"), MATRIX)
def test_image_doors(
    doors: DoorsStore, door: str, given: str, target: str, status: int, message: str
) -> None:
    before = doors.files()
    got, body, headers = fetch(url_of(doors, door, target))
    assert got == status, (given, body[:300])
    if status >= 400:
        text = body.decode()
        assert headers["content-type"].startswith("text/plain")
        assert message in text and "\n" not in text.strip()
        assert str(doors.store.root) not in text and "Traceback" not in text
    assert doors.files() == before


def test_a_full_range_16_bit_ramp_is_shown_whole(doors: DoorsStore) -> None:
    expected = np.rint(RAMP.astype(float) * 255 / 65535)
    _, png, _ = fetch(f"{doors.url}/iiif/3/{DEEP}/full/max/0/default.png")
    shown = pyvips.Image.new_from_buffer(png, "").numpy()
    assert np.abs(shown[..., 0] - expected).max() <= 1
    assert (shown == 255).mean() < 0.01  # on the 12-bit scale, 94 % of it was white
    download = f"{doors.url}/api/v2/image_download/{DEEP}"
    by_default = fetch(download)[1]
    assert by_default == fetch(f"{download}?range=0,65535,0,65535,0,65535")[1]
    # the same file recorded as 12-bit keeps the 12-bit window: clipped at 4095
    as_12 = fetch(f"{doors.url}/iiif/3/{DEEP_AS_12}/full/max/0/default.png")[1]
    clipped = pyvips.Image.new_from_buffer(as_12, "").numpy()[..., 0]
    assert np.array_equal(clipped, np.clip(np.rint(RAMP.astype(float) * 255 / 4095), 0, 255))


def test_a_damaged_file_is_logged_once(doors: DoorsStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="brainmap.server.responses")
    for target in (f"image_download/{LOGGED}", f"image_download/{LOGGED}?downsample=1"):
        assert fetch(f"{doors.url}/api/v2/{target}")[0] == 500
    assert fetch(f"{doors.url}/iiif/3/{LOGGED}/info.json")[0] == 500
    logged = [r.getMessage() for r in caplog.records if r.name == "brainmap.server.responses"]
    assert logged == [
        f"image {LOGGED}: pixel file pyramids/damaged-{LOGGED}.tif is damaged: no page can be "
        "read (is the file cut short?)"
    ]


def test_a_repaired_file_is_read_again(doors: DoorsStore) -> None:
    url = f"{doors.url}/api/v2/image_download/{REPAIRED}"
    path = doors.store.root / f"pyramids/damaged-{REPAIRED}.tif"
    assert [fetch(url)[0] for _ in range(2)] == [500, 500]
    write_pyramid(rgb_pixels(), path, PyramidKind.RGB8)
    assert fetch(url)[0] == 200
    corrupt_first_tile(path)  # in place: a new size or time, so a new identity
    assert [fetch(url)[0] for _ in range(2)] == [500, 500]  # never kept as good
    write_pyramid(rgb_pixels(), path, PyramidKind.RGB8)
    assert fetch(url)[0] == 200


@pytest.mark.parametrize("kind", [JPEG_TILE, DEFLATE_TILE])
def test_damage_found_by_libvips_is_named_too(
    doors: DoorsStore, monkeypatch: pytest.MonkeyPatch, kind: int
) -> None:
    """Regions too large to decode whole stream through libvips, spooled when large: a tile that
    does not decode stops them too, with the same one line."""
    monkeypatch.setattr(render, "DIRECT_READ_BYTES", 0)
    limits = ImageLimits(buffer_pixels=1000, cache_bytes=0)
    with BackgroundServer(create_app(doors.store, limits=limits)) as server:
        for url in (
            f"{server.url}/api/v2/image_download/{kind}",
            f"{server.url}/iiif/3/{kind}/full/max/0/default.jpg",
        ):
            status, body, _ = fetch(url)
            text = body.decode()
            assert status == 500, text
            assert text.startswith(
                f"image {kind}: pixel file pyramids/damaged-{kind}.tif could not"
            )
            assert "decompress error" in text or "Decoding error" in text
            assert str(doors.store.root) not in text and "\n" not in text
