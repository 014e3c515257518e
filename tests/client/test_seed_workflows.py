"""brainmap's ImageDownloadApi driving every seed method against the real server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
import simplejpeg

from brainmap import ApiError, ImageDownloadApi, QueryFailed
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES

SUB_IMAGE_FIELDS = {
    "annotated", "axes", "bits_per_component", "data_set_id", "expression", "expression_path",
    "failed", "height", "id", "image_height", "image_type", "image_width", "isi_experiment_id",
    "lims1_id", "number_of_components", "ophys_experiment_id", "path", "projection_function",
    "resolution", "section_number", "specimen_id", "structure_id", "tier_count", "width", "x", "y",
}  # fmt: skip


@pytest.fixture()
def api(small_server: str) -> ImageDownloadApi:
    return ImageDownloadApi(base_uri=small_server)


def jpeg_size(path: Path) -> tuple[int, int]:
    height, width, _, _ = simplejpeg.decode_jpeg_header(path.read_bytes())
    return width, height


def test_data_sets_by_product(api: ImageDownloadApi) -> None:
    assert [d["id"] for d in api.get_section_data_sets_by_product([1])] == [100]
    assert [d["id"] for d in api.get_section_data_sets_by_product([1, 5])] == [100, 200]
    assert [d["id"] for d in api.get_section_data_sets_by_product([5], include_failed=True)] == [
        200
    ]
    assert api.get_section_data_sets_by_product([77]) == []


def test_section_image_query_returns_every_field(api: ImageDownloadApi) -> None:
    (record,) = api.section_image_query(100)
    assert set(record) == SUB_IMAGE_FIELDS
    assert list(record) == sorted(record)
    assert (record["id"], record["x"], record["y"], record["width"]) == (ISH_IMAGE, 10, 20, 1100)


def test_section_image_ranges(api: ImageDownloadApi) -> None:
    assert api.get_section_image_ranges([CONNECTIVITY_IMAGE]) == [list(RANGES)]
    (as_dict,) = api.get_section_image_ranges([CONNECTIVITY_IMAGE], as_lists=False)
    assert as_dict["red_upper"] == RANGES[1]
    assert api.get_section_image_ranges([ISH_IMAGE]) == []


def test_atlas_image_query_keeps_annotated_plates_of_that_atlas(api: ImageDownloadApi) -> None:
    assert [r["id"] for r in api.atlas_image_query(1)] == [ATLAS_IMAGE]
    named = api.atlas_image_query(1, image_type_name="Atlas - Adult Mouse")
    assert [r["id"] for r in named] == [ATLAS_IMAGE]
    assert api.atlas_image_query(1, image_type_name="Atlas - Developing Mouse") == []


def test_downloads(api: ImageDownloadApi, workdir: Path) -> None:
    api.download_section_image(ISH_IMAGE, downsample=2)
    assert jpeg_size(workdir / f"{ISH_IMAGE}.jpg") == (275, 200)
    api.download_image(ISH_IMAGE, "expression.jpg", view="expression", downsample=1)
    assert jpeg_size(workdir / "expression.jpg") == (550, 400)
    api.download_projection_image(CONNECTIVITY_IMAGE, "conn.jpg", downsample=1, range=list(RANGES))
    assert jpeg_size(workdir / "conn.jpg") == (500, 350)
    api.download_atlas_image(ATLAS_IMAGE, "plate.jpg", annotation=True, atlas=1)
    assert jpeg_size(workdir / "plate.jpg") == (800, 600)
    api.download_image(ISH_IMAGE, "roi.jpg", left=100, top=100, width=64, height=32)
    assert jpeg_size(workdir / "roi.jpg") == (64, 32)


def test_failed_download_raises_and_leaves_no_file(api: ImageDownloadApi, workdir: Path) -> None:
    with pytest.raises(ApiError) as caught:
        api.download_image(424242, "missing.jpg")
    assert caught.value.status == 404
    assert "no image with id 424242" in caught.value.message
    assert list(workdir.iterdir()) == []


def test_rejected_query_raises_with_the_server_message(api: ImageDownloadApi) -> None:
    with pytest.raises(QueryFailed, match="NoSuchModel"):
        api.model_query("NoSuchModel")
