"""docs/rules.md, "Geometry" and "Limits": defaults, clamping, clipping, limits."""

from __future__ import annotations

import pytest

from brainmap.errors import BadParameter
from brainmap.geometry import Box, ImageExtent, RegionTooLarge, check_limits, level_for, plan_region
from brainmap.pyramid.tiers import tier_count

SECTION = ImageExtent(
    x=0, y=0, width=11921, height=7553, image_width=11921, image_height=7553, tier_count=7
)
BOXED = ImageExtent(
    x=1, y=1, width=5760, height=7568, image_width=5762, image_height=7570, tier_count=6
)


def test_default_size_is_floor_of_size_over_scale() -> None:
    plan = plan_region(SECTION, downsample=2)
    assert (plan.out_width, plan.out_height) == (2980, 1888)


def test_defaults_follow_the_bounding_box() -> None:
    plan = plan_region(BOXED)
    assert plan.box == Box(1, 1, 5760, 7568)
    assert (plan.out_width, plan.out_height) == (5760, 7568)


def test_explicit_size_is_in_output_pixels() -> None:
    plan = plan_region(SECTION, downsample=3, left=800, top=1600, width=100, height=50)
    assert plan.box == Box(800, 1600, 800, 400)
    assert (plan.out_width, plan.out_height) == (100, 50)


def test_downsample_dimensions_divides_explicit_sizes() -> None:
    plan = plan_region(SECTION, downsample=2, width=1000, height=403, downsample_dimensions=True)
    assert (plan.out_width, plan.out_height) == (250, 100)


def test_region_is_clipped_to_the_image() -> None:
    plan = plan_region(SECTION, downsample=1, left=11000, top=7000, width=1000, height=1000)
    assert plan.box == Box(11000, 7000, 921, 553)
    assert (plan.out_width, plan.out_height) == (460, 276)


def test_region_outside_the_image_is_an_error() -> None:
    with pytest.raises(BadParameter, match="outside"):
        plan_region(SECTION, left=20000, top=0, width=10, height=10)


def test_downsample_is_clamped_to_the_tiers() -> None:
    plan = plan_region(SECTION, downsample=12)
    assert plan.downsample == 6
    assert (plan.out_width, plan.out_height) == (11921 // 64, 7553 // 64)


def test_limits_say_how_to_tile() -> None:
    huge = ImageExtent(0, 0, 70000, 30000, 70000, 30000, 10)
    with pytest.raises(RegionTooLarge, match=r"tile it into 3 x 2 regions"):
        check_limits(plan_region(huge))
    check_limits(plan_region(huge, downsample=2))
    with pytest.raises(RegionTooLarge, match="100 pixels"):
        check_limits(plan_region(SECTION, downsample=6), max_pixels=100)


@pytest.mark.parametrize(
    ("width", "height", "tiers"),
    [
        (256, 100, 1),
        (257, 10, 2),
        (512, 512, 2),
        (8992, 4936, 7),
        (5762, 7570, 6),
        (14065, 7297, 7),
    ],
)
def test_tier_count_matches_the_api(width: int, height: int, tiers: int) -> None:
    assert tier_count(width, height) == tiers


def test_level_for_never_leaves_the_pyramid() -> None:
    assert level_for(3, 8) == 3
    assert level_for(9, 4) == 3
