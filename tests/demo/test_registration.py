"""The demo store's registration: its reference space made from the phantom, the alignment
records of every image, and sections cut through the planes those records give, so that a
section warped to the reference reproduces the phantom's own plane."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from brainmap.demo.phantom_anatomy import Plane, labels_at
from brainmap.demo.phantom_space import brain_mm, data_set_alignment
from brainmap.demo.phantom_stains import TISSUE
from brainmap.pyramid.local import Pyramid
from brainmap.reference.alignment import DataSetAlignment, SectionAlignment
from brainmap.reference.planes import plane_axes
from brainmap.reference.volume import ReferenceVolume
from brainmap.reference.warp import WarpedSection, warp_to_reference
from brainmap.store.folder import Store
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    AtlasImage,
    DataSet,
    ReferenceSpace,
    SectionImage,
    SubImage,
)

GRID_UM = 25.0
"""The reference grid the sections are warped to."""
AGREE = 0.98
"""Least share of a warped label map's grid points whose label is the phantom's there."""


def alignments(store: Store, image: SubImage) -> tuple[SectionAlignment, DataSetAlignment]:
    """The image's records as matrices, read from the store."""
    assert image.section_number is not None
    with store.session() as session:
        found = session.scalars(select(Alignment2d).where(Alignment2d.section_image_id == image.id))
        data_set = session.get(DataSet, image.data_set_id)
        assert data_set is not None and data_set.section_thickness is not None
        volume = session.scalars(select(Alignment3d).where(Alignment3d.aligned_id == data_set.id))
        return (
            SectionAlignment.from_record(found.one(), image.section_number),
            DataSetAlignment.from_record(volume.one(), data_set.section_thickness),
        )


def phantom_plane(warped: WarpedSection) -> np.ndarray:
    """The phantom's labels at every grid point, on the section's own (tilted) plane."""
    normal, row_axis, col_axis = plane_axes(warped.grid.plane)
    rows, cols = np.mgrid[0 : warped.grid.shape[0], 0 : warped.grid.shape[1]] * GRID_UM
    points = np.zeros((*rows.shape, 3))
    points[..., normal] = warped.plane.depth_um()
    points[..., row_axis], points[..., col_axis] = rows, cols
    labels: np.ndarray = labels_at(*brain_mm(points.reshape(-1, 3))).reshape(rows.shape)
    return labels


def boundary_distance_um(labels: np.ndarray) -> np.ndarray:
    """Each grid point's distance (µm) to the nearest grid point beside a change of label."""
    edge = np.zeros(labels.shape, dtype=bool)
    across, down = labels[:, 1:] != labels[:, :-1], labels[1:] != labels[:-1]
    edge[:, 1:] |= across
    edge[:, :-1] |= across
    edge[1:] |= down
    edge[:-1] |= down
    distance = cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    out: np.ndarray = distance * GRID_UM
    return out


def plates(store: Store) -> list[tuple[AtlasImage, str]]:
    """The annotated plates and the paths of their label maps."""
    with store.session() as session:
        found = session.scalars(select(AtlasImage).where(AtlasImage.annotated)).all()
        assert len(found) >= 10
        return [(plate, plate.alternate_images[0].path) for plate in found]


def test_the_reference_space_is_the_phantom(demo_store: Store) -> None:
    with demo_store.session() as session:
        space = session.get(ReferenceSpace, 9)
        assert space is not None and space.structure_graph_id == 1
        assert space.annotation_path is not None
        assert {d.reference_space_id for d in session.scalars(select(DataSet))} == {9}
    volume = ReferenceVolume.open(demo_store.root / space.annotation_path)
    assert volume.has_template
    assert volume.resolution_um == (space.resolution_p, space.resolution_i, space.resolution_r)
    assert volume.shape == tuple(round(e / volume.resolution_um[0]) for e in (13200, 8000, 11400))
    voxels = np.random.default_rng(5).integers(0, volume.shape, size=(2000, 3))
    centres = voxels * np.asarray(volume.resolution_um)
    expected = labels_at(*brain_mm(centres))
    assert (volume.label_at(centres) == expected).all()
    assert len(set(expected.tolist())) > 20


def test_every_image_and_data_set_is_aligned_and_tilted(demo_store: Store) -> None:
    with demo_store.session() as session:
        images = session.scalars(select(SubImage)).all()
        assert len(images) > 30
        for image in images:
            assert image.data_set is not None and image.data_set.plane_of_section_id is not None
            section, data_set = alignments(demo_store, image)
            pixel = np.linalg.norm(section.to_volume[:2, 0])
            assert pixel == pytest.approx(image.resolution, rel=1e-3)
            normal = data_set.to_reference[:3, 2]
            axis = PLANE_NORMALS[image.data_set.plane_of_section_id]
            tilt = np.degrees(np.arccos(abs(normal[axis])))
            assert 1.0 < tilt < 4.0, (image.id, tilt)


PLANE_NORMALS = {Plane.CORONAL.value: 0, Plane.SAGITTAL.value: 2}


def test_warped_plates_reproduce_the_phantoms_planes(demo_store: Store) -> None:
    """Each annotated plate's label map, warped (nearest) by its records onto the 25 µm
    coronal grid, holds the phantom's label at ≥ 98% of the grid points it covers, and every
    other one lies within one grid step of a boundary of the phantom's plane. Warped as if the
    data set were untilted, the same plates disagree up to hundreds of µm from any boundary."""
    for plate, label_path in plates(demo_store):
        labels = Pyramid(demo_store.pyramid_path(label_path)).level(0).numpy()
        section, data_set = alignments(demo_store, plate)
        untilted = data_set_alignment(Plane.CORONAL, data_set.section_thickness, (0, 0, 0))
        far = []
        for aligned, expect_close in ((data_set, True), (untilted, False)):
            warped = warp_to_reference(
                labels, section, aligned, "coronal", resolution_um=GRID_UM, order=0
            )
            truth = phantom_plane(warped)
            wrong = (warped.pixels != truth) & warped.valid
            distance = boundary_distance_um(truth)[wrong]
            if expect_close:
                assert wrong.sum() <= (1 - AGREE) * warped.valid.sum(), plate.id
                assert distance.max() <= GRID_UM, plate.id
            else:
                far.append(distance.max())
        assert max(far) > 2 * GRID_UM


def tissue(store: Store, image: SectionImage) -> np.ndarray:
    """Where a section's picture shows tissue: a connectivity section's blue channel is flat
    over tissue and 0 elsewhere; an ISH section's optical density (from its green channel) is
    6 on bare glass and 18 or more on tissue."""
    pixels = Pyramid(store.pyramid_path(image.path)).level(0).numpy()
    if image.bits_per_component == 12:
        return np.asarray(pixels[..., 2] > 0)
    density = -np.log(np.maximum(pixels[..., 1], 1) / ISH_GLASS_GREEN) * 255 / ISH_GREEN_SCALE
    return np.asarray(density > 12)


ISH_GLASS_GREEN, ISH_GREEN_SCALE = 239.0, 3.15
"""The ISH stain's green on white and its absorbance scale (phantom_stains.ISH)."""
TISSUE_UM = 3 * GRID_UM
"""How far from the phantom's tissue edge a warped picture may disagree with it: the pictures'
anatomy is decided on blocks of up to 4 pixels (47 µm here) and smoothed across them."""


def tissue_errors(store: Store, image: SectionImage, untilted: bool) -> tuple[float, float]:
    """The share of grid points where the warped section's tissue is not the phantom's, and
    the farthest of them from the phantom's tissue edge (µm); `untilted` warps by records
    that leave out the data set's tilt."""
    section, data_set = alignments(store, image)
    assert image.data_set is not None and image.data_set.plane_of_section_id is not None
    plane = Plane(image.data_set.plane_of_section_id)
    if untilted:
        data_set = data_set_alignment(plane, data_set.section_thickness, (0, 0, 0))
    warped = warp_to_reference(
        tissue(store, image).astype(np.uint8),
        section,
        data_set,
        plane.name.lower(),
        resolution_um=GRID_UM,
        order=0,
    )
    truth = TISSUE[phantom_plane(warped)] > 0
    wrong = (warped.pixels.astype(bool) != truth) & warped.valid
    farthest = float(boundary_distance_um(truth)[wrong].max()) if wrong.any() else 0.0
    return float(wrong.sum() / warped.valid.sum()), farthest


def test_warped_sections_reproduce_the_phantoms_tissue(demo_store: Store) -> None:
    """Every section (ISH coronal and sagittal, connectivity), warped (nearest) by its records
    onto the 25 µm grid of its plane, has tissue where the phantom's own plane has tissue at ≥
    98% of the grid points it covers, and disagrees only within TISSUE_UM of the phantom's
    tissue edge; warped as if its data set were untilted, each data set strays farther."""
    with demo_store.session() as session:
        images = session.scalars(select(SectionImage).order_by(SectionImage.id)).all()
        assert len(images) >= 26
        strays: dict[int, float] = {}
        for image in images:
            share, farthest = tissue_errors(demo_store, image, untilted=False)
            assert share <= 1 - AGREE and farthest <= TISSUE_UM, (image.id, share, farthest)
            assert image.data_set_id is not None
            _, untilted = tissue_errors(demo_store, image, untilted=True)
            strays[image.data_set_id] = max(strays.get(image.data_set_id, 0.0), untilted)
        assert len(strays) == 5 and min(strays.values()) > TISSUE_UM, strays
