"""Build the synthetic demo store: a deterministic, plausible Allen-like store made from nothing.

``build_demo_store(root)`` writes products, planes, genes, a 47-structure ontology, four ISH
data sets (coronal and sagittal, with expression masks), one 3-channel 12-bit connectivity data
set (with equalization and projection masks) and the coronal reference atlas 1 (Nissl plates
with annotation label maps), and the reference space 9 made from the phantom
(:mod:`~brainmap.demo.phantom_reference`). Every data set has its Alignment3d and every image
its Alignment2d, known by construction (:mod:`~brainmap.demo.phantom_space`: data sets tilted
by a few degrees, sections turned within their plane), and every image is cut from the same 3-D
phantom (:mod:`~brainmap.demo.phantom_anatomy`) through the plane those records give, so stain,
annotation, signal and registration agree. Label maps hold structure ids, and 0 outside the
brain.

The store is built in a hidden sibling folder and renamed into place when complete, so an
interrupted build is detected (no ``phantom.json`` marker) and redone.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import count
from pathlib import Path

import pyvips

from brainmap.demo import phantom_catalog as catalog
from brainmap.demo import phantom_stains as stains
from brainmap.demo.phantom_anatomy import FIELDS, Plane
from brainmap.demo.phantom_ontology import BY_ACRONYM, GRAPH_ID, ONTOLOGY_ID, REGIONS, ROOT_ID
from brainmap.demo.phantom_reference import write_reference_space
from brainmap.demo.phantom_space import REFERENCE_SPACE_ID, data_set_alignment, place
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind
from brainmap.reference.alignment import DataSetAlignment, section_fields, volume_fields
from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK, VIEW_BY_ALTERNATE
from brainmap.store.folder import Store
from brainmap.store.revisions import head
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    AlternateImage,
    AtlasDataSet,
    AtlasImage,
    Base,
    Equalization,
    Gene,
    SectionDataSet,
    SectionImage,
    Specimen,
    Structure,
    SubImage,
)

MARKER = "phantom.json"
VERSION = 2  # 2: the reference space, alignments and sections cut through them
QC_DATE = dt.datetime(2024, 1, 15, 12, 0, 0)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    """One pyramid to write: where, how, and a function making its pixels."""

    path: str
    kind: PyramidKind
    pixels: Callable[[], pyvips.Image]


@dataclass
class Plan:
    """Everything the store will hold: metadata rows, and the pyramids they point at."""

    rows: list[Base]
    jobs: list[Job]


def _size(plane: Plane, width: int, scale: float) -> tuple[int, int]:
    """A section `width` pixels wide at scale 1, its height from the plane's field of view."""
    field = FIELDS[plane]
    scaled = max(64, round(width * scale))
    return scaled, round(scaled * field.height / field.width)


def _factor(width: int, factor: int) -> int:
    """The coarse grid's factor: at most `factor`, with at least 200 blocks across."""
    while factor > 1 and width / factor < 200:
        factor //= 2
    return factor


def _turn(index: int) -> float:
    """A section's turn within its plane (degrees): -3 to 3, varying from section to section."""
    return (index % 5 - 2) * 1.5


def _depths(first: float, last: float, number: int) -> list[float]:
    return [round(first + (last - first) * i / (number - 1), 3) for i in range(number)]


def _image(kind: type[SubImage], id_: int, section: stains.Section, **fields: object) -> SubImage:
    """A SubImage record over `section` (the whole image unless `fields` give a box); its
    resolution is the pixel size the section's alignment gives."""
    values: dict[str, object] = {
        **whole_image(section.width, section.height),
        "annotated": False,
        "bits_per_component": 8,
        "number_of_components": 3,
        "failed": False,
        "image_type": "Primary",
        "section_number": section.placement.section_number,
    }
    values.update(fields)
    return kind(id=id_, resolution=round(section.step * 1000.0, 4), **values)


def _ish_pixels(
    section: stains.Section, levels: dict[str, float], offset: int, which: int
) -> pyvips.Image:
    """The ISH image (`which` 0) or its expression mask (1)."""
    return stains.ish(section, stains.expression(section, levels), offset)[which]


def _fluorescence_pixels(
    section: stains.Section, injection: stains.Injection, offset: int, which: int
) -> pyvips.Image:
    """The 12-bit connectivity image (`which` 0) or its projection mask (1)."""
    return stains.fluorescence(section, stains.projection(section, injection), offset)[which]


def _structures() -> Iterator[Structure]:
    for region in REGIONS:
        parent = BY_ACRONYM[region.parent].id if region.parent else None
        yield Structure(
            id=region.id,
            atlas_id=-1 if region.id == ROOT_ID else region.id - 900,
            name=region.name,
            acronym=region.acronym,
            st_level=region.depth,
            ontology_id=ONTOLOGY_ID,
            hemisphere_id=3,
            weight=8690,
            parent_structure_id=parent,
            depth=region.depth,
            graph_id=GRAPH_ID,
            graph_order=region.graph_order,
            structure_id_path="/" + "".join(f"{id_}/" for id_ in region.path),
            color_hex_triplet=region.color,
            failed=False,
            sphinx_id=region.graph_order + 1,
            structure_name_facet=catalog.facet(region.name),
            failed_facet=catalog.FAILED_FALSE_FACET,
            safe_name=region.name,
        )


class _Planner:
    """Allocates ids and assembles the plan, one data set at a time."""

    def __init__(self, store: Store, scale: float) -> None:
        self.store = store
        self.scale = scale
        self.plan = Plan(rows=[], jobs=[])
        self.data_set_ids = count(900_000_001)
        self.image_ids = count(900_100_001)
        self.alternate_ids = count(900_500_001)
        self.specimen_ids = count(900_010_001)
        self.alignment_ids = count(900_800_001)
        self.product = {row.id: row for row in catalog.products()}
        self.genes = {
            profile.acronym: Gene(
                id=900_700_001 + index,
                acronym=profile.acronym,
                name=profile.name,
                entrez_id=profile.entrez_id,
                alias_tags=profile.aliases,
                organism_id=catalog.MOUSE,
                sphinx_id=index + 1,
            )
            for index, profile in enumerate(catalog.GENES)
        }
        self.plan.rows += [*catalog.reference_rows(), *self.product.values()]
        self.plan.rows += [*_structures(), *self.genes.values()]

    def job(self, stem: str, kind: PyramidKind, pixels: Callable[[], pyvips.Image]) -> str:
        path = self.store.new_pyramid_name(stem)
        self.plan.jobs.append(Job(path, kind, pixels))
        return path

    def section(
        self,
        data_set: DataSetAlignment,
        plane: Plane,
        depth: float,
        width: int,
        factor: int,
        turn: float,
    ) -> stains.Section:
        """The section of a data set nearest `depth` mm, `width` pixels wide at scale 1, turned
        by `turn` degrees in its plane."""
        size = _size(plane, width, self.scale)
        placement = place(plane, data_set, depth, size, turn)
        return stains.Section(placement, _factor(size[0], factor))

    def align(self, image: SubImage, section: stains.Section) -> None:
        """The Alignment2d of `image`, the section's own."""
        alignment = section.placement.section
        fields = section_fields(alignment.to_volume, alignment.from_volume)
        self.plan.rows.append(
            Alignment2d(id=next(self.alignment_ids), section_image_id=image.id, **fields)
        )

    def masked_section(
        self,
        section: stains.Section,
        pixels: Callable[[int], pyvips.Image],
        kind: PyramidKind,
        mask_type: str,
        **fields: object,
    ) -> None:
        """A SectionImage of `kind` and its RGB mask (an alternate of `mask_type`): `pixels(0)`
        draws the image, `pixels(1)` the mask. An expression mask is also named by the record's
        ``expression_path``."""
        id_ = next(self.image_ids)
        mask = self.job(
            f"{id_}_{VIEW_BY_ALTERNATE[mask_type]}", PyramidKind.RGB8, partial(pixels, 1)
        )
        if mask_type == EXPRESSION_MASK:
            fields["expression_path"] = mask
        path = self.job(f"{id_}", kind, partial(pixels, 0))
        image = _image(SectionImage, id_, section, path=path, **fields)
        self.plan.rows.append(image)
        self.align(image, section)
        self.alternate(image, mask_type, mask, None)

    def alternate(self, image: SubImage, image_type: str, path: str, atlas: int | None) -> None:
        self.plan.rows.append(
            AlternateImage(
                id=next(self.alternate_ids),
                image_type=image_type,
                path=path,
                sub_image_id=image.id,
                atlas_id=atlas,
            )
        )

    def specimen(self, name: str, hemisphere: str, structure: str) -> Specimen:
        specimen = Specimen(
            id=next(self.specimen_ids),
            name=name,
            external_specimen_name=name.split("-")[-1],
            hemisphere=hemisphere,
            structure_id=BY_ACRONYM[structure].id,
        )
        self.plan.rows.append(specimen)
        return specimen

    def data_set(
        self,
        kind: type[SectionDataSet] | type[AtlasDataSet],
        plane: Plane,
        tilt: tuple[float, float, float],
        **fields: object,
    ) -> tuple[int, DataSetAlignment]:
        """A data set of `plane` sections tilted by `tilt` degrees (about p, i, r), with its
        Alignment3d; returns its id and alignment."""
        id_ = next(self.data_set_ids)
        products = fields.pop("products")
        assert isinstance(products, list)
        thickness = fields["section_thickness"]
        assert isinstance(thickness, float)
        alignment = data_set_alignment(plane, thickness, tilt)
        data_set = kind(
            id=id_,
            plane_of_section_id=plane.value,
            reference_space_id=REFERENCE_SPACE_ID,
            failed_facet=catalog.FAILED_FALSE_FACET,
            qc_date=QC_DATE,
            sphinx_id=id_ - 900_000_000,
            storage_directory=f"/external/phantom/prod0/image_series_{id_}/",
            weight=5270,
            products=[self.product[p] for p in products],
            **fields,
        )
        self.plan.rows.append(data_set)
        self.plan.rows.append(
            Alignment3d(
                id=next(self.alignment_ids),
                aligned_id=id_,
                aligned_type="DataSet",
                **volume_fields(alignment.to_reference, alignment.from_reference),
            )
        )
        return id_, alignment

    def ish(
        self,
        gene: str,
        plane: Plane,
        depths: list[float],
        width: int,
        tilt: tuple[float, float, float],
    ) -> None:
        """An ISH data set: one gene, Primary images with expression masks."""
        specimen = self.specimen(f"{gene}-{plane.name.lower()}-PH", "both", "root")
        data_set, alignment = self.data_set(
            SectionDataSet,
            plane,
            tilt,
            products=[1],
            expression=True,
            section_thickness=25.0,
            specimen_id=specimen.id,
            genes=[self.genes[gene]],
        )
        profile = next(p for p in catalog.GENES if p.acronym == gene)
        for index, depth in enumerate(depths):
            section = self.section(alignment, plane, depth, width, 8, _turn(index))
            pixels = partial(_ish_pixels, section, profile.levels, 101 * index + len(gene))
            whole = (0, 0, section.width, section.height)
            x, y, width_, height = section.box(0.3) if plane is Plane.SAGITTAL else whole
            self.masked_section(
                section,
                pixels,
                PyramidKind.RGB8,
                EXPRESSION_MASK,
                data_set_id=data_set,
                specimen_id=specimen.id,
                x=x,
                y=y,
                width=width_,
                height=height,
            )

    def connectivity(self, depths: list[float], width: int) -> None:
        """A tracer experiment: 3 channels of 12 bits, equalization, projection masks."""
        injection = stains.Injection(
            center=(2.2, 0.9, 4.9),
            radius=0.3,
            targets={
                "ISO": 0.35,
                "cc": 0.6,
                "int": 0.5,
                "CP": 0.6,
                "TH": 0.45,
                "SC": 0.25,
                "P": 0.3,
                "PAG": 0.15,
            },
            contra=0.3,
        )
        specimen = self.specimen("Phantom-Conn-378-1234", "right", "ISO5")
        data_set, alignment = self.data_set(
            SectionDataSet,
            Plane.CORONAL,
            (0.5, -2.5, 1.0),
            products=[5],
            red_channel="background fluorescence",
            green_channel="rAAV",
            section_thickness=100.0,
            specimen_id=specimen.id,
        )
        self.plan.rows.append(
            Equalization(
                id=900_600_001,
                section_data_set_id=data_set,
                red_lower=0,
                red_upper=880,
                green_lower=0,
                green_upper=1010,
                blue_lower=0,
                blue_upper=4095,
            )
        )
        for index, depth in enumerate(depths):
            section = self.section(alignment, Plane.CORONAL, depth, width, 16, _turn(index + 2))
            pixels = partial(_fluorescence_pixels, section, injection, 211 * index + 5)
            self.masked_section(
                section,
                pixels,
                PyramidKind.LOSSLESS,
                PROJECTION_MASK,
                bits_per_component=12,
                data_set_id=data_set,
                specimen_id=specimen.id,
            )

    def atlas(self, depths: list[float], width: int) -> None:
        """Atlas 1: Nissl plates; the annotated ones carry a label map of structure ids."""
        specimen = self.specimen("Phantom-Atlas-P56", "both", "root")
        data_set, alignment = self.data_set(
            AtlasDataSet,
            Plane.CORONAL,
            (0.0, 1.0, -1.5),
            products=[12],
            section_thickness=25.0,
            specimen_id=specimen.id,
        )
        self.plan.rows.append(catalog.atlas(data_set))
        for index, depth in enumerate(depths):
            section = self.section(alignment, Plane.CORONAL, depth, width, 8, _turn(index + 1))
            id_ = next(self.image_ids)
            annotated = 0 < index < len(depths) - 1
            image = _image(
                AtlasImage,
                id_,
                section,
                path=self.job(f"{id_}", PyramidKind.RGB8, partial(stains.nissl, section, index)),
                annotated=annotated,
                data_set_id=data_set,
                specimen_id=specimen.id,
            )
            self.plan.rows.append(image)
            self.align(image, section)
            if annotated:
                labels = self.job(
                    f"{id_}_annotation", PyramidKind.LABELS, partial(stains.label_map, section)
                )
                self.alternate(image, catalog.ATLAS_IMAGE_TYPE, labels, catalog.ATLAS_ID)


def plan_store(store: Store, scale: float = 1.0) -> Plan:
    """The demo store's rows and pyramids at `scale` (1 = full size; tests use less)."""
    planner = _Planner(store, scale)
    planner.ish("Gad1", Plane.CORONAL, _depths(2.4, 10.2, 6), 4400, (0.0, 2.0, -1.5))
    planner.ish("Slc17a7", Plane.CORONAL, _depths(2.8, 10.6, 6), 4400, (1.0, -1.5, 2.5))
    planner.ish("Calb1", Plane.SAGITTAL, _depths(0.3, 3.9, 6), 5200, (2.0, -1.5, 0.5))
    planner.ish("Pvalb", Plane.SAGITTAL, _depths(0.5, 4.1, 6), 5200, (-1.5, 2.5, -1.0))
    planner.connectivity([4.9, 6.6], 16000)
    planner.atlas(_depths(1.3, 11.5, 12), 5600)
    return planner.plan


def _write(store: Store, job: Job) -> str:
    store.pixels.write_pyramid(job.path, job.pixels(), job.kind)
    return job.path


def _signature(scale: float) -> dict[str, object]:
    """What a complete demo store was made by: a store of an older schema is made again."""
    return {"generator": __name__, "version": VERSION, "scale": scale, "schema": head()}


def _is_complete(root: Path, scale: float) -> bool:
    marker = root / MARKER
    return marker.is_file() and json.loads(marker.read_text()) == _signature(scale)


def build_demo_store(
    root: Path, *, progress: Progress | None = None, scale: float = 1.0, workers: int = 2
) -> Store:
    """Build (or reuse) the synthetic demo store at `root` and return it opened.

    A complete store of the same version and `scale` is returned as is. A folder that is not
    a phantom store is never overwritten. `workers` pyramids are written at a time.
    """
    report = progress or (lambda _message: None)
    root = Path(root)
    if _is_complete(root, scale):
        return Store.open(root)
    if root.exists() and any(root.iterdir()) and not (root / MARKER).is_file():
        raise FileExistsError(f"{root} exists and is not a brainmap demo store")
    partial = root.with_name(f".{root.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    store = Store.create(partial)
    try:
        report("reference space: annotation and template volumes")
        space = write_reference_space(store.pixels, scale)
        plan = plan_store(store, scale)
        plan.rows.append(space)
        largest_first = sorted(plan.jobs, key=lambda job: job.kind is not PyramidKind.LOSSLESS)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            written = pool.map(lambda job: _write(store, job), largest_first)
            for done, path in enumerate(written, start=1):
                report(f"pyramid {done}/{len(plan.jobs)}: {path}")
        aligned = (Alignment2d, Alignment3d)
        with store.session() as session:
            session.add_all(row for row in plan.rows if not isinstance(row, aligned))
            session.flush()  # alignments name their images by key alone, not by relationship
            session.add_all(row for row in plan.rows if isinstance(row, aligned))
        report(f"metadata: {len(plan.rows)} rows")
    finally:
        store.close()
    (partial / MARKER).write_text(json.dumps(_signature(scale)))
    if root.exists():
        shutil.rmtree(root)
    partial.rename(root)
    return Store.open(root)
