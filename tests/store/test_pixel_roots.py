"""A store's pixels on object storage (moto's S3 on loopback) answer byte for byte as the same
store on local disk, on SQLite and PostgreSQL; the doors of ``--pixels`` and ``--db``."""

from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from brainmap.cli import main
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.writer import PyramidKind
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import NotAStore, Store
from brainmap.store.pixel_paths import OutsidePyramids
from brainmap.store.pixels import LocalPixels, RemotePixels
from lab_store import ANSWERS, ingest, lab_images
from loopback import request
from postgres import NewDatabase

RNG = np.random.default_rng(14)


@pytest.fixture()
def ingest_arguments(tmp_path: Path) -> list[str]:
    return lab_images(tmp_path)


def _answers(store: Store) -> list[tuple[int, bytes]]:
    """Each answer to `ANSWERS`, the server's own address (in IIIF documents) left out."""
    with BackgroundServer(create_app(store)) as server:
        replies = map(request, _urls(server.url))
        return [(reply.status, reply.body.replace(server.url.encode(), b"")) for reply in replies]


def _urls(base: str) -> list[str]:
    return [f"{base}{path}" for path in ANSWERS]


def test_pixels_on_object_storage_answer_as_on_local_disk(
    tmp_path: Path, bucket: str, new_database: NewDatabase, ingest_arguments: list[str]
) -> None:
    ingest("--store", str(tmp_path / "local"), *ingest_arguments)
    pixels = f"s3://{bucket}/lab-store"
    database = new_database("remote")
    chosen = ["--db", database] if database else []
    remote = ["--store", str(tmp_path / "remote"), *chosen, "--pixels", pixels]
    ingest(*remote, *ingest_arguments)
    ingest(*remote, *ingest_arguments)  # a rerun finds everything written: nothing new
    assert not any((tmp_path / "remote").glob("**/*.tif"))  # nothing left on the local disk
    objects = fsspec.filesystem("s3").find(f"{bucket}/lab-store")
    assert len(objects) == 4 and all("/lab-store/pyramids/ingest/5/" in key for key in objects)
    local = Store.open(tmp_path / "local")
    stored = Store.open(tmp_path / "remote", database, pixels)
    try:
        expected, found = _answers(local), _answers(stored)
    finally:
        local.close()
        stored.close()
    assert [status for status, _ in expected] == [200] * len(ANSWERS)
    assert found == expected


def test_a_remote_root_writes_whole_files_and_reads_them_as_a_folder_does(
    tmp_path: Path, bucket: str
) -> None:
    remote = RemotePixels(f"s3://{bucket}/root")
    local = LocalPixels(tmp_path)
    picture = RNG.integers(0, 256, size=(600, 800, 3)).astype(np.uint8)
    name = "pyramids/a/b.tif"
    for root in (remote, local):
        assert not root.has(name)
        root.write_pyramid(name, picture, PyramidKind.LOSSLESS)
        assert root.has(name)
    region = [root.open(name).read_region(1, 10, 20, 300, 200) for root in (remote, local)]
    np.testing.assert_array_equal(region[0], region[1])
    first = remote.version(name)
    assert first[1] == str((tmp_path / name).stat().st_size)
    for outside in ("../pyramids/x.tif", "pyramids/../../x.tif", "/etc/passwd", "reference/x"):
        for root in (remote, local):
            with pytest.raises(OutsidePyramids):
                root.open(outside)
    with pytest.raises(DamagedPyramid, match="is missing"):
        remote.open("pyramids/never-written.tif")


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        ("s3://no-such-bucket-for-brainmap/x", "there is no bucket 'no-such-bucket-for-brainmap'"),
        ("nosuchscheme://bucket/x", "not a filesystem URL"),
    ],
)
def test_a_pixel_root_that_cannot_be_used_is_refused_before_anything_is_written(
    tmp_path: Path, bucket: str, ingest_arguments: list[str], pixels: str, message: str
) -> None:
    folder = tmp_path / "never"
    result = CliRunner().invoke(
        main, ["ingest", "--store", str(folder), "--pixels", pixels, *ingest_arguments]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not folder.exists()
    Store.create(tmp_path / "store").close()
    served = CliRunner().invoke(
        main, ["serve", "--store", str(tmp_path / "store"), "--pixels", pixels]
    )
    assert served.exit_code == 2 and message in served.output
    with pytest.raises(NotAStore, match=message):
        Store.create(folder, pixels=pixels)


def test_a_database_url_that_cannot_be_used_is_one_line(
    tmp_path: Path, ingest_arguments: list[str]
) -> None:
    for url, message in [
        ("nosuchdb://x", "cannot be opened"),
        ("postgresql+psycopg://brainmap@127.0.0.1:1/none", "cannot be read"),
    ]:
        result = CliRunner().invoke(
            main, ["ingest", "--store", str(tmp_path / "s"), "--db", url, *ingest_arguments]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output


def test_reference_add_and_plates_write_into_a_remote_pixel_root(
    tmp_path: Path, bucket: str
) -> None:
    labels = np.zeros((8, 6, 10), dtype=np.uint32)
    labels[2:6, 1:5, 2:8] = 997
    annotation = str(tmp_path / "annotation.tif")
    tifffile.imwrite(annotation, labels)
    pixels = f"s3://{bucket}/atlas"
    store = ["--store", str(tmp_path / "store"), "--pixels", pixels]
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "reference",
            "add",
            *store,
            "--id",
            "9",
            "--name",
            "test",
            "--annotation",
            annotation,
            "--resolution",
            "25",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "reference/9/" in added.output
    cut = runner.invoke(
        main,
        ["reference", "plates", *store, "--reference-space", "9", "--atlas", "77", "--every", "50"],
    )
    assert cut.exit_code == 0, cut.output
    objects = fsspec.filesystem("s3").find(f"{bucket}/atlas")
    assert any("/atlas/reference/9/" in key for key in objects)
    assert any("/atlas/pyramids/reference/9/atlas-77/" in key for key in objects)
    assert sorted(path.name for path in (tmp_path / "store").iterdir()) == ["brainmap.sqlite"]


@pytest.mark.parametrize(
    ("pixels", "message"),
    [("missing", "no such folder"), ("a-file", "not a folder"), ("", "names no folder or URL")],
)
def test_a_local_pixel_root_that_is_not_a_folder_is_refused(
    tmp_path: Path, pixels: str, message: str
) -> None:
    Store.create(tmp_path / "store").close()
    (tmp_path / "a-file").write_text("not a folder")
    named = str(tmp_path / pixels) if pixels else ""
    served = CliRunner().invoke(
        main, ["serve", "--store", str(tmp_path / "store"), "--pixels", named]
    )
    assert served.exit_code == 2 and message in served.output, served.output
    assert "Traceback" not in served.output


def test_a_new_store_goes_into_a_new_sqlite_file_and_a_new_pixel_folder(
    tmp_path: Path, ingest_arguments: list[str]
) -> None:
    database, pixels = tmp_path / "records.sqlite", tmp_path / "pixels"
    store = ["--store", str(tmp_path / "store"), "--db", f"sqlite:///{database}"]
    ingest(*store, "--pixels", str(pixels), *ingest_arguments)
    assert database.stat().st_size > 0 and any(pixels.glob("pyramids/**/*.tif"))
