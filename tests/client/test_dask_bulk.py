"""Bulk downloads on a dask.distributed LocalCluster against the real server on loopback: the
same files as a local run, a manifest kept by the coordinator, resumable."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from click.testing import CliRunner
from dask import config as dask_config
from distributed import Client as DaskClient
from distributed import LocalCluster
from reference_store import SAGITTAL

from brainmap.cli import main
from brainmap.client import Client
from brainmap.client.bulk.manifest import FILENAME
from bulk_store import DATA_SET, FIRST_ID, IMAGES, image_files


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two in-process workers over TCP, every socket on 127.0.0.1 and a free port.

    distributed's sampling profiler is off: it calls ``sys._current_frames()`` every 10 ms, and
    on CPython 3.11 a garbage collection inside that call that frees a ``threading.local``
    deadlocks the whole interpreter (the runtime lock is taken twice); with the workers in this
    process, that once hung the suite."""
    with (
        dask_config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
    ):
        yield cluster


@pytest.fixture(scope="module")
def dask(cluster: LocalCluster) -> Iterator[DaskClient]:
    with DaskClient(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def local_run(bulk_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("local-run")
    with Client(bulk_server) as client:
        assert client.download_section_data_set(DATA_SET, folder, quiet=True, downsample=1).ok
    return image_files(folder)


def test_cluster_run_equals_local_run_and_resumes(
    bulk_server: str, dask: DaskClient, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    with Client(bulk_server, concurrency=3) as client:
        report = client.download_section_data_set(
            DATA_SET, tmp_path, client=dask, quiet=True, downsample=1
        )
        assert report.ok and (report.fetched, report.skipped) == (IMAGES, 0)
        assert image_files(tmp_path) == local_run
        with sqlite3.connect(tmp_path / FILENAME) as db:
            statuses = db.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall()
        assert statuses == [("verified", IMAGES)]
        (tmp_path / f"{FIRST_ID + 3}_downsample-1.jpg").unlink()
        (tmp_path / f".{FIRST_ID}_downsample-1.jpg.x.part").write_bytes(b"left by a killed worker")
        again = client.download_section_data_set(
            DATA_SET, tmp_path, client=dask, quiet=True, downsample=1
        )
    assert (again.fetched, again.skipped) == (1, IMAGES - 1)
    assert image_files(tmp_path) == local_run


def test_fsspec_destination_keeps_the_manifest_with_the_coordinator(
    bulk_server: str, dask: DaskClient, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    url = "memory://brainmap-dask-test/images"
    manifest = tmp_path / "run.sqlite"
    with Client(bulk_server) as client:
        with pytest.raises(ValueError, match="manifest"):
            client.download_section_data_set(DATA_SET, url, client=dask, quiet=True)
        report = client.download_section_data_set(
            DATA_SET, url, client=dask, manifest=manifest, quiet=True, downsample=1
        )
        again = client.download_section_data_set(
            DATA_SET, url, client=dask, manifest=manifest, quiet=True, downsample=1
        )
    assert report.ok and report.fetched == IMAGES and again.skipped == IMAGES
    memory = fsspec.filesystem("memory")
    stored = {path.rsplit("/", 1)[1]: memory.cat_file(path) for path in memory.find(url)}
    assert stored == local_run
    memory.rm(url, recursive=True)


def test_cli_dask_address(
    bulk_server: str, cluster: LocalCluster, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    out = f"file://{tmp_path}"
    args = ["download", "data-set", str(DATA_SET), "--api", bulk_server, "--out", out]
    result = CliRunner().invoke(
        main, [*args, "--dask", cluster.scheduler_address, "--downsample", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{IMAGES} fetched, 0 already there, 0 failed")
    assert image_files(tmp_path) == local_run


def test_sections_warped_on_the_cluster_equal_a_local_run(
    reference_server: str, dask: DaskClient, tmp_path: Path
) -> None:
    """Warping jobs travel to the workers (pickled) and write what a local run writes; to an
    fsspec destination the files and reference.json land there too."""
    local, url = tmp_path / "local", "memory://brainmap-dask-test/warped"
    with Client(reference_server) as client:
        assert client.download_section_data_set(SAGITTAL, local, to_reference=50, quiet=True).ok
        report = client.download_section_data_set(
            SAGITTAL, url, to_reference=50, client=dask, manifest=tmp_path / "m.sqlite", quiet=True
        )
    assert report.ok and report.fetched == 2
    memory = fsspec.filesystem("memory")
    stored = {path.rsplit("/", 1)[1]: memory.cat_file(path) for path in memory.find(url)}
    assert stored == image_files(local)
    memory.rm(url, recursive=True)
