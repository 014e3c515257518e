"""Structure centres: centroids of a structure's and its descendants' voxels, in µm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_files import write_nrrd

from brainmap.reference.centres import label_moments, structure_centres
from brainmap.reference.volume import write_volume

# root 1 > 2 > (3, 4); 5 under 1 has no voxels, nor does 6 under 5.
PARENTS: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: 2, 5: 1, 6: 5}


def small_volume() -> np.ndarray:
    data = np.zeros((10, 6, 4), dtype=np.uint32)
    data[0:4, 0:2, 0] = 3  # 8 voxels, centroid index (1.5, 0.5, 0)
    data[6:10, 4:6, 2:4] = 4  # 16 voxels, centroid (7.5, 4.5, 2.5)
    data[5, 3, 1] = 2  # 1 voxel at (5, 3, 1)
    data[9, 5, 0] = 1  # 1 voxel at (9, 5, 0)
    return data


def test_centres_by_hand(tmp_path: Path) -> None:
    data = small_volume()
    # chunks of 3 split every block, so the sums cross chunks
    volume = write_volume(
        tmp_path / "v", write_nrrd(tmp_path / "a.nrrd", data, spacing=(10, 20, 30)), chunk=3
    )
    moments = label_moments(volume)
    assert moments.labels.tolist() == [1, 2, 3, 4]
    assert moments.counts.tolist() == [1, 1, 8, 16]
    centres = structure_centres(moments, PARENTS, volume.resolution_um)
    assert centres[3] == pytest.approx((15, 10, 0))
    assert centres[4] == pytest.approx((75, 90, 75))
    # 2: itself, 3 and 4: 25 voxels; index sums p 5 + 12 + 120 = 137, i 3 + 4 + 72 = 79,
    # r 1 + 0 + 40 = 41.
    assert centres[2] == pytest.approx((137 / 25 * 10, 79 / 25 * 20, 41 / 25 * 30))
    # 1: everything: 26 voxels, p 146, i 84, r 41.
    assert centres[1] == pytest.approx((146 / 26 * 10, 84 / 26 * 20, 41 / 26 * 30))
    assert 5 not in centres and 6 not in centres
    np.testing.assert_allclose(
        centres[1], np.argwhere(data > 0).mean(axis=0) * np.array([10, 20, 30])
    )


def test_an_ontology_that_does_not_fit(tmp_path: Path) -> None:
    volume = write_volume(tmp_path / "v", write_nrrd(tmp_path / "a.nrrd", small_volume()))
    moments = label_moments(volume)
    with pytest.raises(ValueError, match="labels not in the ontology: 4"):
        structure_centres(moments, {k: v for k, v in PARENTS.items() if k != 4}, (25, 25, 25))
    with pytest.raises(ValueError, match="structure 2's parent 7 is not in the ontology"):
        structure_centres(moments, {**PARENTS, 2: 7}, (25, 25, 25))
    with pytest.raises(ValueError, match="loop above structure"):
        structure_centres(moments, {**PARENTS, 1: 3}, (25, 25, 25))
