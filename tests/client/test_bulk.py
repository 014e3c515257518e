"""Bulk downloads, paging and arrays with `Client` against the real server on loopback."""

from __future__ import annotations

import hashlib
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
import simplejpeg

from brainmap.client import (
    Client,
    ImageDownloadApi,
    IncompleteResult,
    IncompleteResultWarning,
    ProgressEvent,
)
from brainmap.client._http import loop
from brainmap.client.bulk.manifest import FILENAME
from brainmap.errors import ApiError, BadParameter
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.server.state import ImageLimits
from bulk_store import DATA_SET, FIRST_ID, IMAGES, SHAPES, image_files
from small_store import ATLAS_IMAGE, ISH_IMAGE, SmallStore


def test_data_set_download_writes_verified_files_and_manifest(
    client: Client, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    report = client.download_section_data_set(
        DATA_SET, tmp_path, downsample=1, quiet=True, progress=events.append
    )
    assert report.ok and (report.planned, report.fetched, report.skipped) == (IMAGES, IMAGES, 0)
    files = image_files(tmp_path)
    assert sorted(files) == sorted(f"{FIRST_ID + n}_downsample-1.jpg" for n in range(IMAGES))
    for number in range(IMAGES):
        height, width = SHAPES[number % len(SHAPES)]
        body = files[f"{FIRST_ID + number}_downsample-1.jpg"]
        assert simplejpeg.decode_jpeg_header(body)[:2] == (height // 2, width // 2)
    with sqlite3.connect(tmp_path / FILENAME) as db:
        rows = db.execute("SELECT path, url, bytes, sha256, status FROM files").fetchall()
    assert len(rows) == IMAGES
    for path, url, size, digest, status in rows:
        image_id = path.split("_")[0]
        assert status == "verified" and url.endswith(f"/{image_id}?downsample=1")
        assert (size, digest) == (len(files[path]), hashlib.sha256(files[path]).hexdigest())
    assert [event.done for event in events] == list(range(IMAGES + 1))
    assert events[-1].bytes == report.bytes == sum(map(len, files.values()))


def test_rerun_skips_verified_files_and_refetches_missing_ones(
    client: Client, tmp_path: Path
) -> None:
    client.download_section_data_set(DATA_SET, tmp_path, quiet=True)
    before = image_files(tmp_path)
    (tmp_path / f"{FIRST_ID}.jpg").unlink()
    (tmp_path / f"{FIRST_ID + 1}.jpg").write_bytes(b"short")
    (tmp_path / f".{FIRST_ID + 2}.jpg.abc123.part").write_bytes(b"left by a killed run")
    report = client.download_section_data_set(DATA_SET, tmp_path, quiet=True)
    assert (report.fetched, report.skipped) == (2, IMAGES - 2)
    assert image_files(tmp_path) == before
    again = client.download_section_data_set(DATA_SET, tmp_path, quiet=True)
    assert (again.fetched, again.skipped) == (0, IMAGES)


def test_changed_parameters_refetch_everything(client: Client, tmp_path: Path) -> None:
    client.download_images([FIRST_ID, FIRST_ID + 1], tmp_path, quiet=True, downsample=1)
    report = client.download_images([FIRST_ID, FIRST_ID + 1], tmp_path, quiet=True, quality=50)
    assert report.fetched == 2


def test_atlas_download_fetches_annotated_plates(small_server: str, tmp_path: Path) -> None:
    with Client(small_server) as client:
        report = client.download_atlas(1, tmp_path, quiet=True, downsample=1)
    assert report.ok and set(image_files(tmp_path)) == {f"{ATLAS_IMAGE}_downsample-1.jpg"}
    expected = tmp_path / "allensdk.jpg"
    ImageDownloadApi(small_server).download_atlas_image(
        ATLAS_IMAGE, str(expected), annotation=True, atlas=1, downsample=1
    )
    assert (tmp_path / f"{ATLAS_IMAGE}_downsample-1.jpg").read_bytes() == expected.read_bytes()


def test_failed_files_are_reported_and_recorded(small_server: str, tmp_path: Path) -> None:
    records = [
        {
            "id": 999_999,
            "x": 0,
            "y": 0,
            "width": 64,
            "height": 64,
            "image_width": 64,
            "image_height": 64,
            "tier_count": 1,
        }
    ]
    with Client(small_server) as client:
        report = client.download_images([999_999], tmp_path, quiet=True, records=records)
        with pytest.raises(BadParameter, match="outside"):
            client.download_images([ISH_IMAGE], tmp_path, quiet=True, left=100_000)
    assert not report.ok and list(report.failures) == ["999999.jpg"]
    assert "HTTP 404" in report.failures["999999.jpg"]
    assert image_files(tmp_path) == {}
    with sqlite3.connect(tmp_path / FILENAME) as db:
        assert db.execute("SELECT status FROM files").fetchall() == [("failed",)]


def test_paged_query_matches_a_single_query(client: Client) -> None:
    whole = client.section_images(DATA_SET)
    paged = client.section_images(DATA_SET, page_size=7)
    assert len(whole) == IMAGES
    assert sorted(row["id"] for row in whole) == [row["id"] for row in paged]


def test_short_result_raises_or_warns(client: Client) -> None:
    with pytest.raises(IncompleteResult, match="got 50 of 60 rows"):
        client.query("model::SectionImage")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = client.query("model::SectionImage", strict=False)
    assert len(rows) == 50 and caught[0].category is IncompleteResultWarning
    assert len(client.query("model::SectionImage", page_size=25)) == IMAGES


def test_stitched_array_equals_one_request_to_a_server_with_a_higher_limit(
    small_store: SmallStore,
) -> None:
    low = ImageLimits(max_pixels=40_000, max_side=256)
    with (
        BackgroundServer(create_app(small_store.store, limits=low)) as limited,
        BackgroundServer(create_app(small_store.store)) as roomy,
        Client(limited.url) as tiled,
        Client(roomy.url) as whole,
        Client(roomy.url, max_pixels=30_000, max_side=200) as planned,
    ):
        requests = [
            {},
            {"downsample": 1, "quality": 80},
            {"downsample": 1, "left": 333, "top": 77, "width": 301, "height": 250},
        ]
        for params in requests:
            reference = whole.get_image(ISH_IMAGE, **params)
            assert np.array_equal(tiled.get_image(ISH_IMAGE, **params), reference)
            assert np.array_equal(planned.get_image(ISH_IMAGE, **params), reference)
        with pytest.raises(ApiError) as refused:
            url = tiled.api.image_url(ISH_IMAGE, tiled.api.section_image_download_endpoint)
            loop.run(tiled.api.transport.get(url))
    assert refused.value.status == 413
    assert reference.shape == (250, 301, 3)
