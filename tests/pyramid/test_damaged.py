"""Damaged pyramid files: every reader says what is wrong (never the file's path), keeps no
damaged tile, and remembers a file that does not open only while it is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips
import tifffile

from brainmap.pyramid import local
from brainmap.pyramid.local import Pyramid, open_pyramid, vips_reason
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.tiles import TILE_CACHE
from brainmap.pyramid.writer import PyramidKind, write_pyramid

RNG = np.random.default_rng(5)


@pytest.fixture()
def rgb(tmp_path: Path) -> Path:
    path = tmp_path / "rgb.tif"
    write_pyramid(RNG.integers(0, 256, (600, 700, 3), dtype=np.uint8), path, PyramidKind.RGB8)
    return path


@pytest.fixture()
def deep(tmp_path: Path) -> Path:
    path = tmp_path / "deep.tif"
    pixels = RNG.integers(0, 65536, (600, 700), dtype=np.uint16)
    write_pyramid(pixels, path, PyramidKind.LOSSLESS)
    return path


def first_tile(path: Path) -> tuple[int, int]:
    with tifffile.TiffFile(path) as tiff:
        return tiff.pages[0].dataoffsets[0], tiff.pages[0].databytecounts[0]


def scramble_first_tile(path: Path) -> None:
    offset, count = first_tile(path)
    data = bytearray(path.read_bytes())
    data[offset + 16 : offset + count - 16] = bytes(count - 32)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda path: path.unlink(), "is missing"),
        (lambda path: path.write_bytes(b""), "is damaged: not a TIFF file"),
        (lambda path: path.write_bytes(b"GIF89a" + bytes(100)), "is damaged: not a TIFF file"),
        (
            lambda path: path.write_bytes(path.read_bytes()[:1000]),
            "is damaged: no page can be read (is the file cut short?)",
        ),
        (lambda path: (path.unlink(), path.mkdir()), "cannot be opened: Is a directory"),
    ],
)
def test_a_file_that_does_not_open(
    rgb: Path, damage: Callable[[Path], object], reason: str
) -> None:
    damage(rgb)
    for opener in (Pyramid, open_pyramid):
        with pytest.raises(DamagedPyramid) as caught:
            opener(rgb)
        assert str(caught.value).startswith(reason)


@pytest.mark.parametrize("kind", ["rgb", "deep"])
def test_a_tile_that_does_not_decode_is_not_kept(kind: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(kind)
    scramble_first_tile(path)
    pyramid = Pyramid(path)
    assert pyramid.tiles is not None
    for _ in range(2):
        with pytest.raises(DamagedPyramid, match="tile 0 of level 0 does not decode"):
            pyramid.read_region(0, 0, 0, 300, 300)
    assert not any(key[0] == pyramid.identity for key in TILE_CACHE)
    pyramid.read_region(0, 300, 300, 100, 100)  # the other tiles read
    pyramid.read_region(1, 0, 0, 100, 100)


def test_a_tile_beyond_the_end_of_the_file(rgb: Path) -> None:
    with tifffile.TiffFile(rgb, mode="r+b") as tiff:
        offsets = list(tiff.pages[0].dataoffsets)
        offsets[0] = rgb.stat().st_size + 10
        tiff.pages[0].tags["TileOffsets"].overwrite(offsets)
    with pytest.raises(DamagedPyramid, match="is cut short: tile 0 of level 0 lies beyond"):
        Pyramid(rgb).read_region(0, 0, 0, 10, 10)


def test_libvips_reads_stop_at_damage_without_naming_the_path(deep: Path) -> None:
    scramble_first_tile(deep)
    with pytest.raises(pyvips.Error) as caught:
        Pyramid(deep).level(0).numpy()  # libvips alone would leave the tile black
    reason = vips_reason(caught.value, deep)
    assert "Decoding error" in reason and "\n" not in reason
    assert str(deep.parent) not in reason


def test_a_damaged_file_is_remembered_until_it_changes(
    rgb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []

    class Counted(Pyramid):
        def __init__(self, path: Path) -> None:
            opened.append(path)
            super().__init__(path)

    monkeypatch.setattr(local, "Pyramid", Counted)
    pixels = rgb.read_bytes()
    rgb.write_bytes(b"not a pyramid")
    for _ in range(3):
        with pytest.raises(DamagedPyramid, match="not a TIFF file"):
            open_pyramid(rgb)
    assert opened == [rgb]
    rgb.write_bytes(pixels)  # repaired: a new size and time
    assert open_pyramid(rgb).levels == 3
    assert open_pyramid(rgb) is open_pyramid(rgb)
    assert opened == [rgb, rgb]
