"""``download_section_data_set(..., to_reference=25)`` over loopback against the real server: the
warped sections as PNG files, ``reference.json``, the OME-Zarr volume, resume, and bad input
refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from reference_store import CENTRES, CORONAL, NO_ALIGNMENT2D, PARTLY, SAGITTAL

from brainmap import BadParameter, NotFound
from brainmap.client import Client
from brainmap.client.warped_png import decode

CORONAL_IMAGES = sorted(i for i, (d, _) in CENTRES.items() if d == CORONAL)


def names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def test_data_set_warped_to_the_reference(reference_server: str, tmp_path: Path) -> None:
    with Client(reference_server) as client:
        report = client.download_section_data_set(
            CORONAL, tmp_path, to_reference=25, ome_zarr=True, quiet=True
        )
        assert report.ok and report.fetched == len(CORONAL_IMAGES) and report.skipped == 0
        files = {i: f"{i}_reference-25um.png" for i in CORONAL_IMAGES}
        assert set(files.values()) <= names(tmp_path)
        document = json.loads((tmp_path / "reference.json").read_text())
        assert document["plane"] == "coronal" and document["axes"] == ["i", "r"]
        assert document["normal"] == "p" and document["shape"] == [320, 456]
        assert document["resolution_um"] == 25
        entries = document["sections"]
        assert [e["id"] for e in entries] == CORONAL_IMAGES  # in section order
        for entry in entries:
            single = client.warp_to_reference(entry["id"], 25)
            assert entry["file"] == files[entry["id"]]
            assert entry["section_number"] == single.section_number
            assert entry["position_um"] == pytest.approx(single.position_um, abs=1e-9)
            assert entry["origin_um"] == [0.0, 0.0] and entry["spacing_um"] == 25.0
            depth = entry["depth_um"]
            rows, cols = np.mgrid[0:320, 0:456]
            plane = depth["at_origin"] + rows * depth["per_row"] + cols * depth["per_column"]
            np.testing.assert_allclose(plane, single.depth_um(), atol=1e-6)
            pixels, valid = decode((tmp_path / entry["file"]).read_bytes())
            np.testing.assert_array_equal(pixels, single.pixels)  # lossless
            np.testing.assert_array_equal(valid, single.valid)
            placed = check_volume(tmp_path, pixels, valid, single.depth_um())
            assert placed > 40_000


def check_volume(folder: Path, pixels: np.ndarray, valid: np.ndarray, depth: np.ndarray) -> int:
    """The OME-Zarr volume holds `pixels` at the section's own planes; the voxels checked."""
    group = zarr.open_group(folder / "reference.ome.zarr", mode="r", zarr_format=2)
    (multiscale,) = group.attrs["multiscales"]
    assert multiscale["version"] == "0.4"
    assert [a["name"] for a in multiscale["axes"]] == ["c", "z", "y", "x"]
    assert all(a.get("unit") == "micrometer" for a in multiscale["axes"][1:])
    (level,) = multiscale["datasets"]
    assert level["path"] == "0"
    scale, translation = level["coordinateTransformations"]
    assert scale == {"type": "scale", "scale": [1.0, 25.0, 25.0, 25.0]}
    assert translation["translation"] == [0.0, 0.0, 0.0, 0.0]
    volume = group["0"]
    assert volume.shape == (3, 528, 320, 456) and volume.dtype == np.uint8
    planes = np.floor(depth / 25.0 + 0.5).astype(int)
    rows, cols = np.nonzero(valid)
    got = np.stack(
        [
            np.asarray(volume[:, plane])[:, r, c]
            for plane, r, c in zip(planes[rows, cols][::97], rows[::97], cols[::97], strict=True)
        ]
    )
    np.testing.assert_array_equal(got, pixels[rows[::97], cols[::97]])
    return int(valid.sum())


def test_rerun_resumes_and_keeps_the_volume(reference_server: str, tmp_path: Path) -> None:
    with Client(reference_server) as client:
        client.download_section_data_set(
            SAGITTAL, tmp_path, to_reference=50, ome_zarr=True, quiet=True
        )
        attrs = tmp_path / "reference.ome.zarr" / ".zattrs"
        built = attrs.stat().st_mtime_ns
        again = client.download_section_data_set(
            SAGITTAL, tmp_path, to_reference=50, ome_zarr=True, quiet=True
        )
        assert again.ok and again.fetched == 0 and again.skipped == 2
        assert attrs.stat().st_mtime_ns == built
        (tmp_path / "7101_reference-50um.png").unlink()
        (tmp_path / "7102_reference-50um.png").write_bytes(b"damaged")
        third = client.download_section_data_set(
            SAGITTAL, tmp_path, to_reference=50, ome_zarr=True, quiet=True
        )
        assert third.fetched == 2
    group = zarr.open_group(tmp_path / "reference.ome.zarr", mode="r", zarr_format=2)
    assert group["0"].shape == (3, 264, 160, 228)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_file_in_the_volume_s_place_is_replaced_without_a_trace(
    reference_server: str, tmp_path: Path
) -> None:
    (tmp_path / "reference.ome.zarr").write_text("not a volume")
    with Client(reference_server) as client:
        report = client.download_section_data_set(
            SAGITTAL, tmp_path, to_reference=50, ome_zarr=True, quiet=True
        )
    assert report.ok and (tmp_path / "reference.ome.zarr" / "0" / ".zarray").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize(
    ("data_set", "kwargs", "error", "message"),
    [
        (PARTLY, {}, NotFound, f"section image {NO_ALIGNMENT2D} has no Alignment2d"),
        (702, {}, NotFound, "section data set 702 has no Alignment3d"),
        (99, {}, NotFound, "no section data set 99"),
        (CORONAL, {"to_reference": 0}, BadParameter, "resolution"),
        (CORONAL, {"to_reference": -25}, BadParameter, "resolution"),
        (CORONAL, {"to_reference": None, "ome_zarr": True}, BadParameter, "ome_zarr"),
        (CORONAL, {"width": 10}, BadParameter, "width"),
        (CORONAL, {"downsample": -2}, BadParameter, "downsample"),
    ],
)
def test_bad_input_writes_nothing(
    reference_server: str,
    tmp_path: Path,
    data_set: int,
    kwargs: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    out = tmp_path / "out"
    options = {"to_reference": 25, **kwargs}
    with Client(reference_server) as client, pytest.raises(error, match=message):
        client.download_section_data_set(data_set, out, quiet=True, **options)  # type: ignore[arg-type]
    assert not out.exists() or not any(out.iterdir())
