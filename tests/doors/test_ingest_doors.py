"""The bad-input matrix of ``brainmap ingest``: each file or option a user might get wrong, the
exit code, the one-line message naming it and what is wrong, and the store (and every file
around it) left exactly as it was; and Ctrl-C, which leaves a store a rerun completes."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips
import tifffile
from click.testing import CliRunner
from test_records_doors import (  # the same rows and before/after check as `import`'s doors
    Door,
    Make,
    snapshot,
)

from brainmap.cli import main
from brainmap.store.folder import Store
from brainmap.store.schema import AtlasDataSet
from brainmap.store.writes import OWN_IDS_FROM as FIRST

RNG = np.random.default_rng(7)
GREY = np.tile(np.arange(96, dtype=np.uint8), (64, 1))
NOISE = RNG.integers(0, 256, (300, 400, 3), dtype=np.uint8)  # compresses little: cut mid-pixels


def save(name: str, pixels: np.ndarray, **options: object) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        pyvips.Image.new_from_array(pixels).write_to_file(str(path), **options)
        return path

    return write


def tiff(name: str, pages: list[np.ndarray], **options: object) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        with tifffile.TiffWriter(path) as writer:
            for page in pages:
                writer.write(page, **options)
        return path

    return write


def cut(write: Callable[[Path], Path], keep: float = 0.5) -> Callable[[Path], Path]:
    """The file `write` makes, truncated to `keep` of its length."""

    def truncated(folder: Path) -> Path:
        path = write(folder)
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
        return path

    return truncated


def zeroed_strip(folder: Path) -> Path:
    """A deflate TIFF whose one strip is overwritten with zeros: complete but corrupt."""
    path = tiff("bad.tif", [RNG.integers(0, 65536, (64, 96), dtype=np.uint16)],
                compression="zlib", rowsperstrip=64)(folder)  # fmt: skip
    with tifffile.TiffFile(path) as opened:
        offset, count = opened.pages[0].dataoffsets[0], opened.pages[0].databytecounts[0]
    data = bytearray(path.read_bytes())
    data[offset + 4 : offset + count] = bytes(count - 4)
    path.write_bytes(bytes(data))
    return path


def imagej_slices(folder: Path) -> Path:
    path = folder / "slices.tif"
    tifffile.imwrite(path, np.stack([PAGE] * 3), imagej=True, metadata={"axes": "ZYX"})
    return path


def text(name: str, content: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_text(content)
        return folder / name

    return write


def a_socket(folder: Path) -> Path:
    path = folder / "s.png"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return path


def a_fifo(folder: Path) -> Path:
    """A named pipe: opening it to read would wait for a writer for ever."""
    os.mkfifo(folder / "pipe.png")
    return folder / "pipe.png"


def no_permission(folder: Path) -> Path:
    path = save("locked.png", GREY)(folder)
    path.chmod(0)
    return path


def a_folder(folder: Path) -> Path:
    (folder / "images.png").mkdir()
    return folder / "images.png"


def image(write: Callable[[Path], Path], *options: str) -> Make:
    return lambda folder: [*options, str(write(folder))]


def images(*writes: Callable[[Path], Path]) -> Make:
    return lambda folder: [str(write(folder)) for write in writes]


def with_mask(mask: Callable[[Path], Path]) -> Make:
    return lambda folder: [str(GOOD(folder)), "--expression", str(mask(folder))]


def store_under_a_file(folder: Path) -> list[str]:
    (folder / "plain").write_text("not a folder")
    return ["--store", str(folder / "plain" / "store"), str(GOOD(folder))]


def new_store_bad_image(folder: Path) -> list[str]:
    """A store not made yet: a failed ingest must not leave an empty one behind."""
    return ["--store", str(folder / "new-store"), str(cut(save("half.png", NOISE))(folder))]


def corrupt_svs(folder: Path) -> Path:
    """An Aperio slide (tiled TIFF, "Aperio" description) whose one tile is zeros."""
    path = folder / "slide.svs"
    description = "Aperio Image Library v12.0.0\n400x300"
    tifffile.imwrite(path, NOISE, tile=(512, 512), photometric="rgb", compression="zlib",
                     description=description, metadata=None)  # fmt: skip
    with tifffile.TiffFile(path) as opened:
        offset, count = opened.pages[0].dataoffsets[0], opened.pages[0].databytecounts[0]
    data = bytearray(path.read_bytes())
    data[offset + 2 : offset + count] = bytes(count - 2)
    path.write_bytes(bytes(data))
    return path


def an_atlas_data_set(folder: Path) -> list[str]:
    """Data set 77 is an AtlasDataSet (reference plates), not a series of sections."""
    store = Store.open(folder / "store")
    with store.session() as session:
        session.add(AtlasDataSet(id=77))
    store.close()
    return ["--data-set", "77", str(GOOD(folder))]


def store_not_a_database(folder: Path) -> list[str]:
    (folder / "other").mkdir()
    (folder / "other" / "brainmap.sqlite").write_text("id,name\n1,coronal\n")
    return ["--store", str(folder / "other"), str(GOOD(folder))]


def ome(size_z: int) -> Callable[[Path], Path]:
    planes = [RNG.integers(0, 4096, (64, 96), dtype=np.uint16) for _ in range(size_z)]
    description = (
        '<?xml version="1.0"?><OME><Image><Pixels SizeC="1" SizeT="1" '
        f'SizeZ="{size_z}" SizeX="96" SizeY="64"/></Image></OME>'
    )
    return tiff("planes.ome.tif", planes, description=description, metadata=None)


GOOD = save("good.png", GREY)
DEEP = np.tile(np.linspace(0, 65535, 96).astype(np.uint16), (64, 1))
RGBA = np.dstack([np.stack([GREY] * 3, axis=2), np.full((64, 96), 128, np.uint8)])
PAGE = RNG.integers(0, 4096, (64, 96), dtype=np.uint16)
SAMPLES_5 = RNG.integers(0, 255, (64, 96, 5), dtype=np.uint8)


MATRIX = [
    Door("a truncated PNG", image(cut(save("half.png", NOISE))), 1,
         "half.png: truncated or corrupt"),
    Door("a truncated JPEG", image(cut(save("half.jpg", NOISE))), 1,
         "half.jpg: truncated or corrupt"),
    Door("a PNG cut in its header", image(cut(save("head.png", GREY), 0.05)), 1,
         "head.png: not a readable TIFF, PNG or JPEG image or slide-scanner file"),
    Door("a TIFF cut in its strip", image(cut(tiff("half.tif", [PAGE]))), 1,
         "half.tif: truncated or corrupt"),
    Door("a tiled TIFF cut in its tiles", image(cut(tiff("tiles.tif", [PAGE], tile=(16, 16),
         compression="zlib"))), 1, "tiles.tif: truncated or corrupt"),
    Door("a TIFF with a corrupt deflate strip", image(zeroed_strip), 1,
         "bad.tif: truncated or corrupt"),
    Door("a TIFF cut before its directory", image(cut(save("nodir.tif", GREY))), 1,
         "nodir.tif: not a readable TIFF, PNG or JPEG image or slide-scanner file"),
    Door("text named .png", image(text("note.png", "not an image\n")), 1,
         "note.png: not a readable TIFF, PNG or JPEG image"),
    Door("a GIF", image(save("anim.gif", GREY)), 1, "anim.gif: not a readable TIFF, PNG or "
         "JPEG image or slide-scanner file (libvips reads it as gifload)"),
    Door("a folder", image(a_folder), 1, "images.png: is a directory, not an image file"),
    Door("a missing file", lambda folder: [str(folder / "gone.png")], 1, "gone.png: no such file"),
    Door("an unreadable file (a socket)", image(a_socket), 1, "s.png: not a regular file"),
    Door("a named pipe", image(a_fifo), 1, "pipe.png: not a regular file"),
    Door("an unreadable file (no permission)", image(no_permission), 1,
         "locked.png: Permission denied",
         (pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file"),)),
    Door("5 samples a pixel", image(tiff("five.tif", [SAMPLES_5], photometric="minisblack",
         planarconfig="contig")), 1, "five.tif: 5 channels; brainmap keeps 1 to 3"),
    Door("4 pages of one size (4 channels)", image(tiff("four.tif", [PAGE] * 4)), 1,
         "four.tif: 4 channels (one a page); brainmap keeps 1 to 3 channels an image: save each "
         "page as its own file"),
    Door("a stack of RGB pages", image(tiff("stack.tif", [RGBA[..., :3]] * 2)), 1,
         "stack.tif: 2 pages of 96 x 64 with 3 samples each: a stack of images, not channels"),
    Door("full-size pages after a reduced one", image(tiff("mixed.tif",
         [PAGE, PAGE[::2, ::2], PAGE])), 1, "mixed.tif: pages of page 0's size come after"),
    Door("a later page larger than page 0", image(tiff("small-first.tif",
         [PAGE[::2, ::2], PAGE])), 1, "small-first.tif: a later page is larger than page 0"),
    Door("an OME-TIFF of 2 z-planes", image(ome(2)), 1,
         "planes.ome.tif: 2 z-planes or time points; brainmap stores one plane an image"),
    Door("an ImageJ stack of 3 slices", image(imagej_slices), 1,
         "slices.tif: 3 z-planes or time points"),
    Door("RGBA with transparent pixels", image(save("clear.png", RGBA)), 1,
         "clear.png: its alpha channel is not fully opaque"),
    Door("float samples", image(tiff("float.tif", [PAGE.astype(np.float32)])), 1,
         "float.tif: float samples; brainmap ingests 8-bit or 16-bit unsigned integers"),
    Door("signed 16-bit samples", image(tiff("signed.tif", [PAGE.astype(np.int16)])), 1,
         "signed.tif: short samples"),
    Door("16-bit full range into an 8-bit data set", image(tiff("deep.tif", [DEEP])), 1,
         "deep.tif: data set 1 would hold 16-bit images (samples above 4095, scale 65535) "
         "with 8- or 12-bit ones"),
    Door("a good image, then a truncated one", images(GOOD, cut(save("late.png", NOISE))), 1,
         "late.png: truncated or corrupt"),
    Door("the same image twice", images(GOOD, GOOD), 2, "good.png: given twice"),
    Door("--resolution 0", image(GOOD, "--resolution", "0"), 2,
         "--resolution 0.0: must be above 0"),
    Door("--resolution -2", image(GOOD, "--resolution", "-2"), 2,
         "--resolution -2.0: must be above 0"),
    Door("--resolution nan", image(GOOD, "--resolution", "nan"), 2,
         "--resolution nan: must be above 0"),
    Door("--resolution abc", image(GOOD, "--resolution", "abc"), 2,
         "Invalid value for '--resolution'"),
    Door("--data-set 0", image(GOOD, "--data-set", "0"), 2,
         "Invalid value for '--data-set': 0 is not in the range x>=1"),
    Door("--data-set naming an atlas's data set", an_atlas_data_set, 2,
         "--data-set 77: exists and is not a SectionDataSet"),
    Door("--plane diagonal", image(GOOD, "--plane", "diagonal"), 2,
         "--plane diagonal: not a plane of section; one of: "),
    Door("--plane other than the data set's", image(GOOD, "--plane", "sagittal"), 2,
         "--plane sagittal: data set 1 is already cut in plane 1"),
    Door("an unknown --product id", image(GOOD, "--product", "999"), 5,
         "--product 999: no product with that id"),
    Door("--range of three numbers", image(GOOD, "--range", "1,2,3"), 2,
         "--range: six numbers rl,ru,gl,gu,bl,bu with each upper > lower"),
    Door("--range upper below lower", image(GOOD, "--range", "0,9,9,0,0,9"), 2,
         "--range: six numbers"),
    Door("--range beyond the data set's scale", image(GOOD, "--range",
         "0,65535,0,65535,0,65535"), 2, "--range: bounds are on the data set's scale, 0..4095"),
    Door("--range not numbers", image(GOOD, "--range", "a,b"), 2, "Invalid value for --range"),
    Door("a mask of another size", with_mask(save("small.png", GREY[:32])), 1,
         "small.png: expression mask is 96 x 32, its image 96 x 64"),
    Door("two images, one mask", lambda folder: [*images(GOOD, save("b.png", GREY))(folder),
         "--expression", str(GOOD(folder))], 2, "1 expression mask files for 2 images"),
    Door("a label map without --structures", lambda folder: [str(GOOD(folder)), "--labels",
         str(save("labels.png", GREY)(folder))], 2, "label maps need a structure table"),
    Door("an RGB label map", lambda folder: [str(GOOD(folder)), "--labels",
         str(save("labels.png", RGBA[..., :3])(folder)), "--structures",
         str(text("s.csv", "id,color_hex_triplet\n1,FF0000\n")(folder))], 1,
         "labels.png: a label map needs one unsigned integer channel"),
    Door("a structure table without a header", lambda folder: [str(GOOD(folder)), "--labels",
         str(save("labels.png", GREY)(folder)), "--structures",
         str(text("s.csv", "1,root,FFFFFF\n")(folder))], 1, "s.csv: needs a header"),
    Door("a slide with a corrupt tile", image(corrupt_svs), 1, "slide.svs: unreadable slide"),
    Door("a bad image for a store not made yet", new_store_bad_image, 1,
         "half.png: truncated or corrupt"),
    Door("--store under a file", store_under_a_file, 2, "cannot be made (Not a directory"),
    Door("--store whose brainmap.sqlite is no database", store_not_a_database, 2,
         "brainmap.sqlite"),
]  # fmt: skip


def _ingest(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["ingest", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A folder with a store holding an ingested 8-bit coronal data set 1 worth keeping."""
    first = save("first.png", GREY)(tmp_path)
    store = str(tmp_path / "store")
    code, out, err = _ingest("--store", store, "--data-set", "1", "--plane", "coronal", str(first))
    assert code == 0, out + err
    return tmp_path


@pytest.mark.parametrize(
    "door", [pytest.param(door, id=door.input, marks=door.marks) for door in MATRIX]
)
def test_ingest_door(door: Door, workspace: Path) -> None:
    args = door.make(workspace)
    before = snapshot(workspace)
    assert len(before["rows"]) > 10  # type: ignore[arg-type]
    code, out, err = _ingest("--store", str(workspace / "store"), "--data-set", "1", *args)
    assert code == door.code, out + err
    last = err.strip().splitlines()[-1]
    assert door.message in last
    assert last.startswith("Error: " if "Invalid value" in door.message else "brainmap: ")
    if last.startswith("brainmap: "):
        assert err.count("\n") == 1 and last.endswith("(nothing was written)") == (
            not door.input.startswith("--store")
        )
    assert "Traceback" not in out + err and "new section images" not in out
    assert snapshot(workspace) == before


def test_ctrl_c_ends_quietly_and_a_rerun_completes(tmp_path: Path) -> None:
    """A real SIGINT while pyramids are written: exit 130, one line, no temporary files, no
    records; the same command again ingests every image once."""
    side = 2000
    big = np.tile(np.arange(side, dtype=np.uint16) * 21, (side, 1))
    paths = []
    for index in range(4):
        paths.append(tmp_path / f"s{index:02d}.tif")
        tifffile.imwrite(paths[-1], big + index)
    store = tmp_path / "store"
    command = [sys.executable, "-c", "from brainmap.cli import main; main()", "ingest",
               "--store", str(store), "--data-set", "3", *map(str, paths)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(store.glob("pyramids/ingest/3/*.tif")) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert err.decode().strip() == "brainmap: interrupted; run the same command again to resume"
    assert not list(store.rglob("*.partial")) and not list(store.glob(".ingest-*"))
    with sqlite3.connect(f"file:{store / 'brainmap.sqlite'}?immutable=1", uri=True) as db:
        assert db.execute("select count(*) from sub_images").fetchone() == (0,)
    rerun = subprocess.run(command, capture_output=True, timeout=300, check=True)
    assert f"4 new section images (ids {FIRST}-{FIRST + 3})".encode() in rerun.stdout
