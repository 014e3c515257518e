"""RMA parser and renderer: the allensdk queries, error messages, round trips, fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.errors import RmaError
from brainmap.rma.ast import (
    Filter,
    Literal,
    ModelStage,
    Options,
    Path,
    PipeStage,
    Query,
    ServiceStage,
    Variable,
)
from brainmap.rma.build import render_query
from brainmap.rma.parse import parse_options, parse_paths, parse_query

# Queries allensdk emits (docs/allen-api.md §2.4 and the related URLs), pre-quoting.
EQUALIZATION = (
    "model::Equalization,rma::criteria,section_data_set(section_images[id$in126862575,297225768]),"
    "rma::options[only$eq'blue_lower,blue_upper,red_lower,red_upper,green_lower,green_upper']"
    "[num_rows$eq'all'][count$eqfalse]"
)
BY_PRODUCT = (
    "model::SectionDataSet,rma::criteria,[failed$in'false'],products[id$in10,22],"
    "rma::options[num_rows$eq'all'][count$eqfalse]"
)
SECTION_IMAGES = (
    "model::SectionImage,rma::criteria,[data_set_id$eq70813257],"
    "rma::options[num_rows$eq'all'][count$eqfalse]"
)
ATLAS_IMAGES_PIPE = (
    "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
    "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,[annotated$eqtrue],"
    "atlas_data_set(atlases[id$eq1]),alternate_images[image_type$eq$type_name],"
    "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
)
ATLAS_IMAGES_NAMED = (
    "model::AtlasImage,rma::criteria,[annotated$eqtrue],atlas_data_set(atlases[id$eq1]),"
    "alternate_images[image_type$eq'Atlas - Adult Mouse'],"
    "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
)
RELATED = [
    "model::SectionDataSet,rma::criteria,[id$eq123],rma::include,equalization,"
    "sub_images[section_number$eq456]",
    "model::SectionDataSet,rma::criteria,[id$eq123],rma::include,specimen(stereotaxic_injections("
    "primary_injection_structure,structures,stereotaxic_injection_coordinates)),equalization,"
    "sub_images,rma::options[order$eq'sub_images.section_number$asc']",
    "model::SectionDataSet,rma::criteria,[failed$eqfalse],products[id$in5,31]",
    "model::Atlas,rma::options[num_rows$eq'all'][count$eqfalse]",
    "model::Atlas,rma::criteria,[id$in1],structure_graph(ontology),graphic_group_labels,"
    "rma::include,structure_graph(ontology),graphic_group_labels,rma::options[only$eq'atlases.id,"
    "atlases.name,atlases.image_type,ontologies.id,ontologies.name,structure_graphs.id,"
    "structure_graphs.name,graphic_group_labels.id,graphic_group_labels.name'][num_rows$eq'all']"
    "[count$eqfalse]",
    "model::Structure,rma::criteria,[graph_id$in1],rma::options[num_rows$eq'all']"
    "[order$eqstructures.graph_order][count$eqfalse]",
    "model::Gene,rma::options[num_rows$eq5][start_row$eq0][count$eqfalse]",
    "model::Atlas,rma::criteria,[name$il'mouse*'],rma::options[only$eqid,name]",
    "model::SectionDataSet,rma::criteria,[failed$eq'false'],products[abbreviation$eq'Mouse'],"
    "plane_of_section[name$eq'coronal'],genes[acronym$eq'Adora2a']",
    "model::Gene[id$eq15]",
    "service::human_microarray_expression[probes$eq1051154]",
]
ALL_QUERIES = [
    EQUALIZATION,
    BY_PRODUCT,
    SECTION_IMAGES,
    ATLAS_IMAGES_PIPE,
    ATLAS_IMAGES_NAMED,
    *RELATED,
]


def lit(text: str, quoted: bool = False) -> Literal:
    return Literal(text, quoted)


def test_equalization_query() -> None:
    ids = (lit("126862575"), lit("297225768"))
    images = Path("section_images", (Filter("id", "$in", ids),))
    assert parse_query(EQUALIZATION) == (
        ModelStage(
            "Equalization",
            criteria=(Path("section_data_set", children=(images,)),),
            options=Options(
                num_rows="all",
                only=(
                    "blue_lower",
                    "blue_upper",
                    "red_lower",
                    "red_upper",
                    "green_lower",
                    "green_upper",
                ),
                count=False,
            ),
        ),
    )


def test_pipe_query() -> None:
    atlas, pipe, images = parse_query(ATLAS_IMAGES_PIPE)
    assert atlas == ModelStage(
        "Atlas",
        criteria=(Path(None, (Filter("id", "$eq", (lit("1"),)),)),),
        options=Options(only=("image_type",)),
    )
    assert pipe == PipeStage("list", (Filter("type_name", "$is", (lit("image_type", True),)),))
    assert isinstance(images, ModelStage)
    assert images.criteria[2] == Path(
        "alternate_images", (Filter("image_type", "$eq", (Variable("type_name"),)),)
    )
    assert images.options == Options(num_rows="all", order=(("sub_images.section_number", False),))


def test_by_product_keeps_quoting() -> None:
    (stage,) = parse_query(BY_PRODUCT)
    assert isinstance(stage, ModelStage)
    assert stage.criteria == (
        Path(None, (Filter("failed", "$in", (lit("false", True),)),)),
        Path("products", (Filter("id", "$in", (lit("10"), lit("22"))),)),
    )


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_every_allensdk_query_parses_and_round_trips(query: str) -> None:
    parsed = parse_query(query)
    assert parse_query(render_query(parsed)) == parsed


def test_include_nesting_and_child_filters() -> None:
    (stage,) = parse_query(RELATED[1])
    assert isinstance(stage, ModelStage)
    specimen, equalization, sub_images = stage.include
    assert specimen.children[0].association == "stereotaxic_injections"
    assert [child.association for child in specimen.children[0].children] == [
        "primary_injection_structure",
        "structures",
        "stereotaxic_injection_coordinates",
    ]
    assert equalization == Path("equalization") and sub_images == Path("sub_images")
    assert stage.options.order == (("sub_images.section_number", False),)


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("[num_rows$eq'all']", Options(num_rows="all")),
        ("[num_rows$eqall]", Options(num_rows="all")),
        ("[num_rows$eq7][start_row$eq14]", Options(num_rows=7, start_row=14)),
        ("[only$eq'a,b,c']", Options(only=("a", "b", "c"))),
        ("[only$eqid,name]", Options(only=("id", "name"))),
        ("[except$eqatlases.id]", Options(except_=("atlases.id",))),
        ("[order$eq'a$desc',b+asc]", Options(order=(("a", True), ("b", False)))),
        ("[order$eqa,b desc]", Options(order=(("a", False), ("b", True)))),
        ("[order$eq'id']", Options(order=(("id", False),))),
        ("[count$eqfalse][debug$eq'preview']", Options(count=False, debug="preview")),
        (
            "[tabular$eq'distinct specimens.name as n']",
            Options(tabular=("distinct specimens.name as n",)),
        ),
    ],
)
def test_options(clause: str, expected: Options) -> None:
    (stage,) = parse_query(f"model::Gene,rma::options{clause}")
    assert isinstance(stage, ModelStage) and stage.options == expected


def test_filters_values_and_existence() -> None:
    (stage,) = parse_query(
        "model::Gene,rma::criteria[id$eq1],probes[orientation_id],"
        "[name$eq'O''Brien, [x] (y)'][chromosome.name$nin'1',$v]"
    )
    assert isinstance(stage, ModelStage)
    assert stage.criteria == (
        Path(None, (Filter("id", "$eq", (lit("1"),)),)),
        Path("probes", (Filter("orientation_id"),)),
        Path(
            None,
            (
                Filter("name", "$eq", (lit("O'Brien, [x] (y)", True),)),
                Filter("chromosome.name", "$nin", (lit("1", True), Variable("v"))),
            ),
        ),
    )


def test_legacy_pieces() -> None:
    assert parse_paths("organism,chromosome[name$eq'1']") == (
        Path("organism"),
        Path("chromosome", (Filter("name", "$eq", (lit("1", True),)),)),
    )
    assert parse_paths("") == ()
    assert parse_options([("only", "id,name"), ("num_rows", "'all'")]) == Options(
        num_rows="all", only=("id", "name")
    )


@pytest.mark.parametrize(
    ("query", "stage", "reason"),
    [
        ("model::Gene,[id$eq1]", "model::Gene,[id$eq1]", "expected rma::criteria"),
        ("model::Gene[id$eq'1]", "model::Gene[id$eq'1]", "unterminated quoted string"),
        ("model::Gene[id$zz1]", "model::Gene[id$zz1]", "unknown operator"),
        ("model::Gene,rma::options[nope$eq1]", "model::Gene,rma::options[nope$eq1]", "unknown"),
        ("model::Gene,rma::options[num_rows$eq-1]", "model::Gene", "non-negative integer"),
        ("rma::criteria,[id$eq1]", "rma::criteria,[id$eq1]", "cannot start"),
        ("model::A,model::B[", "model::B[", "attribute name"),
        ("model::Gene,rma::criteria,a(b", "model::Gene,rma::criteria,a(b", "expected ')'"),
        ("   ", "", "empty query"),
    ],
)
def test_errors_name_the_stage(query: str, stage: str, reason: str) -> None:
    with pytest.raises(RmaError) as caught:
        parse_query(query)
    assert caught.value.stage.startswith(stage)
    assert reason in caught.value.reason
    assert str(caught.value).startswith("Error in query: ")


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(RmaError, match="nested deeper"):
        parse_query("model::Gene,rma::criteria," + "a(" * 5000 + "b" + ")" * 5000)


# -- properties ---------------------------------------------------------------------------

LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


def words(first: str, rest: str, size: int) -> st.SearchStrategy[str]:
    """A first character from `first`, then up to `size` from `rest` (fast, unlike from_regex)."""
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=size))


names = words(LOWER + "_", LOWER + DIGITS + "_", 8)
qualified = st.builds(".".join, st.lists(names, min_size=1, max_size=3))
bare_text = words(LOWER + "Z09*_.", LOWER + "Z09 *_.$()-", 10)
values = st.one_of(
    st.builds(Literal, bare_text, st.just(False)),
    st.builds(Literal, st.text(max_size=12), st.just(True)),
    st.builds(Variable, names),
)
operators = st.sampled_from(["$eq", "$ne", "$lt", "$gt", "$le", "$ge", "$in", "$nin", "$li", "$il"])
filters = st.one_of(
    st.builds(Filter, qualified),
    st.builds(Filter, qualified, operators, st.lists(values, min_size=1, max_size=3).map(tuple)),
)
filter_tuples = st.lists(filters, max_size=2).map(tuple)


def _path(children: st.SearchStrategy[tuple[Path, ...]]) -> st.SearchStrategy[Path]:
    return st.builds(Path, st.one_of(st.none(), names), filter_tuples, children).filter(
        lambda path: bool(path.association or path.filters or path.children)
    )


paths = st.recursive(
    _path(st.just(())), lambda inner: _path(st.lists(inner, max_size=2).map(tuple)), max_leaves=6
)
tabular_items = st.builds(str.__add__, words(LOWER, LOWER + ". '", 10), st.sampled_from(LOWER))
options = st.builds(
    Options,
    num_rows=st.one_of(st.none(), st.just("all"), st.integers(0, 10**6)),
    start_row=st.one_of(st.none(), st.integers(0, 10**6)),
    order=st.lists(st.tuples(qualified, st.booleans()), max_size=3).map(tuple),
    only=st.lists(qualified, max_size=3).map(tuple),
    except_=st.lists(qualified, max_size=3).map(tuple),
    tabular=st.lists(tabular_items, max_size=2).map(tuple),
    count=st.one_of(st.none(), st.booleans()),
    debug=st.sampled_from([None, "true", "false", "preview"]),
)
model_names = words("ASGZ", LOWER + "ASGZ", 10)
stages = st.one_of(
    st.builds(
        ModelStage,
        model_names,
        filter_tuples,
        st.lists(paths, max_size=3).map(tuple),
        st.lists(paths, max_size=3).map(tuple),
        options,
    ),
    st.builds(PipeStage, names, filter_tuples),
    st.builds(ServiceStage, names, filter_tuples),
)
queries: st.SearchStrategy[Query] = st.lists(stages, min_size=1, max_size=3).map(tuple)


@settings(max_examples=150, deadline=None)
@given(queries)
def test_render_then_parse_is_identity(query: Query) -> None:
    assert parse_query(render_query(query)) == query


ALPHABET = "model::rma:criteria,include,options[]()'$eqinlt*_.AZaz019 +-\\\"\x00é☃"


@settings(max_examples=2500, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=40))
def test_random_text_raises_only_rma_errors(text: str) -> None:
    with contextlib.suppress(RmaError):
        parse_query(text)


@settings(max_examples=100, deadline=None)
@given(queries, st.integers(0, 200), st.sampled_from(list(",[]()'$:")))
def test_corrupted_queries_raise_only_rma_errors(query: Query, where: int, char: str) -> None:
    text = render_query(query)
    cut = where % (len(text) + 1)
    with contextlib.suppress(RmaError):
        parse_query(text[:cut] + char + text[cut:])
