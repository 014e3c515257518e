"""Alignments by construction: where they put things, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    section_fields,
    volume_fields,
)
from brainmap.reference.construct import rotation, tilted_data_set, turned_section


def test_an_untilted_data_set_renames_the_axes() -> None:
    section = turned_section(8, 2.0)  # pixel (x, y) -> volume (2x, 2y)
    # The grid's columns take x, its rows y (coronal i x r, sagittal p x i, horizontal p x r).
    for plane, expected in [
        ("coronal", [200, 20, 10]),  # p = depth, i = y, r = x
        ("sagittal", [20, 10, 200]),  # p = y, i = x, r = depth
        ("horizontal", [20, 200, 10]),  # p = y, i = depth, r = x
    ]:
        data_set = tilted_data_set(plane, 25.0)
        np.testing.assert_allclose(image_to_reference(section, data_set, [5, 10]), [expected])


def test_turn_and_tilt_keep_their_fixed_points() -> None:
    section = turned_section(40, 5.0, 30.0, at_pixel=(100, 50), at_volume_um=(900, 800))
    data_set = tilted_data_set("coronal", 25.0, (3, -2, 4), pivot_um=(1000, 800, 900))
    np.testing.assert_allclose(image_to_reference(section, data_set, [100, 50]), [[1000, 800, 900]])
    # One pixel step along x is 5 µm, turned by 30° in the plane, then tilted.
    step = image_to_reference(section, data_set, [[101, 50]]) - [[1000, 800, 900]]
    assert np.linalg.norm(step) == pytest.approx(5.0)
    turn = np.radians(30)
    untilted = np.array([0.0, 5 * np.sin(turn), 5 * np.cos(turn)])  # (p, i, r)
    np.testing.assert_allclose(step[0], rotation((3, -2, 4)) @ untilted, atol=1e-12)


def test_rotation_by_hand_and_records() -> None:
    np.testing.assert_allclose(rotation((90, 0, 0)) @ [0, 1, 0], [0, 0, 1], atol=1e-15)
    np.testing.assert_allclose(rotation((0, 0, 90)) @ [1, 0, 0], [0, 1, 0], atol=1e-15)
    section = turned_section(3, 1.5, 10.0, at_pixel=(4, 4), at_volume_um=(7, 7))
    data_set = tilted_data_set("sagittal", 50.0, (1, 2, 3))
    again = SectionAlignment.from_record(section_fields(section.to_volume, section.from_volume), 3)
    np.testing.assert_allclose(again.to_volume, section.to_volume)
    record = volume_fields(data_set.to_reference, data_set.from_reference)
    np.testing.assert_allclose(
        DataSetAlignment.from_record(record, 50.0).from_reference, data_set.from_reference
    )
    with pytest.raises(ValueError, match="pixel size"):
        turned_section(1, 0.0)
