"""Structure centres from an annotation volume (DECISIONS.md "Registration"): the centroid, in µm
(p, i, r), of the voxels labelled with a structure or any of its descendants.

One pass over the volume, chunk by chunk, counts each label's voxels and sums their coordinates;
the ontology's tree then adds each structure's descendants to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brainmap.reference.volume import ReferenceVolume


@dataclass(frozen=True)
class LabelMoments:
    """Per label (0, outside the brain, left out): voxel count and sums of voxel indices."""

    labels: NDArray[np.int64]
    counts: NDArray[np.int64]
    sums: NDArray[np.float64]  # (labels, 3): sums of p, i, r voxel indices


def label_moments(volume: ReferenceVolume) -> LabelMoments:
    """Counts and coordinate sums of every label, reading one chunk at a time."""
    annotation = volume.layers["annotation"]
    totals: dict[int, NDArray[np.float64]] = {}
    for key in annotation.chunk_keys():
        chunk = annotation.read(key)
        found, inverse, counts = np.unique(chunk, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        offset = np.asarray(key) * np.asarray(annotation.chunks)
        grids = np.indices(chunk.shape).reshape(3, -1)
        table = np.column_stack(
            [counts]
            + [
                np.bincount(inverse, weights=grids[axis], minlength=len(found))
                + counts * offset[axis]
                for axis in range(3)
            ]
        )
        for label, row in zip(found.tolist(), table, strict=True):
            if label != 0:
                totals[label] = totals[label] + row if label in totals else row
    labels = np.array(sorted(totals), dtype=np.int64)
    table = np.array([totals[label] for label in labels.tolist()]).reshape(-1, 4)
    return LabelMoments(labels, table[:, 0].astype(np.int64), table[:, 1:])


def structure_centres(
    moments: LabelMoments,
    parents: Mapping[int, int | None],
    resolution_um: tuple[float, float, float],
) -> dict[int, tuple[float, float, float]]:
    """Each structure's centre in µm (p, i, r), over its own and its descendants' voxels.

    `parents` maps every structure id of the ontology to its parent's id (None at the root).
    Structures with no voxels under them have no centre. Labels not in `parents` are refused.
    """
    unknown = sorted(set(moments.labels.tolist()) - set(parents))
    if unknown:
        shown = ", ".join(str(label) for label in unknown[:5])
        raise ValueError(f"labels not in the ontology: {shown}{' ...' if len(unknown) > 5 else ''}")
    totals = {structure: np.zeros(4) for structure in parents}
    for label, count, sums in zip(
        moments.labels.tolist(), moments.counts, moments.sums, strict=True
    ):
        moment = np.array([count, *sums])
        structure = label
        for _ in range(len(parents) + 1):
            totals[structure] += moment
            parent = parents[structure]
            if parent is None:
                break
            if parent not in parents:
                raise ValueError(f"structure {structure}'s parent {parent} is not in the ontology")
            structure = parent
        else:
            raise ValueError(f"the ontology's parents loop above structure {label}")
    scale = np.asarray(resolution_um)
    centres = {}
    for structure, total in totals.items():
        if total[0] > 0:
            p, i, r = total[1:] / total[0] * scale
            centres[structure] = (float(p), float(i), float(r))
    return centres
