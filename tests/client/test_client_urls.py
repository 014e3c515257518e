"""Golden URLs: the client builds the same bytes allensdk builds (no network involved)."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest

from brainmap.client import ImageDownloadApi, RmaApi, RmaTemplate
from brainmap.client.allensdk.api import wire_url
from brainmap.client.allensdk.rma_template import render_template

BASE = "http://api.brain-map.org"
QUERY = BASE + "/api/v2/data/query.json?q="


@pytest.fixture
def api() -> ImageDownloadApi:
    """An ImageDownloadApi whose two network calls are recorded instead of made."""
    image_api = ImageDownloadApi()
    image_api.json_msg_query = MagicMock(return_value=[])  # type: ignore[method-assign]
    image_api.retrieve_file_over_http = MagicMock()  # type: ignore[method-assign]
    return image_api


def queried(api: ImageDownloadApi) -> str:
    api.json_msg_query.assert_called_once()  # type: ignore[attr-defined]
    (url,) = api.json_msg_query.call_args.args  # type: ignore[attr-defined]
    return str(url)


def downloaded(api: ImageDownloadApi) -> tuple[str, str]:
    call = api.retrieve_file_over_http.call_args  # type: ignore[attr-defined]
    url, path = call.args
    return url, path


def test_section_image_ranges(api: ImageDownloadApi) -> None:
    api.get_section_image_ranges([126862575, 297225768])
    assert queried(api) == (
        QUERY + "model::Equalization,rma::criteria,"
        "section_data_set(section_images[id$in126862575,297225768]),"
        "rma::options[only$eq'blue_lower,blue_upper,red_lower,red_upper,green_lower,green_upper']"
        "[num_rows$eq'all'][count$eqfalse]"
    )


def test_section_image_ranges_as_lists_in_range_order(api: ImageDownloadApi) -> None:
    row = {
        "blue_lower": 0,
        "blue_upper": 1,
        "green_lower": 2,
        "green_upper": 3,
        "red_lower": 4,
        "red_upper": 5,
    }
    api.json_msg_query.return_value = [row]  # type: ignore[attr-defined]
    assert api.get_section_image_ranges([1]) == [[4, 5, 2, 3, 0, 1]]
    assert api.get_section_image_ranges([1], as_lists=False) == [row]


@pytest.mark.parametrize(
    ("include_failed", "failed"), [(False, "'false'"), (True, "'false','true'")]
)
def test_section_data_sets_by_product(
    api: ImageDownloadApi, include_failed: bool, failed: str
) -> None:
    api.get_section_data_sets_by_product([10, 22], include_failed=include_failed)
    assert queried(api) == (
        QUERY + f"model::SectionDataSet,rma::criteria,[failed$in{failed}],products[id$in10,22],"
        "rma::options[num_rows$eq'all'][count$eqfalse]"
    )


def test_section_image_query(api: ImageDownloadApi) -> None:
    api.section_image_query(70813257)
    assert queried(api) == (
        QUERY + "model::SectionImage,rma::criteria,[data_set_id$eq70813257],"
        "rma::options[num_rows$eq'all'][count$eqfalse]"
    )


def test_atlas_image_query_pipes_the_image_type(api: ImageDownloadApi) -> None:
    api.atlas_image_query(1)
    assert queried(api) == (
        QUERY + "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
        "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,"
        "[annotated$eqtrue],atlas_data_set(atlases[id$eq1]),"
        "alternate_images[image_type$eq$type_name],"
        "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
    )


def test_atlas_image_query_with_image_type(api: ImageDownloadApi) -> None:
    api.atlas_image_query(1, image_type_name="Atlas - Adult Mouse")
    assert queried(api) == (
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
    api: ImageDownloadApi, method: str, image_id: int, kwargs: dict[str, Any], tail: str
) -> None:
    assert getattr(api, method)(image_id, **kwargs) is None
    assert downloaded(api) == (f"{BASE}/api/v2/{tail}", f"{image_id}.jpg")


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
    api: ImageDownloadApi, kwargs: dict[str, Any], query: str
) -> None:
    api.download_image(7, "out.jpg", **kwargs)
    assert downloaded(api) == (f"{BASE}/api/v2/image_download/7?{query}", "out.jpg")


def test_download_rejects_what_allensdk_rejects(api: ImageDownloadApi) -> None:
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
    api.retrieve_file_over_http.assert_not_called()  # type: ignore[attr-defined]


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
def rma() -> RmaApi:
    return RmaApi()


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


def test_schema_urls(rma: RmaApi) -> None:
    assert rma.build_schema_query() == BASE + "/api/v2/data.json"
    assert rma.build_schema_query("Gene", "xml") == BASE + "/api/v2/data/Gene.xml"


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
def test_related_model_queries(rma: RmaApi, stage: str, kwargs: dict[str, Any], url: str) -> None:
    assert rma.build_query_url(rma.model_stage(stage, **kwargs)) == QUERY + url


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
def ontology() -> RmaTemplate:
    template = RmaTemplate(query_manifest=ONTOLOGY_TEMPLATES)
    template.transport = MagicMock()
    template.transport.get_json.return_value = {"success": True, "msg": [{"id": 1}]}
    return template


def sent(template: RmaTemplate) -> str:
    template.transport.get_json.assert_called_once()  # type: ignore[attr-defined]
    return str(template.transport.get_json.call_args.args[0])  # type: ignore[attr-defined]


def test_template_wire_form(ontology: RmaTemplate) -> None:
    assert ontology.template_query("ontology_queries", "atlases_list") == [{"id": 1}]
    assert sent(ontology) == (
        QUERY + "model::Atlas,rma::options%5Bnum_rows$eq%27all%27%5D%5Bcount$eqfalse%5D"
    )


def test_template_list_params_and_order(ontology: RmaTemplate) -> None:
    ontology.template_query("ontology_queries", "structures_by_graph_ids", graph_ids=[1, 2])
    assert sent(ontology) == wire_url(
        QUERY + "model::Structure,rma::criteria,[graph_id$in1,2],"
        "rma::options[num_rows$eq'all'][order$eqstructures.graph_order][count$eqfalse]"
    )


def test_template_plus_is_sent_literally(ontology: RmaTemplate) -> None:
    names = ontology.quote_string("Human+Brain+Atlas")
    ontology.template_query("ontology_queries", "structures_by_graph_names", graph_names=names)
    assert sent(ontology) == (
        QUERY + "model::Structure,rma::criteria,"
        "graph%5Bstructure_graphs.name$in%27Human+Brain+Atlas%27%5D,"
        "rma::options%5Bnum_rows$eq%27all%27%5D%5Border$eqstructures.graph_order%5D"
        "%5Bcount$eqfalse%5D"
    )


def test_template_conditional_and_quoted_only(ontology: RmaTemplate) -> None:
    ontology.template_query("ontology_queries", "atlases_table", atlas_ids=[1])
    assert sent(ontology) == wire_url(
        QUERY + "model::Atlas,rma::criteria,[id$in1],structure_graph(ontology),"
        "graphic_group_labels,rma::include,structure_graph(ontology),graphic_group_labels,"
        "rma::options[only$eq'atlases.id,atlases.name,atlases.image_type,ontologies.id,"
        "ontologies.name,structure_graphs.id,structure_graphs.name,graphic_group_labels.id,"
        "graphic_group_labels.name'][num_rows$eq'all'][count$eqfalse]"
    )


def test_template_keyword_options_override(ontology: RmaTemplate) -> None:
    ontology.template_query(
        "ontology_queries", "atlases_list", num_rows=5, start_row=10, only=["id", "name"]
    )
    assert sent(ontology) == wire_url(
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


def test_pager_style_query_on_the_wire(rma: RmaApi) -> None:
    url = rma.build_query_url(rma.model_stage("Gene", num_rows=5, start_row=0, count=False))
    assert wire_url(url) == (
        QUERY + "model::Gene,rma::options%5Bnum_rows$eq5%5D%5Bstart_row$eq0%5D%5Bcount$eqfalse%5D"
    )
