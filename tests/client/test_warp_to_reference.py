"""`Client.warp_to_reference` over loopback against the real server, on sections cut from a
known volume through planes known by construction (`reference_store.py`): the warped section
gives back the volume on the section's own (tilted) plane.

Tolerance: the pixels are fetched as JPEG at 20 µm (downsample 2 of 5 µm scans) and resampled
bilinearly; against the volume the mean absolute difference must stay under 1 level and every
pixel within 6 levels (measured: 0.57-0.74 mean, 4.9 largest). Placing the tilted sections on
one coronal plane at their centre's position instead (atldld's simplification) gives 1.7-2.5
mean and 12-19 largest: these bounds fail it.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference_store import (
    CENTRES,
    NO_ALIGNMENT2D,
    PIXEL_UM,
    SIZE,
    THICKNESS,
    field,
    section,
)

from brainmap import BadParameter, NotFound
from brainmap.client import Client

MEAN_LEVELS = 1.0
MAX_LEVELS = 6


def expected_plane(image_id: int, shape: tuple[int, int], spacing: float) -> np.ndarray:
    """Reference points (rows, cols, 3) of the grid points on the section's own plane: the
    plane through the construction's volume points at the section's depth."""
    cut = section(image_id)
    tvr = cut.data_set.to_reference
    depth = cut.section.section_number * THICKNESS
    point = tvr[:3, :3] @ np.array([0.0, 0.0, depth]) + tvr[:3, 3]
    normal = np.cross(tvr[:3, 0], tvr[:3, 1])
    axis = int(np.argmax(np.abs(normal)))
    rows, cols = (k for k in range(3) if k != axis)
    grid = np.zeros((*shape, 3))
    grid[..., rows] = np.arange(shape[0])[:, None] * spacing
    grid[..., cols] = np.arange(shape[1])[None, :] * spacing
    along = grid - point
    grid[..., axis] = (
        point[axis]
        - (along[..., rows] * normal[rows] + along[..., cols] * normal[cols]) / normal[axis]
    )
    return grid


@pytest.mark.parametrize(
    ("image_id", "shape"), [(7001, (320, 456)), (7003, (320, 456)), (7101, (528, 320))]
)
def test_warped_section_reproduces_the_volume_on_its_plane(
    reference_server: str, image_id: int, shape: tuple[int, int]
) -> None:
    with Client(reference_server) as client:
        warped = client.warp_to_reference(image_id, 25)
    assert warped.image_id == image_id
    assert warped.downsample == 2  # 20 µm pixels: the coarsest no larger than 25 µm
    assert warped.pixels.shape == (*shape, 3) and warped.pixels.dtype == np.uint8
    assert warped.spacing_um == 25.0 and warped.origin_um == (0.0, 0.0)
    points = expected_plane(image_id, shape, 25.0)
    normal = {"coronal": 0, "sagittal": 2}[warped.plane]
    np.testing.assert_allclose(warped.depth_um(), points[..., normal], atol=1e-6)
    centre = section(image_id).centre_um()
    assert np.abs(centre - CENTRES[image_id][1]).max() < THICKNESS
    assert warped.position_um == pytest.approx(centre[normal], abs=1e-6)
    valid = warped.valid
    area = SIZE[0] * SIZE[1] * PIXEL_UM**2 / 25.0**2
    assert valid.sum() == pytest.approx(area, rel=0.02)
    truth = field(points[valid])
    error = np.abs(warped.pixels[valid].astype(np.float64) - truth)
    assert error.mean() < MEAN_LEVELS, error.mean()
    assert error.max() < MAX_LEVELS, error.max()
    assert not warped.pixels[~valid].any()


def test_warp_at_a_finer_grid_fetches_finer_pixels(reference_server: str) -> None:
    with Client(reference_server) as client:
        warped = client.warp_to_reference(7002, 12.5, quality=100)
    assert warped.downsample == 1 and warped.pixels.shape == (640, 912, 3)
    points = expected_plane(7002, (640, 912), 12.5)
    error = np.abs(warped.pixels[warped.valid].astype(np.float64) - field(points[warped.valid]))
    assert error.mean() < MEAN_LEVELS and error.max() < MAX_LEVELS


def test_range_auto_without_an_equalization_is_the_default_rendering(
    reference_server: str,
) -> None:
    with Client(reference_server) as client:
        plain = client.warp_to_reference(7002, 50)
        auto = client.warp_to_reference(7002, 50, range="auto")
    np.testing.assert_array_equal(plain.pixels, auto.pixels)


@pytest.mark.parametrize(
    ("image_id", "message"),
    [
        (NO_ALIGNMENT2D, f"section image {NO_ALIGNMENT2D} has no Alignment2d"),
        (7201, "section data set 702 has no Alignment3d"),
        (999999, "no section image 999999"),
    ],
)
def test_an_image_that_cannot_be_placed_is_not_found(
    reference_server: str, image_id: int, message: str
) -> None:
    with Client(reference_server) as client, pytest.raises(NotFound, match=message):
        client.warp_to_reference(image_id)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"resolution": 0}, "resolution"),
        ({"resolution": float("nan")}, "resolution"),
        ({"resolution": 20000}, "resolution"),
        ({"downsample": -1}, "downsample"),
        ({"left": 5}, "left"),
        ({"quality": 101}, "quality"),
    ],
)
def test_bad_parameters_are_refused(
    reference_server: str, kwargs: dict[str, object], name: str
) -> None:
    with Client(reference_server) as client, pytest.raises(BadParameter) as caught:
        client.warp_to_reference(7001, **kwargs)  # type: ignore[arg-type]
    assert caught.value.name == name
