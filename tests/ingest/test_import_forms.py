"""`brainmap import` of every form an Allen record file comes in: the JSON envelope, a bare list
(allensdk caches), RMA CSV, XML in the ``<Response>`` envelope (untyped, and typed as Allen's
Rails writes it), a Rails array, and XML of one bare record with typed attributes, ``nil`` and
nested includes. Each file is written here; the records are read back over the real server."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from brainmap.cli import main
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from loopback import request

DATA_SETS = [
    {
        "blue_channel": "DAPI", "delegate": True, "expression": False, "failed": True,
        "failed_facet": 734881840, "green_channel": "GFP", "id": 479, "name": "a, \"quoted\" name",
        "plane_of_section_id": 1, "qc_date": None, "red_channel": None,
        "reference_space_id": 9, "rnaseq_design_id": 3, "section_thickness": 100.0,
        "specimen_id": None, "sphinx_id": 7, "storage_directory": "/data/479/", "weight": -1,
    },
    {
        "blue_channel": None, "delegate": False, "expression": True, "failed": False,
        "failed_facet": 734881840, "green_channel": None, "id": 74357755, "name": None,
        "plane_of_section_id": 2, "qc_date": "2009-05-02T23:03:44Z", "red_channel": None,
        "reference_space_id": 10, "rnaseq_design_id": None, "section_thickness": 25.0,
        "specimen_id": 74302711, "sphinx_id": 121773,
        "storage_directory": "/external/aibssan/production32/prod341/image_series_74357755/",
        "weight": 5270,
    },
]  # fmt: skip
DATA_SETS_QUERY = "model::SectionDataSet,rma::options[order$eq'id']"
RAILS_TYPES = {bool: "boolean", int: "integer", float: "float"}


def rails_value(tag: str, value: Any, typed: bool) -> str:
    """One field as Rails' ``to_xml`` writes it (`typed`) or as an untyped envelope does."""
    if value is None:
        return f'<{tag} nil="true"/>'
    text = str(value).lower() if isinstance(value, bool) else escape(str(value))
    kind = RAILS_TYPES.get(type(value)) if typed else None
    if typed and tag.endswith("date"):
        kind = "datetime"
    attribute = f' type="{kind}"' if kind else ""
    return f"<{tag}{attribute}>{text}</{tag}>"


def xml_record(tag: str, record: dict[str, Any], typed: bool) -> str:
    fields = "\n    ".join(
        rails_value(key.replace("_", "-"), value, typed) for key, value in record.items()
    )
    return f"  <{tag}>\n    {fields}\n  </{tag}>"


def xml_envelope(collection: str, record: str, typed: bool) -> str:
    items = "\n".join(xml_record(record, data_set, typed) for data_set in DATA_SETS)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response success="true" id="0" start_row="0" '
        f'num_rows="2" total_rows="2"><{collection}>\n{items}\n</{collection}></Response>\n'
    )


def rails_array() -> str:
    items = "\n".join(xml_record("section-data-set", data_set, True) for data_set in DATA_SETS)
    return f'<section-data-sets type="array">\n{items}\n</section-data-sets>\n'


def csv_text(value: Any) -> object:
    if isinstance(value, bool):
        return "t" if value else "f"
    return "" if value is None else value


def rma_csv() -> str:
    """As the RMA CSV format writes records: a header, ``t``/``f``, empty for null."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DATA_SETS[0])
    for record in DATA_SETS:
        values = [record[name] for name in DATA_SETS[0]]
        writer.writerow([csv_text(value) for value in values])
    return buffer.getvalue()


ENVELOPE = {"success": True, "id": 0, "start_row": 0, "num_rows": 2, "total_rows": 2}
FORMS: dict[str, Callable[[], str]] = {
    "JSON envelope": lambda: json.dumps({**ENVELOPE, "msg": DATA_SETS}),
    "bare JSON list": lambda: json.dumps(DATA_SETS, indent=1),
    "RMA CSV": rma_csv,
    "XML envelope, untyped": lambda: xml_envelope("section-data-sets", "section-data-set", False),
    "XML envelope, typed, objects": lambda: xml_envelope("objects", "object", True),
    "Rails XML array": rails_array,
}


def query(url: str, target: str) -> Any:
    reply = request(f"{url}{target}")
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["success"] is True, body
    return body["msg"]


def import_into(store_dir: Path, *paths: Path) -> str:
    result = CliRunner().invoke(main, ["import", "--store", str(store_dir), *map(str, paths)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("form", FORMS)
def test_every_form_imports_the_same_records(form: str, tmp_path: Path) -> None:
    path = tmp_path / "records.txt"
    path.write_text(FORMS[form]())
    assert "2 records from 1 files" in import_into(tmp_path / "store", path)
    store = Store.open(tmp_path / "store")
    with BackgroundServer(create_app(store)) as server:
        assert query(server.url, f"/api/v2/data/query.json?q={DATA_SETS_QUERY}") == DATA_SETS
    store.close()


SECTION_DATA_SET_XML = """<?xml version="1.0" encoding="UTF-8"?>
<section-data-set>
  <blue-channel nil="true"></blue-channel>
  <delegate type="boolean">false</delegate>
  <expression type="boolean">true</expression>
  <failed type="boolean">false</failed>
  <failed-facet type="integer">734881840</failed-facet>
  <green-channel nil="true"/>
  <id type="integer">100141599</id>
  <name nil="true"/>
  <plane-of-section-id type="integer">1</plane-of-section-id>
  <qc-date type="datetime">2009-05-05T19:56:37Z</qc-date>
  <red-channel nil="true"/>
  <reference-space-id type="integer">9</reference-space-id>
  <rnaseq-design-id type="integer" nil="true"/>
  <section-thickness type="float">25.0</section-thickness>
  <specimen-id type="integer">100128474</specimen-id>
  <sphinx-id type="integer">125385</sphinx-id>
  <storage-directory>/external/aibssan/production32/prod7/image_series_100141599/</storage-directory>
  <weight type="integer">5470</weight>
  <zz-review-score type="decimal">0.75</zz-review-score>
  <zz-reviewed type="boolean">true</zz-reviewed>
  <zz-reviewer>Ada &amp; Bo</zz-reviewer>
  <zz-note></zz-note>
  <genes type="array"/>
  <plane-of-section>
    <id type="integer">1</id>
    <name>coronal</name>
    <plane-of-section-name-facet type="integer">1147990476</plane-of-section-name-facet>
  </plane-of-section>
  <products type="array">
    <product>
      <abbreviation>Mouse</abbreviation>
      <description>Genome-wide, high-resolution ISH data of the adult mouse brain.</description>
      <id type="integer">1</id>
      <name>Mouse Brain</name>
      <product-name-facet type="integer">2757464828</product-name-facet>
      <resource>Allen Mouse Brain Atlas</resource>
      <species>Mouse</species>
      <species-name-facet type="integer">1861523945</species-name-facet>
      <tags nil="true"/>
    </product>
  </products>
  <specimen>
    <donor-id type="integer">100128473</donor-id>
    <external-specimen-name>Gad1-2137</external-specimen-name>
    <hemisphere>left</hemisphere>
    <id type="integer">100128474</id>
    <name>Gad1_2137</name>
    <parent-id type="integer" nil="true"/>
    <structure-id type="integer">997</structure-id>
  </specimen>
  <section-images type="array">
    <section-image>
      <annotated type="boolean">false</annotated>
      <axes nil="true"/>
      <bits-per-component type="integer">8</bits-per-component>
      <data-set-id type="integer">100141599</data-set-id>
      <failed type="boolean">false</failed>
      <height type="integer">4936</height>
      <id type="integer">101945191</id>
      <image-height type="integer">4936</image-height>
      <image-type>Primary</image-type>
      <image-width type="integer">8992</image-width>
      <path>/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_171_B.aff</path>
      <resolution type="float">1.049</resolution>
      <section-number type="integer">171</section-number>
      <tier-count type="integer">7</tier-count>
      <width type="integer">8992</width>
      <x type="integer">0</x>
      <y type="integer">0</y>
      <alignment2d>
        <id type="integer">348398605</id>
        <section-image-id type="integer">101945191</section-image-id>
        <tsv-00 type="float">1.04898</tsv-00><tsv-01 type="float">-0.00572724</tsv-01>
        <tsv-02 type="float">0.00572724</tsv-02><tsv-03 type="float">1.04898</tsv-03>
        <tsv-04 type="float">505.522</tsv-04><tsv-05 type="float">2024.92</tsv-05>
        <tvs-00 type="float">0.953275</tvs-00><tvs-01 type="float">0.00520468</tvs-01>
        <tvs-02 type="float">-0.00520468</tvs-02><tvs-03 type="float">0.953275</tvs-03>
        <tvs-04 type="float">-492.44</tvs-04><tvs-05 type="float">-1927.67</tvs-05>
      </alignment2d>
    </section-image>
    <section-image>
      <height type="integer">3864</height>
      <id type="integer">101945192</id>
      <image-height type="integer">3864</image-height>
      <image-width type="integer">4232</image-width>
      <path>/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_172_A.aff</path>
      <section-number type="integer">172</section-number>
      <tier-count type="integer">6</tier-count>
      <width type="integer">4232</width>
      <alignment2d>
        <id type="integer">348398606</id>
        <tsv-00 type="float">2</tsv-00>
      </alignment2d>
    </section-image>
  </section-images>
</section-data-set>
"""

PRODUCT = {
    "abbreviation": "Mouse",
    "description": "Genome-wide, high-resolution ISH data of the adult mouse brain.",
    "id": 1, "name": "Mouse Brain", "product_name_facet": 2757464828,
    "resource": "Allen Mouse Brain Atlas", "species": "Mouse", "species_name_facet": 1861523945,
    "tags": None,
}  # fmt: skip
SPECIMEN = {
    "donor_id": 100128473, "external_specimen_name": "Gad1-2137", "hemisphere": "left",
    "id": 100128474, "name": "Gad1_2137", "parent_id": None, "structure_id": 997,
}  # fmt: skip
SECTION_IMAGE_FIELDS = [
    "annotated", "axes", "bits_per_component", "data_set_id", "expression", "expression_path",
    "failed", "height", "id", "image_height", "image_type", "image_width", "isi_experiment_id",
    "lims1_id", "number_of_components", "ophys_experiment_id", "path", "projection_function",
    "resolution", "section_number", "specimen_id", "structure_id", "tier_count", "width", "x", "y",
]  # fmt: skip
ALIGNMENT_FIELDS = ["id", "section_image_id"] + [
    f"{prefix}_{index:02d}" for prefix in ("tsv", "tvs") for index in range(6)
]
FIRST_IMAGE = {
    **dict.fromkeys(SECTION_IMAGE_FIELDS),
    "annotated": False, "bits_per_component": 8, "data_set_id": 100141599, "failed": False,
    "height": 4936, "id": 101945191, "image_height": 4936, "image_type": "Primary",
    "image_width": 8992, "resolution": 1.049, "section_number": 171, "tier_count": 7,
    "x": 0, "y": 0,
    "path": "/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_171_B.aff",
    "width": 8992,
    "alignment2d": {
        "id": 348398605, "section_image_id": 101945191, "tsv_00": 1.04898,
        "tsv_01": -0.00572724, "tsv_02": 0.00572724, "tsv_03": 1.04898, "tsv_04": 505.522,
        "tsv_05": 2024.92, "tvs_00": 0.953275, "tvs_01": 0.00520468, "tvs_02": -0.00520468,
        "tvs_03": 0.953275, "tvs_04": -492.44, "tvs_05": -1927.67,
    },
}  # fmt: skip
# The second image names neither its data set nor, in its alignment, itself: the nesting does.
# The fields it lacks take the model's defaults.
SECOND_IMAGE = {
    **dict.fromkeys(SECTION_IMAGE_FIELDS),
    "annotated": False, "data_set_id": 100141599, "failed": False, "height": 3864,
    "id": 101945192, "image_height": 3864, "image_type": "Primary", "image_width": 4232,
    "path": "/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_172_A.aff",
    "section_number": 172, "tier_count": 6, "width": 4232, "x": 0, "y": 0,
    "alignment2d": {
        **dict.fromkeys(ALIGNMENT_FIELDS), "id": 348398606, "section_image_id": 101945192,
        "tsv_00": 2.0,
    },
}  # fmt: skip
SECTION_DATA_SET = {
    "blue_channel": None, "delegate": False, "expression": True, "failed": False,
    "failed_facet": 734881840, "green_channel": None, "id": 100141599, "name": None,
    "plane_of_section_id": 1, "qc_date": "2009-05-05T19:56:37Z", "red_channel": None,
    "reference_space_id": 9, "rnaseq_design_id": None, "section_thickness": 25.0,
    "specimen_id": 100128474, "sphinx_id": 125385,
    "storage_directory": "/external/aibssan/production32/prod7/image_series_100141599/",
    "weight": 5470, "zz_review_score": 0.75, "zz_reviewed": True, "zz_reviewer": "Ada & Bo",
    "zz_note": "",
    "genes": [],
    "plane_of_section": {"id": 1, "name": "coronal", "plane_of_section_name_facet": 1147990476},
    "products": [PRODUCT],
    "specimen": SPECIMEN,
    "section_images": [FIRST_IMAGE, SECOND_IMAGE],
}  # fmt: skip
INCLUDE = "genes,plane_of_section,products,specimen,section_images(alignment2d)"


def test_a_bare_rails_record_with_its_includes(tmp_path: Path) -> None:
    path = tmp_path / "data_set.xml"
    path.write_text(SECTION_DATA_SET_XML)
    assert "1 records from 1 files" in import_into(tmp_path / "store", path)
    store = Store.open(tmp_path / "store")
    with BackgroundServer(create_app(store)) as server:
        target = f"/api/v2/data/SectionDataSet/100141599.json?include={INCLUDE}"
        assert query(server.url, target) == [SECTION_DATA_SET]
        # Each include landed in its own table, linked by ids, reachable from its side too.
        product = "/api/v2/data/query.json?q=model::Product,rma::include,data_sets"
        assert [d["id"] for d in query(server.url, product)[0]["data_sets"]] == [100141599]
        image = "/api/v2/data/SectionImage/101945192.json?include=section_data_set"
        assert query(server.url, image)[0]["section_data_set"]["id"] == 100141599
    store.close()


GENE_XML = """<gene>
  <acronym>Gad1</acronym>
  <id type="integer">14212</id>
  <name>glutamate decarboxylase 1</name>
  <organism-id type="integer">2</organism-id>
  <data-sets type="array">
    <data-set>
      <id type="integer">100141599</id>
      <weight type="integer">5470</weight>
    </data-set>
  </data-sets>
</gene>
"""


def test_a_record_nested_through_a_read_only_association_is_linked(tmp_path: Path) -> None:
    """``Gene.data_sets`` is read-only; the gene is linked through ``DataSet.genes``."""
    path = tmp_path / "gene.xml"
    path.write_text(GENE_XML)
    import_into(tmp_path / "store", path)
    store = Store.open(tmp_path / "store")
    with BackgroundServer(create_app(store)) as server:
        target = "/api/v2/data/SectionDataSet/100141599.json?include=genes"
        [data_set] = query(server.url, target)
    store.close()
    assert data_set["weight"] == 5470
    assert [(gene["id"], gene["acronym"]) for gene in data_set["genes"]] == [(14212, "Gad1")]


@pytest.mark.parametrize(
    ("root", "fields", "model"),
    [
        ("data-set", '<weight type="integer">5</weight>', "SectionDataSet"),
        (
            "data-set",
            '<weight type="integer">5</weight><atlas-images type="array"/>',
            "AtlasDataSet",
        ),
        ("sub-image", '<section-number type="integer">5</section-number>', "SectionImage"),
    ],
)
def test_a_record_of_a_base_model_imports_as_its_kind(
    root: str, fields: str, model: str, tmp_path: Path
) -> None:
    """``<data-set>`` and ``<sub-image>`` name the shared base; the record's shape picks the kind
    (section by default)."""
    path = tmp_path / "one.xml"
    required = "".join(f'<{name} type="integer">1</{name}>' for name in IMAGE_REQUIRED)
    path.write_text(
        f'<{root}><id type="integer">42</id>{fields}{required}<path>pyramids/p.tif</path></{root}>'
    )
    import_into(tmp_path / "store", path)
    store = Store.open(tmp_path / "store")
    with BackgroundServer(create_app(store)) as server:
        assert [r["id"] for r in query(server.url, f"/api/v2/data/{model}/42.json")] == [42]
    store.close()


IMAGE_REQUIRED = ("height", "width", "image-height", "image-width", "tier-count")


def test_utf16_text_with_a_byte_order_mark_imports(tmp_path: Path) -> None:
    """As Windows PowerShell's ``>`` saves a download."""
    path = tmp_path / "planes.json"
    planes = [{"id": 1, "name": "coronal – 冠状", "plane_of_section_name_facet": 1147990476}]
    path.write_bytes(json.dumps({**ENVELOPE, "msg": planes}, ensure_ascii=False).encode("utf-16"))
    import_into(tmp_path / "store", path)
    store = Store.open(tmp_path / "store")
    with BackgroundServer(create_app(store)) as server:
        assert query(server.url, "/api/v2/data/PlaneOfSection/1.json") == planes
    store.close()
