"""The client API at every door, against the real servers on loopback: ids that match nothing,
parameters checked before a job starts, server URLs however written, ``range="auto"``, file
names and modes, manifest conflicts, true rates and a session closed at exit."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from brainmap.client import (
    Client,
    ImageDownloadApi,
    MockTransport,
    Request,
    Response,
    RmaApi,
    json_response,
)
from brainmap.client._http import loop
from brainmap.client.bulk.manifest import FILENAME, Job, Manifest
from brainmap.client.bulk.naming import FileNamer
from brainmap.client.bulk.progress import ProgressReporter, files_per_second
from brainmap.client.ranges import image_windows
from brainmap.errors import BadParameter, NotFound
from brainmap.params import ImageRequest
from bulk_store import DATA_SET, FIRST_ID
from small_store import CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES


def test_ids_that_match_nothing_raise_not_found_and_write_nothing(
    client: Client, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    calls = {
        "no section data set 424242": lambda: client.download_section_data_set(424242, out),
        "no atlas 999": lambda: client.download_atlas(999, out),
        "no image with id 1, 2": lambda: client.download_images([1, FIRST_ID, 2], out),
        "no image 7": lambda: client.get_image(7),
    }
    for message, call in calls.items():
        with pytest.raises(NotFound, match=message):
            call()
    assert not out.exists()


def test_the_allensdk_classes_still_answer_empty_lists(bulk_server: str) -> None:
    api = ImageDownloadApi(bulk_server)
    assert api.section_image_query(424242) == []
    assert api.atlas_image_query(999) == []
    assert api.get_section_image_ranges([1]) == []


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"quality": 101}, "quality"),
        ({"range": (0, 10)}, "range: needs 6"),
        ({"range": (5, 1, 0, 1, 0, 1)}, "range: r upper bound"),
        ({"colormap": "nope"}, "colormap"),
        ({"left": -3}, "left"),
        ({"range": "Auto"}, "range"),
    ],
)
def test_bad_parameters_stop_the_job_before_it_starts(
    client: Client, tmp_path: Path, params: dict[str, object], named: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(BadParameter, match=named):
        client.download_section_data_set(DATA_SET, out, quiet=True, **params)  # type: ignore[arg-type]  # wrong on purpose
    assert not out.exists()


def test_an_out_that_cannot_be_a_folder_is_refused_before_anything(
    client: Client, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.write_text("a file")
    for out, said in ((plain, "is a file"), (plain / "below", "is under the file")):
        with pytest.raises(BadParameter, match=said):
            client.download_images([FIRST_ID], out, quiet=True)
    assert [path.name for path in tmp_path.iterdir()] == ["plain"]


def test_server_urls_however_written_send_identical_requests(tmp_path: Path) -> None:
    root = "http://brainmap.example:8080"
    sent: dict[str, list[str]] = {}
    for spelling in (root, root + "/", root + "/api/v2", root + "/api/v2/", root + "//api/v2//"):
        urls: list[str] = []

        def answer(request: Request, urls: list[str] = urls) -> Response:
            urls.append(request.url)
            return json_response(request, {"success": True, "total_rows": 0, "msg": []})

        transport = MockTransport(answer)
        with Client(spelling, transport=transport) as client:
            client.query("model::Atlas")
            client.section_images(1)
        api = ImageDownloadApi(spelling, transport=transport)
        api.section_image_query(1)
        urls.append(api.image_url(5, api.section_image_download_endpoint, downsample=2))
        RmaApi(spelling, transport=transport).model_query("Atlas")
        assert api.api_url == root
        sent[spelling] = urls
    first = sent[root]
    assert all(urls == first for urls in sent.values())
    assert all(url.startswith(root + "/api/v2/") and "//api" not in url for url in first)


def test_server_urls_however_written_reach_the_server(bulk_server: str, tmp_path: Path) -> None:
    for number, spelling in enumerate((bulk_server + "/", bulk_server + "/api/v2/")):
        with Client(spelling) as client:
            assert len(client.section_images(DATA_SET, page_size=50)) > 50
            report = client.download_images([FIRST_ID], tmp_path / str(number), quiet=True)
        assert report.ok and report.fetched == 1
        ImageDownloadApi(spelling).download_section_image(FIRST_ID, str(tmp_path / "sdk.jpg"))
    assert (tmp_path / "0" / f"{FIRST_ID}.jpg").read_bytes() == (tmp_path / "sdk.jpg").read_bytes()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_files_get_the_mode_the_umask_gives(
    client: Client, tmp_path: Path, umask: int, mode: int
) -> None:
    previous = os.umask(umask)
    try:
        client.download_images([FIRST_ID], tmp_path, quiet=True)
        client.api.download_section_image(FIRST_ID, str(tmp_path / "sdk.jpg"))
    finally:
        os.umask(previous)
    for name in (f"{FIRST_ID}.jpg", "sdk.jpg"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode


def test_range_auto_applies_each_images_own_equalization(small_server: str, tmp_path: Path) -> None:
    ids = [ISH_IMAGE, CONNECTIVITY_IMAGE]  # data set 100 has no Equalization, 200 has RANGES
    with Client(small_server) as client:
        report = client.download_images(ids, tmp_path, quiet=True, downsample=1, range="auto")
        assert report.ok
        windowed = client.get_image(CONNECTIVITY_IMAGE, downsample=1, range="auto")
        assert np.array_equal(
            windowed, client.get_image(CONNECTIVITY_IMAGE, downsample=1, range=RANGES)
        )
    sdk = ImageDownloadApi(small_server)
    expected = {
        ISH_IMAGE: {"downsample": 1},
        CONNECTIVITY_IMAGE: {"downsample": 1, "range": list(RANGES)},
    }
    for image_id, params in expected.items():
        reference = tmp_path / f"sdk-{image_id}.jpg"
        sdk.download_section_image(image_id, str(reference), **params)
        got = tmp_path / f"{image_id}_downsample-1_range-auto.jpg"
        assert got.read_bytes() == reference.read_bytes(), image_id


def test_range_auto_asks_once_per_data_set() -> None:
    asked: list[str] = []

    def answer(request: Request) -> Response:
        asked.append(urllib.parse.unquote(request.url))
        window = {"red_lower": 1, "red_upper": 2, "green_lower": 3, "green_upper": 4}
        window |= {"blue_lower": 5, "blue_upper": 6}
        rows = [window] if "[id$eq7]" in asked[-1] else []
        return json_response(request, {"success": True, "total_rows": len(rows), "msg": rows})

    records = [
        {"id": 1, "data_set_id": 7},
        {"id": 2, "data_set_id": 7},
        {"id": 3, "data_set_id": 8},
        {"id": 4, "data_set_id": None},
    ]
    windows = loop.run(image_windows(MockTransport(answer), "http://h/api/v2/data", records))
    assert windows == {1: (1, 2, 3, 4, 5, 6), 2: (1, 2, 3, 4, 5, 6), 3: None, 4: None}
    assert len(asked) == 2 and all("model::Equalization" in url for url in asked)


def test_file_names_carry_the_parameters() -> None:
    plain = ImageRequest()
    windowed = ImageRequest.from_kwargs(downsample=2, range=[0, 900, 0, 1000, 0, 4095])
    annotated = ImageRequest(annotation=True, atlas=1, downsample=3)
    names = [
        FileNamer(plain).name(5),
        FileNamer(windowed).name(5),
        FileNamer(ImageRequest(downsample=2), auto_range=True).name(5),
        FileNamer(ImageRequest.from_kwargs(colormap="jet", quality=80)).name(5),
        FileNamer(annotated, ImageRequest(annotation=True, atlas=1)).name(5),
        FileNamer(ImageRequest(annotation=False)).name(5),
    ]
    assert names == [
        "5.jpg",
        "5_downsample-2_range-0,900,0,1000,0,4095.jpg",
        "5_downsample-2_range-auto.jpg",
        "5_quality-80_colormap-jet.jpg",
        "5_downsample-3.jpg",
        "5_annotation-false.jpg",
    ]


def test_downloads_with_other_parameters_land_beside_the_first(
    client: Client, tmp_path: Path
) -> None:
    for downsample in (1, 2, 1):
        assert client.download_images([FIRST_ID], tmp_path, quiet=True, downsample=downsample).ok
    names = sorted(path.name for path in tmp_path.glob("*.jpg"))
    assert names == [f"{FIRST_ID}_downsample-1.jpg", f"{FIRST_ID}_downsample-2.jpg"]


def test_the_manifest_refuses_a_name_taken_by_another_request(tmp_path: Path) -> None:
    (tmp_path / "5.jpg").write_bytes(b"kept")
    sizes = {"5.jpg": 4}
    with Manifest(tmp_path / FILENAME, sizes.get) as manifest:
        assert manifest.plan([Job("5.jpg", "http://a/5")]) == [Job("5.jpg", "http://a/5")]
        manifest.verified("5.jpg", 4, "digest")
        with pytest.raises(
            BadParameter,
            match=r"5\.jpg is already there, .* http://a/5; this download asks for http://b/5",
        ):
            manifest.plan([Job("6.jpg", "http://a/6"), Job("5.jpg", "http://b/5")])
        sizes.clear()  # the file is gone: nothing to lose, the new request takes the name
        assert manifest.plan([Job("5.jpg", "http://b/5")]) == [Job("5.jpg", "http://b/5")]
    with sqlite3.connect(tmp_path / FILENAME) as db:
        assert db.execute("SELECT path, url FROM files").fetchall() == [("5.jpg", "http://b/5")]


def test_rates_count_this_runs_files_over_its_time() -> None:
    now = [100.0]
    reporter = ProgressReporter(100, 90, quiet=True, clock=lambda: now[0])
    assert reporter.rate() is None
    now[0] = 104.0
    reporter.update("a.jpg", 10, True)
    reporter.update("b.jpg", 0, False)
    assert reporter.rate() == 0.5  # 2 files in 4 s, not the 90 found already there
    assert files_per_second(0, 10.0) is None and files_per_second(3, 0.0) is None


def test_a_client_left_open_closes_its_session_at_exit(bulk_server: str) -> None:
    script = (
        "from brainmap.client import Client\n"
        f"client = Client({bulk_server!r})\n"
        f"print(len(client.section_images({DATA_SET}, page_size=25)))\n"
        f"Client({bulk_server!r}).sub_images([{FIRST_ID}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "60\n"
