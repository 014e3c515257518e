"""A small hand-made store for the RMA compiler and data routes: genes, data sets, atlases,
plates, ontology; and helpers that run a query on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from brainmap.rma.parse import parse_query
from brainmap.store import schema as s
from brainmap.store.folder import Store
from brainmap.store.query.result import QueryResult
from brainmap.store.query.run import run_query

INJECTIONS = [
    "O'Brien; DROP TABLE genes; --",
    "x' OR '1'='1",
    "Robert'); DELETE FROM genes WHERE ('a'='a",
    '☃ Ünïcødé \\ % _ " ;',
]


def _image(kind: type[s.SubImage], image_id: int, data_set: int, section: int, **kw: Any) -> Any:
    return kind(
        id=image_id,
        data_set_id=data_set,
        section_number=section,
        path=f"pyramids/{image_id}.tif",
        width=100,
        height=80,
        image_width=100,
        image_height=80,
        tier_count=1,
        **kw,
    )


def make_store(root: Path, db_url: str | None = None) -> Store:
    """Genes 1-120 (15 Adora2a, 17 an injection-looking name), four SectionDataSets with images
    and equalizations, two AtlasDataSets with three atlases, plates and their annotations; in
    the database at `db_url` (by default the store's SQLite file)."""
    store = Store.create(root, db_url)
    with store.session() as db:
        mouse = s.Organism(id=2, name="Mus musculus")
        genes = [
            s.Gene(id=i, acronym=f"G{i}", name=f"gene {i}", organism=mouse) for i in range(1, 121)
        ]
        genes[14].acronym = "Adora2a"
        genes[16].name = INJECTIONS[0]
        db.add_all(genes)
        products = {
            10: s.Product(id=10, abbreviation="Mouse", name="Mouse Brain"),
            22: s.Product(id=22, abbreviation="Human", name="Human Brain"),
            5: s.Product(id=5, abbreviation="Connectivity", name="Mouse Connectivity"),
        }
        db.add_all(
            [s.PlaneOfSection(id=1, name="coronal"), s.PlaneOfSection(id=2, name="sagittal")]
        )
        qc = dt.datetime(2011, 12, 14, 18, 20, 48)
        for data_set_id, failed, product, plane, gene, qc_date in [
            (100, False, 10, 2, genes[14], None),
            (101, True, 22, None, None, None),
            (102, False, 5, 1, None, qc),
            (103, False, 10, 1, genes[15], None),
        ]:
            data_set = s.SectionDataSet(
                id=data_set_id, failed=failed, plane_of_section_id=plane, qc_date=qc_date
            )
            data_set.products = [products[product]]
            data_set.genes = [gene] if gene else []
            db.add(data_set)
        db.add_all(
            [
                _image(s.SectionImage, 1001, 100, 3),
                _image(s.SectionImage, 1002, 100, 1),
                _image(s.SectionImage, 1003, 100, 2),
                _image(s.SectionImage, 1021, 102, 5),
                s.Equalization(
                    id=500,
                    section_data_set_id=100,
                    red_lower=0,
                    red_upper=923,
                    green_lower=0,
                    green_upper=987,
                    blue_lower=0,
                    blue_upper=4095,
                ),
                s.Equalization(
                    id=501,
                    section_data_set_id=102,
                    red_lower=0,
                    red_upper=932,
                    green_lower=0,
                    green_upper=1279,
                    blue_lower=0,
                    blue_upper=4095,
                ),
                s.AtlasDataSet(id=200),
                s.AtlasDataSet(id=201),
            ]
        )
        db.flush()
        db.add_all(
            [
                s.Atlas(id=1, name="Mouse, P56, Coronal", image_type="Atlas - Adult Mouse"),
                s.Atlas(id=3, name="Developing Mouse", image_type="Atlas - Developing Mouse"),
                s.Atlas(id=2, name="Mouse, P56, Sagittal", image_type="Atlas - Adult Mouse"),
            ]
        )
        db.flush()
        for atlas_id, data_set_id in [(1, 200), (3, 200), (2, 201)]:
            db.get_one(s.Atlas, atlas_id).atlas_data_set_id = data_set_id
        plates = [(2001, 200, 30, True), (2002, 200, 10, True), (2003, 200, 20, True)]
        plates += [(2004, 200, 5, False), (2101, 201, 1, True)]
        db.add_all(
            _image(s.AtlasImage, i, ds, sec, annotated=annotated)
            for i, ds, sec, annotated in plates
        )
        db.flush()
        annotations = [
            (2001, "Atlas - Adult Mouse"),
            (2002, "Atlas - Adult Mouse"),
            (2002, "Atlas - Developing Mouse"),
            (2003, "Atlas - Developing Mouse"),
            (2004, "Atlas - Adult Mouse"),
            (2101, "Atlas - Adult Mouse"),
        ]
        db.add_all(
            s.AlternateImage(id=3000 + n, sub_image_id=i, image_type=kind, path=f"a/{n}.tif")
            for n, (i, kind) in enumerate(annotations)
        )
        _add_context(db)
    return store


def _add_context(db: Any) -> None:
    """Specimen 700 of data set 100 from donor 800 aged P56; alignments; a small ontology."""
    db.add_all(
        [
            s.Age(id=62, name="P56", days=56.0, embryonic=False, organism_id=2),
            s.Donor(id=800, name="donor 800", age_id=62, sex="M", organism_id=2),
            s.Specimen(id=700, donor_id=800, name="specimen 700"),
            s.Treatment(id=90, name="histology", tags="histology"),
            s.Alignment2d(id=40, section_image_id=1001, tsv_00=1.62929, tvs_05=-1383.26),
            s.Alignment3d(id=41, aligned_id=100, aligned_type="DataSet", trv_00=0.948631),
            s.StructureGraph(id=1, name="Mouse Brain Atlas"),
        ]
    )
    db.flush()
    data_set = db.get_one(s.SectionDataSet, 100)
    data_set.specimen_id = 700
    data_set.treatments = [db.get_one(s.Treatment, 90)]
    tree = [(997, None, 0, "root"), (8, 997, 1, "grey"), (567, 8, 2, "CH"), (1009, 997, 3, "fiber")]
    db.add_all(
        s.Structure(
            id=sid,
            parent_structure_id=parent,
            graph_id=1,
            graph_order=order,
            acronym=acronym,
            name=acronym.title(),
            atlas_id=-1,
            ontology_id=None,
            color_hex_triplet="FFFFFF",
            st_level=order,
            hemisphere_id=3,
        )
        for sid, parent, order, acronym in tree
    )
    db.flush()
    db.add(s.StructureSet(id=12, name="major", structures=[db.get_one(s.Structure, 567)]))


def run(store: Store, text: str) -> tuple[QueryResult, list[dict[str, Any]]]:
    with store.session() as db:
        result = run_query(db, parse_query(text))
        return result, list(result.records)


def ids(store: Store, text: str) -> list[int]:
    return [record["id"] for record in run(store, text)[1]]
