"""A store of section images cut from a known synthetic volume through planes known by
construction (`brainmap.reference.construct`), with their Alignment2d/Alignment3d records, for
the warping tests: a section warped to the reference must give back the volume on its plane.

The volume is a smooth RGB field over the reference space (`field`); each section image holds
the field at its full-resolution pixels' reference points (from the construction's own
matrices), stored losslessly. Data set `CORONAL` is tilted (its sections are not parallel to the
coronal planes); `SAGITTAL` is untilted; `UNALIGNED` has no Alignment3d; in `PARTLY` image
`NO_ALIGNMENT2D` has no Alignment2d.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    section_fields,
    volume_fields,
)
from brainmap.reference.construct import tilted_data_set, turned_section
from brainmap.store.folder import Store
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    PlaneOfSection,
    SectionDataSet,
    SectionImage,
)

CORONAL, SAGITTAL, UNALIGNED, PARTLY = 700, 701, 702, 703
NO_ALIGNMENT2D = 7399
THICKNESS = 25.0
PIXEL_UM = 5.0
SIZE = (1200, 1000)  # width, height: 6 x 5 mm at 5 µm
TILT = {CORONAL: (1.0, 2.0, -3.0), SAGITTAL: (0.0, 0.0, 0.0)}
PLANE = {CORONAL: "coronal", SAGITTAL: "sagittal", UNALIGNED: "coronal", PARTLY: "coronal"}
CENTRES = {  # section image id -> (data set, the image centre's reference point in µm)
    7001: (CORONAL, (5000.0, 4000.0, 5700.0)),
    7002: (CORONAL, (7500.0, 3800.0, 5200.0)),
    7003: (CORONAL, (9025.0, 4100.0, 6000.0)),
    7101: (SAGITTAL, (6600.0, 4200.0, 4000.0)),
    7102: (SAGITTAL, (6500.0, 3900.0, 7000.0)),
    7201: (UNALIGNED, (6000.0, 4000.0, 5000.0)),
    7301: (PARTLY, (6000.0, 4000.0, 5000.0)),
    NO_ALIGNMENT2D: (PARTLY, (6100.0, 4000.0, 5000.0)),
}


def field(points: np.ndarray) -> np.ndarray:
    """The volume's RGB value (float, 0..255) at reference points (N, 3) in µm."""
    p, i, r = (points[:, k] for k in range(3))
    red = 128 + 90 * np.sin(p / 900.0) * np.cos(r / 1300.0)
    green = 128 + 90 * np.cos(i / 700.0 + p / 2500.0)
    blue = 128 + 90 * np.sin((r + i) / 1100.0)
    return np.stack([red, green, blue], axis=1)


@dataclass(frozen=True)
class Section:
    """A section's alignments as constructed."""

    image_id: int
    data_set_id: int
    section: SectionAlignment
    data_set: DataSetAlignment

    @property
    def plane(self) -> str:
        return PLANE[self.data_set_id]

    def centre_um(self) -> np.ndarray:
        """The reference point of the image's centre, by the construction's matrices."""
        width, height = SIZE
        depth = self.section.section_number * THICKNESS
        on_volume = self.section.to_volume @ np.array([(width - 1) / 2, (height - 1) / 2, depth, 1])
        return (self.data_set.to_reference @ on_volume)[:3]


def section(image_id: int) -> Section:
    """The construction of section `image_id`: turned 7° in its plane, its centre pixel at its
    centre point, its data set tilted about that point."""
    data_set_id, centre = CENTRES[image_id]
    width, height = SIZE
    pivot = (6600.0, 4000.0, 5700.0)
    data_set = tilted_data_set(
        PLANE[data_set_id], THICKNESS, TILT.get(data_set_id, (0, 0, 0)), pivot
    )
    # The section nearest the centre point; the image centre lies on it, near that point.
    volume_point = np.linalg.solve(
        data_set.to_reference[:3, :3], np.subtract(centre, data_set.to_reference[:3, 3])
    )
    number = round(volume_point[2] / THICKNESS)
    turned = turned_section(
        number,
        PIXEL_UM,
        7.0,
        at_pixel=((width - 1) / 2, (height - 1) / 2),
        at_volume_um=(volume_point[0], volume_point[1]),
    )
    return Section(image_id, data_set_id, turned, data_set)


def pixels(cut: Section) -> np.ndarray:
    """The section image at full resolution: the field at its pixels' reference points."""
    width, height = SIZE
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    points = image_to_reference(cut.section, cut.data_set, np.column_stack([x.ravel(), y.ravel()]))
    return np.clip(np.rint(field(points)), 0, 255).astype(np.uint8).reshape(height, width, 3)


def build_reference_store(root: Path) -> Store:
    """Write the pyramids and records."""
    store = Store.create(root)
    with store.session() as session:
        session.add_all(
            [PlaneOfSection(id=1, name="coronal"), PlaneOfSection(id=2, name="sagittal")]
        )
        session.flush()
        for data_set_id, plane in PLANE.items():
            session.add(
                SectionDataSet(
                    id=data_set_id,
                    plane_of_section_id=1 if plane == "coronal" else 2,
                    section_thickness=THICKNESS,
                    reference_space_id=9,
                    failed=False,
                )
            )
        session.flush()
        for data_set_id in (CORONAL, SAGITTAL, PARTLY):
            some = section(next(i for i, (d, _) in CENTRES.items() if d == data_set_id))
            fields = volume_fields(some.data_set.to_reference, some.data_set.from_reference)
            session.add(Alignment3d(aligned_id=data_set_id, aligned_type="DataSet", **fields))
        for image_id in CENTRES:
            cut = section(image_id)
            name = store.new_pyramid_name(f"section{image_id}")
            write_pyramid(pixels(cut), store.pyramid_path(name), PyramidKind.LOSSLESS)
            session.add(
                SectionImage(
                    id=image_id,
                    data_set_id=cut.data_set_id,
                    **whole_image(*SIZE),
                    section_number=int(cut.section.section_number),
                    resolution=PIXEL_UM,
                    number_of_components=3,
                    bits_per_component=8,
                    path=name,
                )
            )
        session.flush()
        for image_id in CENTRES:
            if image_id != NO_ALIGNMENT2D:
                turned = section(image_id).section
                fields = section_fields(turned.to_volume, turned.from_volume)
                session.add(Alignment2d(section_image_id=image_id, **fields))
    return store
