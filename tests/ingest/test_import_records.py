"""`brainmap import`: real Allen records (values copied from api.brain-map.org responses) into a
fresh store, queried back through the real server on loopback, field for field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from brainmap.cli import main
from brainmap.ingest.record_files import RecordFileError
from brainmap.ingest.record_plan import RecordError, typed
from brainmap.ingest.records import import_files
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from loopback import request
from postgres import NewDatabase

DATA_SET_123 = {
    "blue_channel": None, "delegate": False, "expression": False, "failed": False,
    "failed_facet": 734881840, "green_channel": None, "id": 123, "name": None,
    "plane_of_section_id": 2, "qc_date": None, "red_channel": None, "reference_space_id": 10,
    "rnaseq_design_id": None, "section_thickness": 25.0, "specimen_id": 702643,
    "sphinx_id": 136385, "storage_directory": "/external/mouse/prod1/image_series_123/",
    "weight": 5270,
    "alignment3d": {
        "aligned_id": 123, "aligned_type": "DataSet", "id": 348398583, "trv_00": 0.948631,
        "trv_01": -0.0252548, "trv_02": 0.0332274, "trv_03": 0.0261118, "trv_04": 0.999551,
        "trv_05": 0.014234, "trv_06": -0.0336111, "trv_07": -0.01411, "trv_08": 0.94886,
        "trv_09": 953.568, "trv_10": 2078.55, "trv_11": -1672.98, "tvr_00": 1.05211,
        "tvr_01": 0.0260573, "tvr_02": -0.0372341, "tvr_03": -0.0280098, "tvr_04": 0.999544,
        "tvr_05": -0.0140134, "tvr_06": 0.0368521, "tvr_07": 0.0157867, "tvr_08": 1.05237,
        "tvr_09": -1119.72, "tvr_10": -2074.34, "tvr_11": 1692.64,
    },
}  # fmt: skip

SECTION_IMAGE_101945191 = {
    "annotated": False, "axes": None, "bits_per_component": 8, "data_set_id": 123,
    "expression": None,
    "expression_path": "/external/aibssan/production32/prod46/b.123.6/b.123.6_expression.aff",
    "failed": False, "height": 4936, "id": 101945191, "image_height": 4936,
    "image_type": "Primary", "image_width": 8992, "isi_experiment_id": None, "lims1_id": 3773,
    "number_of_components": 3, "ophys_experiment_id": None,
    "path": (
        "/external/aibssan/production15/Asb4_2137_33814/zoomify/primary/null/Asb4_171_null_B.aff"
    ),
    "projection_function": None, "resolution": 1.63, "section_number": 171,
    "specimen_id": None, "structure_id": None, "tier_count": 7, "width": 8992, "x": 0, "y": 0,
    "alignment2d": {
        "id": 348398605, "section_image_id": 101945191, "tsv_00": 1.62929,
        "tsv_01": 0.0480343, "tsv_02": -0.0480343, "tsv_03": 1.62929, "tsv_04": 406.469,
        "tsv_05": 2243.71, "tvs_00": 0.61323, "tvs_01": -0.0180791, "tvs_02": 0.0180791,
        "tvs_03": 0.61323, "tvs_04": -208.695, "tvs_05": -1383.26,
    },
}  # fmt: skip

SECTION_IMAGE_101349756 = {
    **SECTION_IMAGE_101945191,
    "data_set_id": 123, "height": 3864, "id": 101349756, "image_height": 3864,
    "image_width": 4232, "lims1_id": 89792, "section_number": 4, "tier_count": 6,
    "width": 4232,
    "expression_path": "/external/aibssan/production32/prod38/b.479.1/b.479.1_4_expression.aff",
    "path": "/external/aibssan/production4/Gad1_Baylor_9231/zoomify/primary/None/Gad1_4_None_A.aff",
    "alignment2d": {
        "id": 348273717, "section_image_id": 101349756, "tsv_00": 1.62982,
        "tsv_01": 0.0243755, "tsv_02": -0.0243755, "tsv_03": 1.62982, "tsv_04": 3051.75,
        "tsv_05": 2776.39, "tvs_00": 0.613428, "tvs_01": -0.0091744, "tvs_02": 0.0091744,
        "tvs_03": 0.613428, "tvs_04": -1846.56, "tvs_05": -1731.11,
    },
}  # fmt: skip

STRUCTURE_GRAPH = {
    "success": True, "id": 0, "start_row": 0, "num_rows": 1, "total_rows": 1,
    "msg": [{
        "id": 997, "atlas_id": -1, "ontology_id": 1, "acronym": "root", "name": "root",
        "color_hex_triplet": "FFFFFF", "graph_order": 0, "st_level": 0, "hemisphere_id": 3,
        "parent_structure_id": None,
        "children": [{
            "id": 8, "atlas_id": 0, "ontology_id": 1, "acronym": "grey",
            "name": "Basic cell groups and regions", "color_hex_triplet": "BFDAE3",
            "graph_order": 1, "st_level": 1, "hemisphere_id": 3, "parent_structure_id": 997,
            "children": [],
        }],
    }],
}  # fmt: skip

STRUCTURES_CSV = (
    "id,atlas_id,name,acronym,st_level,ontology_id,hemisphere_id,weight,parent_structure_id,"
    "depth,graph_id,graph_order,structure_id_path,color_hex_triplet,neuro_name_structure_id,"
    "neuro_name_structure_id_path,failed,sphinx_id,structure_name_facet,failed_facet,safe_name\n"
    "997,-1,root,root,0,1,3,8690,,0,1,0,/997/,FFFFFF,,,f,1,385153371,734881840,root\n"
    "8,0,Basic cell groups and regions,grey,1,1,3,8690,997,1,1,1,/997/8/,BFDAE3,,,f,2,"
    "2244697386,734881840,Basic cell groups and regions\n"
)

PLANES = [
    {"id": 1, "name": "coronal", "plane_of_section_name_facet": 1147990476},
    {"id": 2, "name": "sagittal", "plane_of_section_name_facet": 1688773703},
]

IMAGES_QUERY = "model::SectionImage,rma::criteria,[data_set_id$eq123],rma::include,alignment2d"
DATA_SET_QUERY = "model::SectionDataSet,rma::criteria,[id$eq123],rma::include,alignment3d"


def envelope(records: list[dict[str, Any]]) -> dict[str, Any]:
    count = len(records)
    return {"success": True, "id": 0, "start_row": 0, "num_rows": count, "total_rows": count,
            "msg": records}  # fmt: skip


def write(folder: Path, name: str, content: object) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture()
def store(tmp_path: Path, new_database: NewDatabase) -> Iterator[Store]:
    """An empty store on each database."""
    store = Store.create(tmp_path / "store", new_database("imports"))
    yield store
    store.close()


def query(url: str, rma: str, fmt: str = "json") -> Any:
    reply = request(f"{url}/api/v2/data/query.{fmt}?q={quote(rma, safe='')}")
    assert reply.status == 200, reply.body
    return reply.json()["msg"] if fmt == "json" else reply.text


def test_records_come_back_field_for_field(store: Store, tmp_path: Path) -> None:
    extra_image = {**SECTION_IMAGE_101349756, "zz_unknown": {"kept": [1, 2]}, "annotation": "x"}
    files = [
        write(tmp_path, "data_set.json", DATA_SET_123),  # a bare record
        write(tmp_path, "images.json", envelope([SECTION_IMAGE_101945191, extra_image])),
        write(tmp_path, "graph.json", STRUCTURE_GRAPH),
        write(tmp_path, "planes.json", PLANES),  # a bare list
    ]
    assert import_files(store, files) == 7
    with BackgroundServer(create_app(store)) as server:
        assert query(server.url, DATA_SET_QUERY) == [DATA_SET_123]
        images = query(server.url, IMAGES_QUERY)
        assert images == [extra_image, SECTION_IMAGE_101945191]
        assert list(images[0]) == [*sorted(set(extra_image) - {"alignment2d"}), "alignment2d"]
        graph = query(server.url, "model::Structure,rma::options[order$eq'id']")
        assert [(s["id"], s["acronym"], s["parent_structure_id"]) for s in graph] == [
            (8, "grey", 997),
            (997, "root", None),
        ]
        assert query(server.url, "model::PlaneOfSection,rma::options[order$eq'id']") == PLANES
        xml = query(server.url, IMAGES_QUERY, "xml")
    # The server's own XML reads back to the same records (unknown fields come back as text).
    other = Store.create(tmp_path / "other")
    assert import_files(other, [write(tmp_path, "images.xml", xml)]) == 2
    with BackgroundServer(create_app(other)) as server:
        assert query(server.url, IMAGES_QUERY)[1] == SECTION_IMAGE_101945191
    other.close()


def test_csv_and_reimport_upsert(store: Store, tmp_path: Path) -> None:
    graph = write(tmp_path, "graph.json", STRUCTURE_GRAPH)
    csv_file = write(tmp_path, "structures.csv", STRUCTURES_CSV)
    assert import_files(store, [graph, csv_file]) == 4
    changed = json.loads(json.dumps(DATA_SET_123))
    import_files(store, [write(tmp_path, "a.json", DATA_SET_123)])
    changed["weight"] = 1
    import_files(store, [write(tmp_path, "a.json", changed)])
    with BackgroundServer(create_app(store)) as server:
        assert query(server.url, DATA_SET_QUERY) == [changed]
        root = query(server.url, "model::Structure,rma::criteria,[id$eq997]")[0]
        text = query(server.url, "model::Structure,rma::criteria,[id$eq997]", "csv")
    assert (root["structure_id_path"], root["failed"], root["parent_structure_id"]) == (
        "/997/",
        False,
        None,
    )
    assert text.splitlines()[1] == STRUCTURES_CSV.splitlines()[1]


def test_bad_record_names_file_and_record_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", DATA_SET_123)
    broken = {**SECTION_IMAGE_101945191, "id": 5, "height": "tall"}
    bad = write(tmp_path, "bad.json", envelope([SECTION_IMAGE_101945191, broken]))
    with pytest.raises(RecordFileError, match=r"bad\.json, record 1 \(id 5\): field height"):
        import_files(store, [good, bad])
    missing = write(tmp_path, "missing.json", envelope([{"id": 9, "data_set_id": 1}]))
    with pytest.raises(
        RecordFileError, match=r"missing\.json, record 0 \(id 9\): NOT NULL constraint failed: "
    ):
        import_files(store, [missing], model="SectionImage")
    with pytest.raises(RecordFileError, match=r"junk\.json: not valid JSON"):
        import_files(store, [write(tmp_path, "junk.json", "{nope")])
    with BackgroundServer(create_app(store)) as server:
        assert query(server.url, DATA_SET_QUERY) == []


def test_import_command(tmp_path: Path) -> None:
    path = write(tmp_path, "images.json", envelope([SECTION_IMAGE_101945191]))
    runner = CliRunner()
    result = runner.invoke(main, ["import", "--store", str(tmp_path / "s"), str(path)])
    assert result.exit_code == 0, result.output
    assert "1 record" in result.output
    bad = write(tmp_path, "bad.json", "[1]")
    result = runner.invoke(main, ["import", "--store", str(tmp_path / "s"), str(bad)])
    assert result.exit_code == 1
    assert "bad.json, record 0: is not a JSON object" in result.output


@pytest.mark.parametrize(("text", "value"), [("true", True), ("T", True), ("0", False)])
def test_record_booleans_take_allens_spellings(text: str, value: bool) -> None:
    assert typed(bool, text, textual=True) is value


@pytest.mark.parametrize("text", ["yes", "no", "maybe"])
def test_other_text_in_a_boolean_column_is_an_error(text: str) -> None:
    with pytest.raises(RecordError, match="expected bool"):
        typed(bool, text, textual=True)
