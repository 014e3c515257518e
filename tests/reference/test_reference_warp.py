"""Whole-section warping: sections cut from synthetic volumes through tilted planes come back."""

from __future__ import annotations

import numpy as np
import pytest
from reference_sections import Cut, cut

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    lift_section,
)
from brainmap.reference.planes import plane_axes
from brainmap.reference.warp import (
    ReferenceGrid,
    section_plane,
    sufficient_downsample,
    warp_section,
    warp_to_reference,
)

EXTENT = (2000.0, 1600.0, 1800.0)
CENTRE = (1000.0, 800.0, 900.0)
SPACING = 25.0


def smooth(points: np.ndarray) -> np.ndarray:
    """A smooth field over the reference space (values 10..190)."""
    p, i, r = points.T
    waves = np.sin(2 * np.pi * p / 600 + 0.3) * np.cos(2 * np.pi * i / 500)
    return 100 + 50 * waves + 40 * np.sin(2 * np.pi * r / 700 + 1)


def grid_points(where: Cut, plane: str) -> tuple[np.ndarray, np.ndarray]:
    """Reference points (rows, cols, 3) of the section at each grid point, and the depth map."""
    grid = ReferenceGrid.of(plane, SPACING, EXTENT)
    depth = section_plane(where.section, where.data_set, grid).depth_um()
    normal, row_axis, col_axis = plane_axes(plane)
    points = np.zeros((*grid.shape, 3))
    points[..., normal] = depth
    points[..., row_axis] = np.arange(grid.shape[0])[:, np.newaxis] * SPACING
    points[..., col_axis] = np.arange(grid.shape[1]) * SPACING
    return points, depth


@pytest.mark.parametrize("plane", ["coronal", "sagittal", "horizontal"])
@pytest.mark.parametrize("downsample", [0, 1, 2])
def test_a_tilted_section_comes_back_as_the_volume_on_its_plane(
    plane: str, downsample: int
) -> None:
    where = cut(plane, CENTRE, tilt_degrees=(4, -3, 2))
    image = where.image(smooth, downsample).astype(np.float32)
    warped = warp_to_reference(
        image,
        where.section,
        where.data_set,
        plane,
        resolution_um=SPACING,
        downsample=downsample,
        extent_um=EXTENT,
    )
    points, depth = grid_points(where, plane)
    assert warped.valid.mean() > 0.5
    # The tilt is kept: the section's position along the normal varies over the grid.
    assert np.ptp(depth[warped.valid]) > 50
    expected = smooth(points.reshape(-1, 3)).reshape(depth.shape)
    # Linear interpolation of 5 * 2**d µm pixels of a field of 500-700 µm waves: error under 1
    # (0.5 % of the field's range).
    error = np.abs(warped.pixels - expected)[warped.valid]
    assert error.max() < 1.0
    assert (warped.pixels[~warped.valid] == 0).all()
    centre = image_to_reference(
        where.section, where.data_set, [(where.width - 1) / 2, (where.height - 1) / 2]
    )
    assert warped.position_um == pytest.approx(centre[0, plane_axes(plane)[0]])


def test_valid_marks_exactly_the_grid_points_inside_the_image() -> None:
    where = cut("coronal", CENTRE, tilt_degrees=(3, 0, 0))
    image = where.image(smooth, 1).astype(np.float32)
    warped = warp_to_reference(
        image, where.section, where.data_set, "coronal", downsample=1, extent_um=EXTENT
    )
    plane = warped.plane
    rows, cols = np.mgrid[0 : plane.grid.shape[0], 0 : plane.grid.shape[1]]
    x, y = np.tensordot(plane.to_pixels, np.stack([rows, cols, np.ones_like(rows)]), axes=1)
    # At downsample 1 the first pixel's centre is full-resolution 0.5, the last is width - 1.5.
    inside = (x >= 0.5) & (x <= where.width - 1.5) & (y >= 0.5) & (y <= where.height - 1.5)
    assert (warped.valid == inside).all()


@pytest.mark.parametrize("tilt", [(0, 0, 0), (3, 2, -1)])
def test_label_maps_come_back_voxel_for_voxel(tilt: tuple[float, float, float]) -> None:
    """Nearest warping of a label section cut from a random label volume at 5 µm/px."""
    rng = np.random.default_rng(1)
    shape = tuple(int(e / SPACING) for e in EXTENT)
    volume = rng.integers(1, 2**32 - 1, size=shape, dtype=np.uint32)

    def labels(points: np.ndarray) -> np.ndarray:
        index = np.floor(points / SPACING + 0.5).astype(int)
        inside = ((index >= 0) & (index < shape)).all(axis=1)
        out = np.zeros(len(points), dtype=np.uint32)
        out[inside] = volume[tuple(index[inside].T)]
        return out

    where = cut("coronal", CENTRE, tilt_degrees=tilt, size=(400, 360))
    warped = warp_to_reference(
        where.image(labels, 0),
        where.section,
        where.data_set,
        "coronal",
        order=0,
        extent_um=EXTENT,
    )
    assert warped.pixels.dtype == np.uint32
    points, _ = grid_points(where, "coronal")
    # A grid point's nearest image pixel is at most 3.6 µm away on the section's plane; where the
    # point is 4 µm or more from every voxel boundary, both lie in the same voxel.
    offset = points / SPACING + 0.5
    clear = (np.abs(offset - np.round(offset)) * SPACING >= 4).all(axis=-1) & warped.valid
    assert clear.sum() > 0.3 * warped.valid.size
    expected = labels(points.reshape(-1, 3)).reshape(clear.shape)
    assert (warped.pixels[clear] == expected[clear]).all()
    if tilt == (0, 0, 0):  # an untilted section on a voxel plane: the whole plane, exactly
        assert clear.sum() == warped.valid.sum()
        np.testing.assert_array_equal(warped.pixels[warped.valid], volume[40][warped.valid])


def test_channels_and_integer_pictures() -> None:
    where = cut("coronal", CENTRE)
    grey = np.clip(where.image(smooth, 2), 0, 255).astype(np.uint8)
    rgb = np.stack([grey, 255 - grey, grey // 2], axis=-1)
    warped = warp_to_reference(
        rgb, where.section, where.data_set, "coronal", downsample=2, extent_um=EXTENT, fill=7
    )
    single = warp_to_reference(
        grey, where.section, where.data_set, "coronal", downsample=2, extent_um=EXTENT
    )
    assert warped.pixels.shape == (*single.pixels.shape, 3)
    assert warped.pixels.dtype == np.uint8
    np.testing.assert_array_equal(warped.pixels[..., 0][single.valid], single.pixels[single.valid])
    assert (warped.pixels[~warped.valid] == 7).all()
    six = np.concatenate([rgb, rgb], axis=-1)
    wide = warp_to_reference(
        six, where.section, where.data_set, "coronal", downsample=2, extent_um=EXTENT
    )
    np.testing.assert_array_equal(
        wide.pixels[..., 3:][wide.valid], wide.pixels[..., :3][wide.valid]
    )


def test_grid_of_each_plane() -> None:
    assert ReferenceGrid.of("coronal", 25).shape == (320, 456)
    assert ReferenceGrid.of("sagittal", 25).shape == (528, 320)
    assert ReferenceGrid.of("horizontal", 25).shape == (528, 456)
    assert ReferenceGrid.of("horizontal", 25).axes == ("p", "r")
    assert ReferenceGrid.of("sagittal", 10).normal == "r"
    assert ReferenceGrid.of("coronal", 30).shape == (266, 380)
    with pytest.raises(ValueError, match="at most 32766 a side"):
        ReferenceGrid.of("coronal", 0.1)


def test_sufficient_downsample() -> None:
    """A 1.63 µm/px image: 3 steps (13.04 µm) are enough for 25 µm, 2 (6.52 µm) for 10 µm."""
    tsv = np.array([[1.62929, 0.0480343, 0], [-0.0480343, 1.62929, 0]])
    section = SectionAlignment(lift_section(tsv), np.eye(4), 1)
    identity = DataSetAlignment(np.eye(4), np.eye(4), 25)
    assert sufficient_downsample(section, identity, 25) == 3
    assert sufficient_downsample(section, identity, 10) == 2
    assert sufficient_downsample(section, identity, 13.04) == 3
    assert sufficient_downsample(section, identity, 1) == 0
    assert sufficient_downsample(section, identity, 100, max_downsample=4) == 4
    with pytest.raises(ValueError, match="resolution"):
        sufficient_downsample(section, identity, 0)


def test_refusals() -> None:
    where = cut("coronal", CENTRE)
    image = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="plane must be one of"):
        warp_to_reference(image, where.section, where.data_set, "oblique")
    with pytest.raises(ValueError, match="perpendicular to the sagittal plane"):
        warp_to_reference(image, where.section, where.data_set, "sagittal")
    with pytest.raises(ValueError, match="linear warping needs"):
        warp_to_reference(image.astype(np.uint32), where.section, where.data_set, "coronal")
    with pytest.raises(ValueError, match="rows, cols"):
        warp_to_reference(image[0], where.section, where.data_set, "coronal")
    grid = ReferenceGrid.of("coronal", 25)
    plane = section_plane(where.section, where.data_set, grid)
    with pytest.raises(ValueError, match="32766 pixels a side"):
        warp_section(np.zeros((1, 40_000), np.uint8), plane)
    with pytest.raises(ValueError, match="downsample"):
        warp_section(image, plane, downsample=-1)
    with pytest.raises(ValueError, match="resolution"):
        ReferenceGrid.of("coronal", -5)
