"""``brainmap download data-set ID --to-reference UM [--ome-zarr]`` against the real server on
loopback: files, resume, exit codes for bad input (nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zarr
from click.testing import CliRunner

from brainmap.cli import main
from client.reference_store import NO_ALIGNMENT2D, PARTLY, SAGITTAL


def run(server: str, out: Path, *args: str) -> tuple[int, str]:
    command = ["download", "data-set", *args, "--api", server, "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, command)
    return result.exit_code, result.output


def test_to_reference_writes_sections_json_and_volume_and_resumes(
    reference_server: str, tmp_path: Path
) -> None:
    args = (str(SAGITTAL), "--to-reference", "25", "--ome-zarr")
    code, output = run(reference_server, tmp_path, *args)
    assert code == 0, output
    assert output.startswith("2 fetched, 0 already there, 0 failed")
    assert {"7101_reference-25um.png", "7102_reference-25um.png", "reference.json"} <= {
        path.name for path in tmp_path.iterdir()
    }
    document = json.loads((tmp_path / "reference.json").read_text())
    assert [entry["id"] for entry in document["sections"]] == [7101, 7102]
    assert document["plane"] == "sagittal" and document["axes"] == ["p", "i"]
    volume = zarr.open_group(tmp_path / "reference.ome.zarr", mode="r", zarr_format=2)["0"]
    assert volume.shape == (3, 528, 320, 456)
    code, output = run(reference_server, tmp_path, *args)
    assert code == 0 and output.startswith("0 fetched, 2 already there, 0 failed")


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        ((str(PARTLY), "--to-reference", "25"), 5, f"section image {NO_ALIGNMENT2D}"),
        (("702", "--to-reference", "25"), 5, "section data set 702 has no Alignment3d"),
        ((str(SAGITTAL), "--to-reference", "0"), 2, "resolution"),
        ((str(SAGITTAL), "--to-reference", "-3"), 2, "resolution"),
        ((str(SAGITTAL), "--to-reference", "nan"), 2, "resolution"),
        ((str(SAGITTAL), "--to-reference", "1e-9"), 2, "choose a coarser resolution"),
        ((str(SAGITTAL), "--to-reference", "abc"), 2, "abc"),
        ((str(SAGITTAL), "--ome-zarr"), 2, "ome_zarr"),
        ((str(SAGITTAL), "--to-reference", "25", "--left", "4"), 2, "left"),
    ],
)
def test_bad_input_exits_with_its_code_and_writes_nothing(
    reference_server: str, tmp_path: Path, args: tuple[str, ...], code: int, said: str
) -> None:
    out = tmp_path / "out"
    got, output = run(reference_server, out, *args)
    assert got == code, output
    assert said in output
    assert not out.exists() or not any(out.iterdir())


def test_a_folder_where_reference_json_goes_is_refused_before_any_fetch(
    reference_server: str, tmp_path: Path
) -> None:
    (tmp_path / "reference.json").mkdir()
    code, output = run(reference_server, tmp_path, str(SAGITTAL), "--to-reference", "25")
    assert code == 2, output
    assert "reference.json is a folder" in output
    assert {path.name for path in tmp_path.iterdir()} == {"reference.json"}
