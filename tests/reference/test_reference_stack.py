"""Warped sections placed at their reference position in an OME-Zarr (NGFF 0.4) volume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from reference_sections import cut

from brainmap.reference.stack import SectionStack
from brainmap.reference.warp import ReferenceGrid, warp_to_reference

EXTENT = (2000.0, 1600.0, 1800.0)
SHAPE = (80, 64, 72)


def ramp(points: np.ndarray) -> np.ndarray:
    """A picture that changes everywhere: 1 + (p + 2 i + 3 r) / 100, kept in 1..255."""
    return np.clip(1 + (points @ [1.0, 2.0, 3.0]) / 100, 1, 255)


def test_ngff_metadata_and_layout(tmp_path: Path) -> None:
    grid = ReferenceGrid.of("coronal", 25, EXTENT)
    SectionStack.create(tmp_path / "s.zarr", grid, channels=3, extent_um=EXTENT, name="set 7")
    attrs = json.loads((tmp_path / "s.zarr" / ".zattrs").read_text())
    (multiscale,) = attrs["multiscales"]
    assert multiscale["version"] == "0.4"
    assert [axis["name"] for axis in multiscale["axes"]] == ["c", "z", "y", "x"]
    assert [axis["type"] for axis in multiscale["axes"]] == ["channel", "space", "space", "space"]
    assert multiscale["axes"][1]["unit"] == "micrometer"
    (dataset,) = multiscale["datasets"]
    assert dataset["path"] == "0"
    assert dataset["coordinateTransformations"][0] == {"type": "scale", "scale": [1, 25, 25, 25]}
    array = json.loads((tmp_path / "s.zarr" / "0" / ".zarray").read_text())
    assert array["shape"] == [3, *SHAPE]
    assert array["chunks"] == [3, 1, 64, 72]  # one coronal plane a chunk
    assert array["dimension_separator"] == "/"
    assert array["zarr_format"] == 2


def test_sections_land_on_their_planes(tmp_path: Path) -> None:
    grid = ReferenceGrid.of("coronal", 25, EXTENT)
    stack = SectionStack.create(tmp_path / "s.zarr", grid, extent_um=EXTENT)
    flat = cut("coronal", (1000, 800, 900))  # exactly on plane 40
    tilted = cut("coronal", (1500, 800, 900), tilt_degrees=(0, 3, 0))
    for where in (flat, tilted):
        image = where.image(ramp, 0).astype(np.uint8)
        warped = warp_to_reference(
            image, where.section, where.data_set, "coronal", order=0, extent_um=EXTENT
        )
        planes = stack.place(warped)
        depth = np.floor(warped.plane.depth_um() / 25 + 0.5).astype(int)
        assert planes == sorted(set(depth[warped.valid].tolist()))
        volume = zarr.open_group(tmp_path / "s.zarr", mode="r")["0"][:]
        for index in planes:
            mine = warped.valid & (depth == index)
            np.testing.assert_array_equal(volume[index][mine], warped.pixels[mine])
        if where is flat:
            assert planes == [40]
            assert (volume[41:] == 0).all() and (volume[:40] == 0).all()
        else:
            assert len(planes) > 3  # 3° over 1.6 mm of section: about 84 µm, 4 planes or more
    # A resumed job reopens the volume and places into it.
    again = SectionStack.open(tmp_path / "s.zarr")
    assert again.place(warped) == planes


def test_sections_that_do_not_fit(tmp_path: Path) -> None:
    grid = ReferenceGrid.of("coronal", 25, EXTENT)
    stack = SectionStack.create(tmp_path / "s.zarr", grid, extent_um=EXTENT)
    where = cut("coronal", (1000, 800, 900))
    image = where.image(ramp, 0)
    warped = warp_to_reference(
        image.astype(np.float32), where.section, where.data_set, "coronal", extent_um=EXTENT
    )
    with pytest.raises(ValueError, match="float32 pixels do not go into a uint8 volume"):
        stack.place(warped)
    rgb = np.stack([image.astype(np.uint8)] * 3, axis=-1)
    warped = warp_to_reference(rgb, where.section, where.data_set, "coronal", extent_um=EXTENT)
    with pytest.raises(ValueError, match=r"pixels of shape \(64, 72, 3\) do not fit"):
        stack.place(warped)
    other = warp_to_reference(
        image.astype(np.uint8),
        where.section,
        where.data_set,
        "coronal",
        resolution_um=50,
        extent_um=EXTENT,
    )
    with pytest.raises(ValueError, match=r"at 50\.0 µm does not go into this coronal stack at 25"):
        stack.place(other)
    with pytest.raises(ValueError, match="already exists"):
        SectionStack.create(tmp_path / "s.zarr", grid, extent_um=EXTENT)
    with pytest.raises(ValueError, match="not a brainmap section stack"):
        SectionStack(zarr.open_group(tmp_path / "other.zarr", mode="w", zarr_format=2))
