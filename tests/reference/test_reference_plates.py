"""Plates cut from a volume land, through the image-sync maths, in the voxels they came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_files import labels, write_nrrd

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    reference_to_image,
)
from brainmap.reference.planes import plane_axes
from brainmap.reference.plates import plate_geometry, plate_indices
from brainmap.reference.volume import write_volume

SHAPE = (12, 9, 7)
RESOLUTION = (25.0, 20.0, 10.0)


@pytest.mark.parametrize("plane", ["coronal", "sagittal", "horizontal"])
@pytest.mark.parametrize("pixels_per_voxel", [1, 3])
def test_every_plate_pixel_lands_in_its_voxel(
    tmp_path: Path, plane: str, pixels_per_voxel: int
) -> None:
    data = labels(SHAPE)
    volume = write_volume(tmp_path / "v", write_nrrd(tmp_path / "a.nrrd", data, spacing=RESOLUTION))
    normal, _, _ = plane_axes(plane)
    for index in range(SHAPE[normal]):
        plate = plate_geometry(plane, index, SHAPE, RESOLUTION, pixels_per_voxel)
        picture = volume.plane("pir"[normal], index)
        picture = picture.repeat(pixels_per_voxel, axis=0).repeat(pixels_per_voxel, axis=1)
        assert picture.shape == (plate.height, plate.width)
        section = SectionAlignment.from_record(plate.alignment2d, index)
        data_set = DataSetAlignment.from_record(plate.alignment3d, plate.section_thickness)
        y, x = np.mgrid[0 : plate.height, 0 : plate.width]
        pir = image_to_reference(section, data_set, np.column_stack([x.ravel(), y.ravel()]))
        assert (volume.label_at(pir) == picture.ravel()).all()
        # The first voxel's centre comes back to the middle of its block of pixels, on this plate.
        centre = np.zeros(3)
        centre[normal] = index * RESOLUTION[normal]
        back = reference_to_image(data_set, [section], centre)
        middle = (pixels_per_voxel - 1) / 2
        found = [back.x[0], back.y[0], back.fractional[0]]
        np.testing.assert_allclose(found, [middle, middle, index], atol=1e-9)


def test_plate_geometry_by_hand() -> None:
    plate = plate_geometry("coronal", 4, (528, 320, 456), (25.0, 25.0, 25.0), 2)
    assert (plate.width, plate.height, plate.section_thickness) == (912, 640, 25.0)
    # Pixel (x, y) -> r = 12.5 x - 6.25, i = 12.5 y - 6.25; volume (x, y, depth) -> (p, i, r).
    assert plate.alignment2d["tsv_00"] == 12.5
    assert plate.alignment2d["tsv_04"] == -6.25
    assert plate.alignment2d["tvs_04"] == 0.5
    assert plate.alignment3d["tvr_02"] == 1.0  # p = depth
    assert plate.alignment3d["tvr_04"] == 1.0  # i = y
    assert plate.alignment3d["tvr_06"] == 1.0  # r = x
    section = SectionAlignment.from_record(plate.alignment2d, 4)
    data_set = DataSetAlignment.from_record(plate.alignment3d, plate.section_thickness)
    assert image_to_reference(section, data_set, [0.5, 0.5]).tolist() == [[100, 0, 0]]


def test_plate_indices() -> None:
    shape, resolution = (528, 320, 456), (25.0, 25.0, 25.0)
    assert plate_indices("coronal", shape, resolution, 100)[:3] == [0, 4, 8]
    assert plate_indices("coronal", shape, resolution, 100)[-1] == 524
    assert len(plate_indices("sagittal", shape, resolution, 25)) == 456
    assert plate_indices("horizontal", shape, resolution, 60)[:4] == [0, 2, 5, 7]
    with pytest.raises(ValueError, match="at least one voxel"):
        plate_indices("coronal", shape, resolution, 10)
    with pytest.raises(ValueError, match="outside the volume"):
        plate_geometry("coronal", 528, shape, resolution)
