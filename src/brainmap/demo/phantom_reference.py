"""The demo store's reference space: the phantom's annotation volume (labels of the phantom
ontology on a voxel grid over the CCF's extent) and a Nissl-like template, written with
:func:`brainmap.reference.volume.write_volume` under ``reference/<id>/`` of the store's pixel
root (a folder or an object store), and the ``ReferenceSpace`` record naming them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import tifffile

from brainmap.demo.phantom_anatomy import labels_on_grid
from brainmap.demo.phantom_ontology import GRAPH_ID
from brainmap.demo.phantom_space import OFFSET_MM, REFERENCE_SPACE_ID
from brainmap.demo.phantom_stains import DENSITY
from brainmap.reference.planes import CCF_EXTENT_UM
from brainmap.reference.volume import write_volume
from brainmap.store.pixels import PixelRoot
from brainmap.store.schema import ReferenceSpace

NAME = "Phantom P56 Brain (brainmap demo)"
FOLDER = f"reference/{REFERENCE_SPACE_ID}/annotation.zarr"
"""Store-relative folder of the volume: its annotation and template layers."""
SLAB = 16
"""Planes along p labelled at a time."""


def resolution_um(scale: float) -> float:
    """The voxel size: 50 µm for the demo, 100 µm for the small stores tests build."""
    return 50.0 if scale >= 0.5 else 100.0


def annotation(resolution: float) -> np.ndarray:
    """The phantom's labels (uint32, (p, i, r)) on voxels centred on ``k * resolution`` µm."""
    axes = [np.arange(int(extent // resolution)) * resolution / 1000.0 for extent in CCF_EXTENT_UM]
    p, i, r = (axis - offset for axis, offset in zip(axes, OFFSET_MM, strict=True))
    labels = np.empty((p.size, i.size, r.size), dtype=np.uint32)
    for k in range(0, p.size, SLAB):  # a slab at a time bounds the arrays of a blob's box
        labels[k : k + SLAB] = labels_on_grid(r, i, p[k : k + SLAB])  # brain x, y, z = r, i, p
    return labels


def template(labels: np.ndarray) -> np.ndarray:
    """A Nissl-like intensity (uint8): each structure's cell density, 0 outside the brain."""
    table = np.round(DENSITY * 250.0).astype(np.uint8)
    out: np.ndarray = table[labels]
    return out


def write_reference_space(root: PixelRoot, scale: float) -> ReferenceSpace:
    """Write the volume into a store's pixel root and return the record naming it."""
    resolution = resolution_um(scale)
    labels = annotation(resolution)
    with tempfile.TemporaryDirectory() as scratch:
        files = {name: Path(scratch) / f"{name}.tif" for name in ("annotation", "template")}
        tifffile.imwrite(files["annotation"], labels)
        tifffile.imwrite(files["template"], template(labels))
        root.write_volume(
            FOLDER,
            lambda folder: write_volume(
                folder, files["annotation"], template=files["template"], resolution_um=resolution
            ),
        )
    return ReferenceSpace(
        id=REFERENCE_SPACE_ID,
        name=NAME,
        structure_graph_id=GRAPH_ID,
        resolution_p=resolution,
        resolution_i=resolution,
        resolution_r=resolution,
        annotation_path=FOLDER,
        template_path=FOLDER,
    )
