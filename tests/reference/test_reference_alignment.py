"""The alignment maths: hand-computed cases, a numpy reference, round trips, real API answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_image,
    image_to_image_2d,
    image_to_reference,
    lift_section,
    lift_volume,
    nearest_sections,
    pixel_size_um,
    reference_to_image,
    reference_to_section,
    section_fields,
    section_matrix,
    volume_fields,
    volume_matrix,
)

# A hand-made pair. tsv: vx = 2x + 10, vy = 3y + 20; tvr: p = vz + 5, i = vy - 7, r = 2 vx.
HAND_2D = {
    "id": 7,
    **{"tsv_00": 2, "tsv_01": 0, "tsv_02": 0, "tsv_03": 3, "tsv_04": 10, "tsv_05": 20},
    **{"tvs_00": 0.5, "tvs_01": 0, "tvs_02": 0, "tvs_03": 1 / 3, "tvs_04": -5, "tvs_05": -20 / 3},
}
HAND_3D = {
    **{"tvr_00": 0, "tvr_01": 0, "tvr_02": 1, "tvr_09": 5},
    **{"tvr_03": 0, "tvr_04": 1, "tvr_05": 0, "tvr_10": -7},
    **{"tvr_06": 2, "tvr_07": 0, "tvr_08": 0, "tvr_11": 0},
    **{"trv_00": 0, "trv_01": 0, "trv_02": 0.5, "trv_09": 0},
    **{"trv_03": 0, "trv_04": 1, "trv_05": 0, "trv_10": 7},
    **{"trv_06": 1, "trv_07": 0, "trv_08": 0, "trv_11": -5},
}


def hand(section_number: float = 4) -> tuple[SectionAlignment, DataSetAlignment]:
    return (
        SectionAlignment.from_record(HAND_2D, section_number),
        DataSetAlignment.from_record(HAND_3D, 25.0),
    )


def test_record_fields_land_in_the_documented_cells() -> None:
    record = {f"tsv_{k:02d}": k + 0.5 for k in range(6)}
    assert section_matrix(record, "tsv").tolist() == [[0.5, 1.5, 4.5], [2.5, 3.5, 5.5]]
    volume = SimpleNamespace(**{f"trv_{k:02d}": float(k) for k in range(12)})
    assert volume_matrix(volume, "trv").tolist() == [[0, 1, 2, 9], [3, 4, 5, 10], [6, 7, 8, 11]]


def test_matrices_back_to_record_fields() -> None:
    tsv, tvs = section_matrix(HAND_2D, "tsv"), section_matrix(HAND_2D, "tvs")
    expected = {key: value for key, value in HAND_2D.items() if key != "id"}
    assert section_fields(tsv, tvs) == expected
    assert section_fields(lift_section(tsv), lift_section(tvs)) == expected
    tvr, trv = volume_matrix(HAND_3D, "tvr"), volume_matrix(HAND_3D, "trv")
    assert volume_fields(tvr, lift_volume(trv)) == HAND_3D
    with pytest.raises(ValueError, match="2x3"):
        section_fields(np.eye(3), tvs)


def test_lifts() -> None:
    assert lift_section([[1, 2, 3], [4, 5, 6]]).tolist() == [
        [1, 2, 0, 3],
        [4, 5, 0, 6],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
    ]
    assert lift_volume(np.arange(12).reshape(3, 4))[3].tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="2x3"):
        lift_section(np.zeros((3, 3)))


def test_image_to_reference_by_hand() -> None:
    section, data_set = hand()
    # x=1, y=2: vx = 12, vy = 26, vz = 4 * 25 = 100 -> p = 105, i = 19, r = 24.
    assert image_to_reference(section, data_set, [1, 2]).tolist() == [[105, 19, 24]]
    points = image_to_reference(section, data_set, [[0, 0], [1, 2], [-3, 10]])
    assert points.tolist() == [[105, 13, 20], [105, 19, 24], [105, 43, 8]]


def test_reference_to_image_by_hand_and_the_tie_rule() -> None:
    four, data_set = hand(4)
    six = SectionAlignment.from_record(HAND_2D, 6)
    # (105, 19, 24) is on section 4 exactly; p = 130 gives vz = 125: section 5.0, a tie
    # between 4 and 6 that goes to the lower; p = 131 is nearer 6.
    found = reference_to_image(data_set, [six, four], [[105, 19, 24], [130, 19, 24], [131, 19, 24]])
    assert found.index.tolist() == [1, 1, 0]
    assert found.section_number.tolist() == [4, 4, 6]
    assert found.fractional.tolist() == [4, 5, pytest.approx(5.04)]
    np.testing.assert_allclose(found.x, [1, 1, 1])
    np.testing.assert_allclose(found.y, [2, 2, 2])
    np.testing.assert_allclose(reference_to_section(four, data_set, [105, 19, 24]), [[1, 2, 4]])


def test_nearest_sections() -> None:
    numbers = [30, 10, 20, 20]
    found = nearest_sections(numbers, [15, 16, 14.9, 25, 0, 99, 20])
    assert found.tolist() == [1, 2, 1, 2, 1, 0, 2]
    with pytest.raises(ValueError, match="no sections"):
        nearest_sections([], [1.0])


def test_image_to_image_2d_by_hand() -> None:
    source, _ = hand()
    target = SectionAlignment.from_record(
        {**HAND_2D, "tvs_00": 1, "tvs_03": 1, "tvs_04": 0, "tvs_05": -1}, 4
    )
    # source (1, 2) -> volume (12, 26) -> target x = vx, y = vy - 1.
    assert image_to_image_2d(source, target, [1, 2]).tolist() == [[12, 25]]


def random_affine(rng: np.random.Generator, size: int) -> np.ndarray:
    """A well-conditioned random affine: rotation x scale (0.5..2) plus a translation, (size+1)²."""
    q, _ = np.linalg.qr(rng.normal(size=(size, size)))
    matrix = np.eye(size + 1)
    matrix[:size, :size] = q * rng.uniform(0.5, 2.0, size=size)
    matrix[:size, size] = rng.uniform(-5000, 5000, size=size)
    return matrix


def random_pair(
    rng: np.random.Generator, section_number: float, thickness: float
) -> tuple[SectionAlignment, DataSetAlignment]:
    tsv3 = random_affine(rng, 2)
    tvr4 = random_affine(rng, 3)
    section = SectionAlignment(
        lift_section(tsv3[:2]), lift_section(np.linalg.inv(tsv3)[:2]), section_number
    )
    return section, DataSetAlignment(tvr4, np.linalg.inv(tvr4), thickness)


TSV_ORDER = [f"tsv_{k:02d}" for k in (0, 1, 4, 2, 3, 5)]
TVR_ORDER = [f"tvr_{k:02d}" for k in (0, 1, 2, 9, 3, 4, 5, 10, 6, 7, 8, 11)]


def test_against_numpy_on_random_matrices() -> None:
    rng = np.random.default_rng(13)
    for _ in range(20):
        tsv = rng.normal(size=(2, 3)) * 100
        tvr = rng.normal(size=(3, 4)) * 100
        number, thickness = int(rng.integers(1, 500)), float(rng.uniform(10, 100))
        record_2d = dict(zip(TSV_ORDER, tsv.ravel(), strict=True))
        record_2d |= {f"tvs_{k:02d}": 0.0 for k in range(6)}
        record_3d = dict(zip(TVR_ORDER, tvr.ravel(), strict=True))
        record_3d |= {f"trv_{k:02d}": 0.0 for k in range(12)}
        section = SectionAlignment.from_record(record_2d, number)
        data_set = DataSetAlignment.from_record(record_3d, thickness)
        xy = rng.uniform(-1000, 20000, size=(50, 2))
        lifted = np.array(
            [
                [tsv[0, 0], tsv[0, 1], 0, tsv[0, 2]],
                [tsv[1, 0], tsv[1, 1], 0, tsv[1, 2]],
                [0, 0, 1, 0],
                [0, 0, 0, 1],
            ]
        )
        full = np.concatenate([tvr, [[0, 0, 0, 1]]]) @ lifted
        homogeneous = np.vstack([xy.T, np.full(50, number * thickness), np.ones(50)])
        expected = (full @ homogeneous)[:3].T
        np.testing.assert_allclose(image_to_reference(section, data_set, xy), expected, rtol=1e-12)


def test_round_trip_within_a_hundredth_of_a_pixel() -> None:
    rng = np.random.default_rng(2)
    for _ in range(10):
        section, data_set = random_pair(rng, float(rng.integers(0, 600)), 25.0)
        xy = rng.uniform(0, 30000, size=(10_000, 2))
        back = reference_to_image(data_set, [section], image_to_reference(section, data_set, xy))
        assert np.abs(np.column_stack([back.x, back.y]) - xy).max() < 0.01
        np.testing.assert_allclose(back.fractional, section.section_number, atol=1e-6)


def test_image_to_image_across_data_sets_goes_through_the_reference() -> None:
    rng = np.random.default_rng(5)
    source, source_set = random_pair(rng, 40, 25.0)
    target_set = DataSetAlignment(
        source_set.to_reference, source_set.from_reference, 50.0
    )  # same volume, thicker sections: section 40 at 25 µm is section 20 at 50 µm
    targets = [SectionAlignment(source.to_volume, source.from_volume, n) for n in (19, 20, 21)]
    xy = rng.uniform(0, 5000, size=(100, 2))
    found = image_to_image(source, source_set, target_set, targets, xy)
    assert set(found.section_number.tolist()) == {20}
    np.testing.assert_allclose(np.column_stack([found.x, found.y]), xy, atol=1e-6)


def test_allen_api_answers() -> None:
    """Two answers of api.brain-map.org's image-sync services, with their records' matrices."""
    # image_to_reference, SectionImage 101082694 (data set 100055064, sagittal, 25 µm, section 42)
    tsv = np.array([[1.04896, 0.00871805, 2679.1], [-0.00871805, 1.04896, 1892.69]])
    tvr = np.array(
        [
            [1.06512, 0.00954653, -0.0388257, -1716.6],
            [-0.0161521, 1.0205, -0.174613, -786.453],
            [0.033595, 0.176889, 1.03048, 247.604],
        ]
    )
    section = SectionAlignment(lift_section(tsv), np.eye(4), 42)
    data_set = DataSetAlignment(lift_volume(tvr), np.eye(4), 25.0)
    np.testing.assert_allclose(
        image_to_reference(section, data_set, [461, 856]),
        [[1645.8074771091042, 1822.7046854643122, 1929.0241055489528]],
        atol=1e-6,
    )
    # reference_to_image, reference point (2000, 5750, 800) -> image 101349741 (data set 1357)
    tvs = np.array([[0.613497, 0.0, -2592.93], [0.0, 0.613497, -2417.94]])
    trv = np.array(
        [
            [0.00525716, -0.0357194, 0.931431, 1369.25],
            [0.0392637, 1.02682, 0.038149, 1591.87],
            [-0.947108, 0.041375, 0.0067375, 12492.3],
        ]
    )
    section = SectionAlignment(np.eye(4), lift_section(tvs), 431)
    data_set = DataSetAlignment(np.eye(4), lift_volume(trv), 25.0)
    xy = reference_to_section(section, data_set, [2000, 5750, 800])[0, :2]
    np.testing.assert_allclose(xy, [-1415.3086618727098, 2247.7854212051993], atol=1e-6)


def test_a_1_63_micron_image() -> None:
    """registration.md §2: tsv carries the pixel size (SectionImage 101945191: 1.63 µm/px)."""
    record = {
        **{"tsv_00": 1.62929, "tsv_01": 0.0480343, "tsv_02": -0.0480343, "tsv_03": 1.62929},
        **{"tsv_04": 406.469, "tsv_05": 2243.71},
        **{"tvs_00": 0.61323, "tvs_01": -0.0180791, "tvs_02": 0.0180791, "tvs_03": 0.61323},
        **{"tvs_04": -208.695, "tvs_05": -1383.26},
    }
    section = SectionAlignment.from_record(record, 171)
    identity = DataSetAlignment(np.eye(4), np.eye(4), 25.0)
    assert pixel_size_um(section, identity) == pytest.approx((1.63, 1.63), abs=1e-4)
    there = image_to_image_2d(section, section, [[0, 0], [4000, 2000]])
    np.testing.assert_allclose(there, [[0, 0], [4000, 2000]], atol=0.05)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tsv_04": None}, "Alignment2d 7: tsv_04 is missing"),
        ({"tvs_03": "1"}, "Alignment2d 7: tvs_03 is not a number"),
        ({"tsv_00": float("nan")}, "Alignment2d 7: tsv_00 is not finite"),
        ({"tsv_01": True}, "Alignment2d 7: tsv_01 is not a number"),
    ],
)
def test_bad_records_are_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SectionAlignment.from_record({**HAND_2D, **change}, 1)


def test_bad_points_and_thickness() -> None:
    section, data_set = hand()
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        image_to_reference(section, data_set, [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        image_to_reference(section, data_set, [1, float("inf")])
    with pytest.raises(ValueError, match="section_thickness must be above 0, not 0"):
        DataSetAlignment.from_record(HAND_3D, 0)
    with pytest.raises(ValueError, match="section_thickness must be a number, not None"):
        DataSetAlignment.from_record(HAND_3D, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="section_number must be a number, not None"):
        SectionAlignment.from_record(HAND_2D, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="section_number must be finite"):
        SectionAlignment.from_record(HAND_2D, float("nan"))
