"""``brainmap store copy``: a store with images, masks, plates and a mirrored level copied from
SQLite and a folder to PostgreSQL and S3 (moto on loopback) and back to SQLite and another
folder, each copy serving the same bytes as the original; a copy stopped part way resumes; a
destination that is another store is refused untouched; a damaged destination file is copied
again; a source file that is missing is named."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner, Result

from brainmap.cli.store_copy import copy
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.reference.volume import write_volume
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.copy import TABLES, copy_store
from brainmap.store.copy_rows import digest
from brainmap.store.folder import Store
from brainmap.store.mirrored import record_mirrored_level
from brainmap.store.pixels import LocalPixels
from brainmap.store.schema import Product, ReferenceSpace, SectionImage, SubImage
from loopback import request
from postgres import Cluster
from s3_server import S3Server
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, build_small_store

MIRRORED = 5001
ALLEN_PATH = f"/external/aibssan/production32/{MIRRORED}.aff"
MIRROR_FILE = "pyramids/mirror/5001/0.tif"
VOLUME = "reference/9/volume.zarr"
PYRAMIDS = 8
"""Pyramids of the source: the small store's seven and the mirrored level."""
QUERIES = (
    "/api/v2/data/query.json?criteria=model::SubImage,rma::include,alternate_images,"
    "rma::options[num_rows$eqall]",
    "/api/v2/data/query.json?criteria=model::SectionDataSet,rma::include,products",
    "/api/v2/data/query.json?criteria=model::Structure,rma::options[order$eq'id']",
    f"/api/v2/image_download/{ISH_IMAGE}?downsample=1",
    f"/api/v2/image_download/{ISH_IMAGE}?downsample=2&expression=true",
    f"/api/v2/image_download/{CONNECTIVITY_IMAGE}?downsample=1&projection=true",
    f"/api/v2/image_download/{CONNECTIVITY_IMAGE}?range=0,900,0,1000,0,4095",
    f"/api/v2/atlas_image_download/{ATLAS_IMAGE}?annotation=true&atlas=1&downsample=1",
    f"/api/v2/image_download/{MIRRORED}",
    f"/iiif/3/{ISH_IMAGE}/0,0,512,512/256,/0/default.jpg",
)


class StopAfter(LocalPixels):
    """A folder that takes `files` files, then stops the copy as Ctrl-C would (files are
    copied several at once: the count is kept under a lock)."""

    def __init__(self, folder: Path, files: int) -> None:
        super().__init__(folder)
        self.left = files
        self.lock = threading.Lock()

    def put_file(self, source: Path, name: str) -> None:
        with self.lock:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
        super().put_file(source, name)


class StopAtTable:
    """Progress that stops the copy as Ctrl-C would after the first batch of `table`."""

    def __init__(self, table: str | None) -> None:
        self.stop = table

    def table(self, name: str, rows: int) -> None:
        if name == self.stop:
            raise KeyboardInterrupt

    def files(self, count: int) -> None:
        """Nothing to draw."""

    def file(self, name: str, size: int) -> None:
        """Nothing to draw."""


@pytest.fixture()
def source(tmp_path: Path) -> Iterator[Store]:
    """The small store, with a mirrored level of an Allen image, a reference space's volume
    and kept unknown fields (a JSON object, and a JSON null beside SQL NULLs)."""
    store = build_small_store(tmp_path / "source").store
    labels = np.zeros((6, 5, 7), np.uint32)
    labels[1:5, 1:4, 2:6] = 315
    tifffile.imwrite(tmp_path / "annotation.tif", labels)
    tifffile.imwrite(tmp_path / "template.tif", (labels // 3).astype(np.uint16))
    store.pixels.write_volume(
        VOLUME,
        lambda folder: write_volume(
            folder,
            tmp_path / "annotation.tif",
            template=tmp_path / "template.tif",
            resolution_um=25,
        ),
    )
    levels = np.arange(64 * 96 * 3, dtype=np.uint8).reshape(64, 96, 3)
    target = store.pyramid_path(MIRROR_FILE)
    target.parent.mkdir(parents=True)
    write_pyramid(levels, target, PyramidKind.RGB8)
    with store.session() as session:
        session.add(
            SectionImage(id=MIRRORED, data_set_id=100, path=ALLEN_PATH, **whole_image(96, 64))
        )
        record_mirrored_level(session, ALLEN_PATH, 0, MIRROR_FILE)
        session.add(
            ReferenceSpace(
                id=9,
                name="P56 Brain",
                structure_graph_id=1,
                **dict.fromkeys(("resolution_p", "resolution_i", "resolution_r"), 25.0),
                annotation_path=VOLUME,
                template_path=VOLUME,
            )
        )
        session.get_one(SubImage, ISH_IMAGE).extra = {"lims_note": "kept", "zeta": [1, None, 2.5]}
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE products SET extra = 'null' WHERE id = 5")
    yield store
    store.close()


def run(*arguments: str | Path) -> Result:
    return CliRunner().invoke(copy, [str(argument) for argument in arguments])


def answers(store: Store) -> list[tuple[int, bytes]]:
    """Status and body of each of `QUERIES` from a real server over `store`."""
    with BackgroundServer(create_app(store)) as server:
        replies = [request(f"{server.url}{query}") for query in QUERIES]
    return [(reply.status, reply.body) for reply in replies]


def volume(store: Store) -> list[bytes]:
    """The reference volume's voxels, both layers, read through the store's pixel root."""
    opened = store.pixels.open_volume(VOLUME)
    planes = range(opened.shape[0])
    return [opened.plane("p", p, layer).tobytes() for layer in opened.layers for p in planes]


def pixel_files(store: Store) -> int:
    """How many files the store's records name: its pyramids and its volume's files."""
    return PYRAMIDS + sum(1 for file in (store.root / VOLUME).rglob("*") if file.is_file())


def pixel_bytes(store: Store) -> dict[Path, bytes]:
    """Every file of a store folder's pixel root, by path."""
    files = [*(store.root / "pyramids").rglob("*"), *(store.root / "reference").rglob("*")]
    return {file: file.read_bytes() for file in files if file.is_file()}


def fingerprint(store: Store) -> list[tuple[str, int, int]]:
    """Each table's row count and digest."""
    with store.engine.connect() as connection:
        return [(table.name, *vars(digest(connection, table)).values()) for table in TABLES]


def test_a_copy_to_postgresql_and_s3_and_back_serves_the_same_bytes(
    source: Store, postgres: Cluster, bucket: str, tmp_path: Path
) -> None:
    remote_db, remote_pixels = postgres.database("copy"), f"s3://{bucket}/store"
    before = fingerprint(source), pixel_bytes(source)
    copied = run("--store", source.root, "--to-db", remote_db, "--to-pixels", remote_pixels)
    assert copied.exit_code == 0, copied.output
    assert "sub_images: 5 rows copied, 0 already there" in copied.output
    assert f"files: {pixel_files(source)} copied" in copied.output
    back = run(
        *("--store", tmp_path / "staging", "--db", remote_db, "--pixels", remote_pixels),
        *("--to-store", tmp_path / "back", "--to-pixels", tmp_path / "pixels"),
    )
    assert back.exit_code == 0, back.output
    original = answers(source)
    assert all(status == 200 for status, _ in original)
    copies = (
        Store.open(tmp_path / "staging", remote_db, remote_pixels),
        Store.open(tmp_path / "back", None, str(tmp_path / "pixels")),
    )
    for copy_of in copies:
        assert fingerprint(copy_of) == fingerprint(source)
        assert answers(copy_of) == original
        assert volume(copy_of) == volume(source)
    assert extras(copies[1]) == extras(source) == [(1, None), (5, "null")]
    assert (fingerprint(source), pixel_bytes(source)) == before
    with copies[0].session() as session:  # PostgreSQL's id sequence follows the copied ids
        added = Product(name="made after the copy")
        session.add(added)
    assert added.id == 6
    for copy_of in copies:
        copy_of.close()


def extras(store: Store) -> list[tuple[int, str | None]]:
    """The products' kept fields as stored: SQL NULL, or JSON text."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, extra FROM products ORDER BY id")
        return [(key, extra) for key, extra in rows]


@pytest.mark.parametrize("stop", ["files", "records"])
def test_a_stopped_copy_resumes_and_ends_identical(
    source: Store, tmp_path: Path, stop: str
) -> None:
    files = pixel_files(source)
    destination = Store.create(tmp_path / "copy")
    if stop == "files":
        destination.pixels = StopAfter(destination.root, 3)
        progress = StopAtTable(None)
    else:
        progress = StopAtTable("sub_images")
    with pytest.raises(KeyboardInterrupt):
        copy_store(source, destination, progress)
    destination.close()
    held = [file for file in (tmp_path / "copy" / "pyramids").rglob("*") if file.is_file()]
    resumed = run("--store", source.root, "--to-store", tmp_path / "copy")
    assert resumed.exit_code == 0, resumed.output
    if stop == "files":
        assert len(held) == 3
        copied, skipped = map(int, re.findall(r"(\d+) (?:copied|already there) \(", resumed.output))
        assert copied + skipped == files and skipped >= 3 and copied >= PYRAMIDS - 3
        assert "sub_images: 0 rows copied, 5 already there" in resumed.output
    else:
        assert "sub_images: 0 rows copied, 5 already there" in resumed.output
        assert "alternate_images: 4 rows copied, 0 already there" in resumed.output
        assert f"files: {files} copied" in resumed.output
    copied = Store.open(tmp_path / "copy")
    assert fingerprint(copied) == fingerprint(source)
    assert answers(copied) == answers(source)
    copied.close()


@pytest.mark.parametrize(
    ("product", "why"),
    [
        (Product(id=1, name="Another lab's product"), "table products, row 1, unlike the source's"),
        (Product(id=99, name="Mouse Brain"), "table products, row 99, which the source has not"),
    ],
)
def test_another_store_is_refused_and_left_untouched(
    source: Store, tmp_path: Path, product: Product, why: str
) -> None:
    other = Store.create(tmp_path / "other")
    with other.session() as session:
        session.add(product)
    before = fingerprint(other)
    refused = run("--store", source.root, "--to-store", other.root)
    assert refused.exit_code == 2
    assert f"holds another store's records ({why}); copy into an empty store" in refused.output
    assert fingerprint(other) == before
    assert not any((other.root / "pyramids").iterdir())
    other.close()


def test_the_source_itself_is_refused(source: Store) -> None:
    refused = run("--store", source.root, "--to-store", source.root)
    assert refused.exit_code == 2
    assert "the destination is the source's own database; nothing was copied" in refused.output


def test_a_damaged_destination_file_is_copied_again(source: Store, tmp_path: Path) -> None:
    assert run("--store", source.root, "--to-store", tmp_path / "copy").exit_code == 0
    damaged = tmp_path / "copy" / MIRROR_FILE
    data = bytearray(damaged.read_bytes())
    data[-100:] = bytes(100)
    damaged.write_bytes(bytes(data))
    again = run("--store", source.root, "--to-store", tmp_path / "copy")
    assert again.exit_code == 0, again.output
    assert "files: 1 copied" in again.output
    assert f"{pixel_files(source) - 1} already there" in again.output
    assert damaged.read_bytes() == source.pyramid_path(MIRROR_FILE).read_bytes()


def test_a_missing_source_file_is_named(source: Store, tmp_path: Path) -> None:
    source.pyramid_path(MIRROR_FILE).unlink()
    failed = run("--store", source.root, "--to-store", tmp_path / "copy")
    assert failed.exit_code == 1
    assert f"{MIRROR_FILE} (mirrored_pyramids file of {ALLEN_PATH}): missing at the source" in (
        failed.output
    )
    assert f"files: {pixel_files(source) - 1} copied" in failed.output
    assert not (tmp_path / "copy" / MIRROR_FILE).exists()


def test_a_file_of_another_store_is_not_replaced(source: Store, tmp_path: Path) -> None:
    theirs = tmp_path / "copy" / "pyramids" / "ish.tif"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"another store's pyramid")
    failed = run("--store", source.root, "--to-store", tmp_path / "copy")
    assert failed.exit_code == 1
    assert "pyramids/ish.tif (sub_images path of 1001): is at the destination with other" in (
        failed.output
    )
    assert theirs.read_bytes() == b"another store's pyramid"


def test_ctrl_c_stops_the_copy_and_a_rerun_finishes_it(
    source: Store, bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    """A real SIGINT while a file is read from S3 (held there): exit 130 with one line; the
    same command again completes the copy."""
    remote = ("--store", tmp_path / "remote", "--pixels", f"s3://{bucket}/store")
    to_remote = ("--to-store", tmp_path / "remote", "--to-pixels", f"s3://{bucket}/store")
    assert run("--store", source.root, *to_remote).exit_code == 0
    arguments = [*map(str, remote), "--to-store", str(tmp_path / "copy")]
    command = [
        sys.executable,
        "-c",
        "from brainmap.cli import main; main()",
        "store",
        "copy",
        *arguments,
    ]
    earlier = len(s3_server.requests)
    with s3_server.holding(10**6):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(seen.range for seen in s3_server.requests[earlier:]):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.decode().strip() == "brainmap: interrupted; run the same command again to resume"
    resumed = run(*remote, "--to-store", tmp_path / "copy")
    assert resumed.exit_code == 0, resumed.output
    assert "sub_images: 0 rows copied, 5 already there" in resumed.output
    copied = Store.open(tmp_path / "copy")
    assert fingerprint(copied) == fingerprint(source)
    assert answers(copied) == answers(source)
    copied.close()
