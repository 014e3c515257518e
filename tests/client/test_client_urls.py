"""Golden URLs: the client sends the same bytes allensdk sends.

Every class under test runs on a `MockTransport` whose handler keeps each request and answers as
the real API would (a JSON envelope, or a JPEG), so every URL is checked as it goes on the wire.
allensdk quotes a query URL before sending it (`allensdk_wire`); image URLs go as built.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import simplejpeg

from brainmap.client import (
    ImageDownloadApi,
    MockTransport,
    Request,
    Response,
    RmaApi,
    RmaTemplate,
    json_response,
)
from brainmap.client.allensdk.rma_template import render_template

BASE = "http://api.brain-map.org"
QUERY = BASE + "/api/v2/data/query.json?q="
JPEG = simplejpeg.encode_jpeg(np.zeros((16, 16, 3), np.uint8))


def allensdk_wire(url: str) -> str:
    """The bytes allensdk sends for a query URL: ``requests.utils.quote(url, ';/?:@&=+$,')``."""
    return urllib.parse.quote(url, safe=";/?:@&=+$,")


class FakeApi:
    """The handler: keeps every request; answers RMA queries with an envelope of `rows` and
    anything else (image downloads) with a JPEG."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.rows: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if "/api/v2/data/" in request.url:
            count = len(self.rows)
            envelope = {"success": True, "id": 0, "start_row": 0, "num_rows": count}
            return json_response(request, {**envelope, "total_rows": count, "msg": self.rows})
        return Response(request.url, 200, {"Content-Type": "image/jpeg"}, JPEG)

    @property
    def sent(self) -> str:
        """The URL of the one request made."""
        (request,) = self.requests
        assert request.method == "GET"
        return request.url


@pytest.fixture
def wire() -> FakeApi:
    return FakeApi()


@pytest.fixture
def api(wire: FakeApi, workdir: Path) -> ImageDownloadApi:
    """An ImageDownloadApi answered by `wire`, saving files in a fresh folder."""
    return ImageDownloadApi(transport=MockTransport(wire))


def queried(wire: FakeApi) -> str:
    """The one query URL sent, unquoted back to the form allensdk builds (after checking that
    it went out quoted exactly as allensdk quotes it)."""
    unquoted = urllib.parse.unquote(wire.sent)
    assert wire.sent == allensdk_wire(unquoted)
    return unquoted


def downloaded(wire: FakeApi) -> tuple[str, str]:
    """The one image URL sent, and the file that received the body."""
    (saved,) = Path().iterdir()
    assert saved.read_bytes() == JPEG
    return wire.sent, saved.name


def test_section_image_ranges(api: ImageDownloadApi, wire: FakeApi) -> None:
    api.get_section_image_ranges([126862575, 297225768])
    assert queried(wire) == (
        QUERY + "model::Equalization,rma::criteria,"
        "section_data_set(section_images[id$in126862575,297225768]),"
        "rma::options[only$eq'blue_lower,blue_upper,red_lower,red_upper,green_lower,green_upper']"
        "[num_rows$eq'all'][count$eqfalse]"
    )


def test_section_image_ranges_as_lists_in_range_order(api: ImageDownloadApi, wire: FakeApi) -> None:
    row = {
        "blue_lower": 0,
        "blue_upper": 1,
        "green_lower": 2,
        "green_upper": 3,
        "red_lower": 4,
        "red_upper": 5,
    }
    wire.rows = [row]
    assert api.get_section_image_ranges([1]) == [[4, 5, 2, 3, 0, 1]]
    assert api.get_section_image_ranges([1], as_lists=False) == [row]


@pytest.mark.parametrize(
    ("include_failed", "failed"), [(False, "'false'"), (True, "'false','true'")]
)
def test_section_data_sets_by_product(
    api: ImageDownloadApi, wire: FakeApi, include_failed: bool, failed: str
) -> None:
    api.get_section_data_sets_by_product([10, 22], include_failed=include_failed)
    assert queried(wire) == (
        QUERY + f"model::SectionDataSet,rma::criteria,[failed$in{failed}],products[id$in10,22],"
        "rma::options[num_rows$eq'all'][count$eqfalse]"
    )


def test_section_image_query(api: ImageDownloadApi, wire: FakeApi) -> None:
    api.section_image_query(70813257)
    assert queried(wire) == (
        QUERY + "model::SectionImage,rma::criteria,[data_set_id$eq70813257],"
        "rma::options[num_rows$eq'all'][count$eqfalse]"
    )


def test_atlas_image_query_pipes_the_image_type(api: ImageDownloadApi, wire: FakeApi) -> None:
    api.atlas_image_query(1)
    assert queried(wire) == (
        QUERY + "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
        "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,"
        "[annotated$eqtrue],atlas_data_set(atlases[id$eq1]),"
        "alternate_images[image_type$eq$type_name],"
        "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
    )


def test_atlas_image_query_with_image_type(api: ImageDownloadApi, wire: FakeApi) -> None:
    api.atlas_image_query(1, image_type_name="Atlas - Adult Mouse")
    assert queried(wire) == (
        QUERY + "model::AtlasImage,rma::criteria,[annotated$eqtrue],"
        "atlas_data_set(atlases[id$eq1]),alternate_images[image_type$eq'Atlas - Adult Mouse'],"
        "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
    )


DOWNLOADS = [
    ("download_section_image", 126862575, {"downsample": 6, "range": [0, 932, 0, 1279, 0, 4095]},
     "section_image_download/126862575?downsample=6&range=0,932,0,1279,0,4095"),
    ("download_section_image", 126862575, {"downsample": 6, "downsample_dimensions": True},
     "section_image_download/126862575?downsample=6&downsample_dimensions=true"),
    ("download_section_image", 126862575, {"downsample": 6, "downsample_dimensions": False},
     "section_image_download/126862575?downsample=6&downsample_dimensions=false"),
    ("download_section_image", 126862575, {}, "section_image_download/126862575"),
    ("download_section_image", 126862575, {"downsample": 3, "quality": 50},
     "section_image_download/126862575?downsample=3&quality=50"),
    ("download_section_image", 126862575, {"downsample": 6, "tumor_feature_annotation": True},
     "section_image_download/126862575?downsample=6&tumor_feature_annotation=true"),
    ("download_section_image", 126862575, {"downsample": 6, "tumor_feature_boundary": False},
     "section_image_download/126862575?downsample=6&tumor_feature_boundary=false"),
    ("download_section_image", 126862575, {"downsample": 6, "expression": True},
     "section_image_download/126862575?downsample=6&expression=true"),
    ("download_atlas_image", 100883869, {"downsample": 4, "annotation": True, "atlas": 2},
     "atlas_image_download/100883869?downsample=4&annotation=true&atlas=2"),
    ("download_atlas_image", 100883869, {"downsample": 4, "annotation": False},
     "atlas_image_download/100883869?downsample=4&annotation=false"),
    ("download_atlas_image", 100883869, {"left": 6174, "top": 2282, "width": 1000,
                                         "height": 1000},
     "atlas_image_download/100883869?left=6174&top=2282&width=1000&height=1000"),
    ("download_projection_image", 126862583, {"downsample": 4, "projection": True},
     "projection_image_download/126862583?downsample=4&projection=true"),
    ("download_projection_image", 126862583, {"downsample": 4, "view": "projection"},
     "projection_image_download/126862583?downsample=4&view=projection"),
    ("download_projection_image", 297225716, {"downsample": 6,
                                              "range": [0, 825, 0, 943, 0, 4095]},
     "projection_image_download/297225716?downsample=6&range=0,825,0,943,0,4095"),
    ("download_image", 69750516, {"downsample": 4}, "image_download/69750516?downsample=4"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "image_id", "kwargs", "tail"), DOWNLOADS)
def test_download_urls(
    api: ImageDownloadApi,
    wire: FakeApi,
    method: str,
    image_id: int,
    kwargs: dict[str, Any],
    tail: str,
) -> None:
    assert getattr(api, method)(image_id, **kwargs) is None
    assert downloaded(wire) == (f"{BASE}/api/v2/{tail}", f"{image_id}.jpg")


@pytest.mark.parametrize(
    ("kwargs", "query"),
    [
        ({"downsample": 4, "colormap": (0.9, "expression"), "view": "expression"},
         "downsample=4&colormap=0.5,0.9,0,256,4&view=expression"),
        ({"colormap": "expression"}, "colormap=expression"),
        ({"annotation": 1}, "annotation=false"),
        ({"projection": "yes"}, "projection=false"),
        ({"expression": 1}, "expression=true"),
        ({"downsample": 4.9, "left": 10.7}, "downsample=4&left=10"),
        ({"range": [0.25, 0.5, 1]}, "range=0.25,0.5,1"),
        ({"contrast": (0.5, 0.5), "rgb": [1, 0.5, 0]}, "rgb=1,0.5,0&contrast=0.5,0.5"),
        ({"height": 5, "width": 6, "top": 7, "left": 8, "quality": 9, "downsample": 1,
          "downsample_dimensions": True, "atlas": 3, "annotation": True},
         "downsample=1&quality=9&annotation=true&atlas=3&left=8&top=7&width=6&height=5"
         "&downsample_dimensions=true"),
    ],
)  # fmt: skip
def test_download_parameter_order_and_coercions(
    api: ImageDownloadApi, wire: FakeApi, kwargs: dict[str, Any], query: str
) -> None:
    api.download_image(7, "out.jpg", **kwargs)
    assert downloaded(wire) == (f"{BASE}/api/v2/image_download/7?{query}", "out.jpg")


def test_download_rejects_what_allensdk_rejects(api: ImageDownloadApi, wire: FakeApi) -> None:
    with pytest.raises(TypeError):
        api.download_image(7, downsample="4")
    with pytest.raises(KeyError):
        api.download_image(7, colormap=(0.5, "rainbow"))
    with pytest.raises(ValueError) as error:
        api.download_projection_image(7, downsample=4, view="typo")
    assert error.value.args[0] == (
        "view argument should be 'expression', 'projection', "
        "'tumor_feature_annotation' or 'tumor_feature_boundary'"
    )
    assert wire.requests == []


def test_endpoints_follow_the_base_url() -> None:
    api = ImageDownloadApi("http://localhost:8080")
    assert api.api_url == "http://localhost:8080"
    assert api.rma_endpoint == "http://localhost:8080/api/v2/data"
    assert api.image_download_endpoint == "http://localhost:8080/api/v2/image_download"
    assert api.svg_download_endpoint == "http://localhost:8080/api/v2/svg_download"
    assert api.informatics_archive_endpoint == (
        "http://download.alleninstitute.org/informatics-archive"
    )
    assert api.construct_well_known_file_download_url(5) == (
        "http://localhost:8080/api/v2/well_known_file_download/5"
    )
    assert ImageDownloadApi().atlas_image_download_endpoint == (
        BASE + "/api/v2/atlas_image_download"
    )


# --- the plain RMA builders ---------------------------------------------------------------


@pytest.fixture
def rma(wire: FakeApi) -> RmaApi:
    return RmaApi(transport=MockTransport(wire))


def test_model_stage_options_in_fixed_order(rma: RmaApi) -> None:
    stage = rma.model_stage(
        "Gene",
        filters={"id": 15},
        criteria="products[id$eq1]",
        include=["organism"],
        count=False,
        debug="preview",
        order=["acronym", "id+desc"],
        start_row=10,
        num_rows=5,
        tabular=["id", "acronym+as+symbol"],
        excpt=["name"],
        only=["id", "acronym"],
    )
    assert stage == (
        "model::Gene[id$eq15],rma::criteria,products[id$eq1],rma::include,organism,"
        "rma::options[only$eqid,acronym][except$eqname][tabular$eqid,acronym+as+symbol]"
        "[num_rows$eq5][start_row$eq10][order$eqacronym,id+desc][debug$eq'preview']"
        "[count$eqfalse]"
    )
    assert rma.model_stage("Atlas", only=["image_type"]) == (
        "model::Atlas,rma::options[only$eqimage_type]"
    )
    assert rma.options_clause() == ""


def test_tuple_filters_pipe_and_service_stages(rma: RmaApi) -> None:
    params = [("b", [1, "x"]), ("a", 3), ("c", True), ("d", None), ("e", 1.5), ("f", "s")]
    assert rma.tuple_filters(params) == "[a$eq3][b$eq1,x][c$eqtrue][f$eqs]"
    assert rma.pipe_stage("list", [("type_name", "$is", "'image_type'")]) == (
        "pipe::list[type_name$is'image_type']"
    )
    assert rma.service_stage("mouse_connectivity_injection_structure") == (
        "service::mouse_connectivity_injection_structure"
    )
    assert rma.service_stage("svc", [("seed", 5)]) == "service::svc[seed$eq5]"
    assert rma.filter("id", 3) == "[id$eq3]"
    assert rma.quote_string("a b") == "'a b'"
    assert rma.debug_clause(True) == "[debug$eqtrue]"
    assert rma.debug_clause(None) == ""


def test_schema_urls(rma: RmaApi, wire: FakeApi) -> None:
    assert rma.build_schema_query() == BASE + "/api/v2/data.json"
    assert rma.build_schema_query("Gene", "xml") == BASE + "/api/v2/data/Gene.xml"
    rma.get_schema("Gene")
    assert wire.sent == BASE + "/api/v2/data/Gene.json"


@pytest.mark.parametrize(
    ("stage", "kwargs", "url"),
    [
        # MouseConnectivityApi.get_projection_image_info(123, 456)
        ("SectionDataSet",
         {"criteria": "[id$eq123]", "include": ["equalization,sub_images[section_number$eq456]"]},
         "model::SectionDataSet,rma::criteria,[id$eq123],"
         "rma::include,equalization,sub_images[section_number$eq456]"),
        # MouseConnectivityApi.get_experiment_detail(123)
        ("SectionDataSet",
         {"criteria": "[id$eq123]",
          "include": ["specimen(stereotaxic_injections(primary_injection_structure,structures,"
                      "stereotaxic_injection_coordinates)),equalization,sub_images"],
          "order": ["'sub_images.section_number$asc'"]},
         "model::SectionDataSet,rma::criteria,[id$eq123],rma::include,specimen("
         "stereotaxic_injections(primary_injection_structure,structures,"
         "stereotaxic_injection_coordinates)),equalization,sub_images,"
         "rma::options[order$eq'sub_images.section_number$asc']"),
        # MouseConnectivityApi.get_experiments(None)
        ("SectionDataSet", {"criteria": ["[failed$eqfalse]", ",products[id$in5,31]"]},
         "model::SectionDataSet,rma::criteria,[failed$eqfalse],products[id$in5,31]"),
    ],
)  # fmt: skip
def test_related_model_queries(
    rma: RmaApi, wire: FakeApi, stage: str, kwargs: dict[str, Any], url: str
) -> None:
    assert rma.build_query_url(rma.model_stage(stage, **kwargs)) == QUERY + url
    assert rma.model_query(stage, **kwargs) == []
    assert queried(wire) == QUERY + url


ONTOLOGY_TEMPLATES = {
    "ontology_queries": [
        {"name": "atlases_list", "model": "Atlas", "num_rows": "all", "count": False},
        {"name": "structures_by_graph_ids", "model": "Structure",
         "criteria": "[graph_id$in{{ graph_ids }}]", "criteria_params": ["graph_ids"],
         "order": ["structures.graph_order"], "num_rows": "all", "count": False},
        {"name": "structures_by_graph_names", "model": "Structure",
         "criteria": "graph[structure_graphs.name$in{{ graph_names }}]",
         "criteria_params": ["graph_names"], "order": ["structures.graph_order"],
         "num_rows": "all", "count": False},
        {"name": "atlases_table", "model": "Atlas",
         "criteria": "{% if atlas_ids is defined %}[id$in{{ atlas_ids }}],{% endif %}"
                     "structure_graph(ontology),graphic_group_labels",
         "criteria_params": ["atlas_ids"],
         "include": "structure_graph(ontology),graphic_group_labels",
         "only": ["atlases.id", "atlases.name", "atlases.image_type", "ontologies.id",
                  "ontologies.name", "structure_graphs.id", "structure_graphs.name",
                  "graphic_group_labels.id", "graphic_group_labels.name"],
         "num_rows": "all", "count": False},
    ]
}  # fmt: skip


@pytest.fixture
def ontology(wire: FakeApi) -> RmaTemplate:
    wire.rows = [{"id": 1}]
    return RmaTemplate(query_manifest=ONTOLOGY_TEMPLATES, transport=MockTransport(wire))


def test_template_wire_form(ontology: RmaTemplate, wire: FakeApi) -> None:
    assert ontology.template_query("ontology_queries", "atlases_list") == [{"id": 1}]
    assert wire.sent == (
        QUERY + "model::Atlas,rma::options%5Bnum_rows$eq%27all%27%5D%5Bcount$eqfalse%5D"
    )


def test_template_list_params_and_order(ontology: RmaTemplate, wire: FakeApi) -> None:
    ontology.template_query("ontology_queries", "structures_by_graph_ids", graph_ids=[1, 2])
    assert wire.sent == allensdk_wire(
        QUERY + "model::Structure,rma::criteria,[graph_id$in1,2],"
        "rma::options[num_rows$eq'all'][order$eqstructures.graph_order][count$eqfalse]"
    )


def test_template_plus_is_sent_literally(ontology: RmaTemplate, wire: FakeApi) -> None:
    names = ontology.quote_string("Human+Brain+Atlas")
    ontology.template_query("ontology_queries", "structures_by_graph_names", graph_names=names)
    assert wire.sent == (
        QUERY + "model::Structure,rma::criteria,"
        "graph%5Bstructure_graphs.name$in%27Human+Brain+Atlas%27%5D,"
        "rma::options%5Bnum_rows$eq%27all%27%5D%5Border$eqstructures.graph_order%5D"
        "%5Bcount$eqfalse%5D"
    )


def test_template_conditional_and_quoted_only(ontology: RmaTemplate, wire: FakeApi) -> None:
    ontology.template_query("ontology_queries", "atlases_table", atlas_ids=[1])
    assert wire.sent == allensdk_wire(
        QUERY + "model::Atlas,rma::criteria,[id$in1],structure_graph(ontology),"
        "graphic_group_labels,rma::include,structure_graph(ontology),graphic_group_labels,"
        "rma::options[only$eq'atlases.id,atlases.name,atlases.image_type,ontologies.id,"
        "ontologies.name,structure_graphs.id,structure_graphs.name,graphic_group_labels.id,"
        "graphic_group_labels.name'][num_rows$eq'all'][count$eqfalse]"
    )


def test_template_keyword_options_override(ontology: RmaTemplate, wire: FakeApi) -> None:
    ontology.template_query(
        "ontology_queries", "atlases_list", num_rows=5, start_row=10, only=["id", "name"]
    )
    assert wire.sent == allensdk_wire(
        QUERY + "model::Atlas,rma::options[only$eq'id,name'][num_rows$eq5][start_row$eq10]"
        "[count$eqfalse]"
    )
    with pytest.raises(ValueError, match="not found"):
        ontology.template_query("ontology_queries", "nothing")


def test_render_template_subset() -> None:
    assert render_template("[a$in{{ x }}],{{y}}", {"x": "1,2"}) == "[a$in1,2],"
    assert render_template("{% if y is defined %}Y{{ y }},{% endif %}z", {"y": 3}) == "Y3,z"
    assert render_template("{% if y is defined %}Y,{% endif %}z", {}) == "z"
    with pytest.raises(ValueError, match="unsupported"):
        render_template("{{ x | upper }}", {"x": "a"})


def test_pager_style_query_on_the_wire(rma: RmaApi, wire: FakeApi) -> None:
    rma.model_query("Gene", num_rows=5, start_row=0, count=False)
    assert wire.sent == (
        QUERY + "model::Gene,rma::options%5Bnum_rows$eq5%5D%5Bstart_row$eq0%5D%5Bcount$eqfalse%5D"
    )


def test_default_working_directory_as_allensdk_keeps_it(
    api: ImageDownloadApi, workdir: Path
) -> None:
    assert api.default_working_directory == str(workdir)  # allensdk's Api sets os.getcwd()
    api.set_default_working_directory("elsewhere")
    assert api.default_working_directory == "elsewhere"
