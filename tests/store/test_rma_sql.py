"""The RMA compiler on a small hand-made rma_store: allensdk's queries, filters, options, pipes."""

from __future__ import annotations

import pytest

from brainmap.errors import RmaError
from brainmap.rma.parse import parse_query
from brainmap.store.folder import Store
from brainmap.store.query.run import run_query
from rma_store import INJECTIONS, ids, run

# -- allensdk's queries (docs/allen-api.md §2.4) --------------------------------------------------


def test_section_image_ranges(rma_store: Store) -> None:
    result, records = run(
        rma_store,
        "model::Equalization,rma::criteria,section_data_set(section_images[id$in1001,1021]),"
        "rma::options[only$eq'blue_lower,blue_upper,red_lower,red_upper,green_lower,green_upper']"
        "[num_rows$eq'all'][count$eqfalse]",
    )
    assert records == [
        {
            "blue_lower": 0,
            "blue_upper": 4095,
            "green_lower": 0,
            "green_upper": 987,
            "red_lower": 0,
            "red_upper": 923,
        },
        {
            "blue_lower": 0,
            "blue_upper": 4095,
            "green_lower": 0,
            "green_upper": 1279,
            "red_lower": 0,
            "red_upper": 932,
        },
    ]
    assert (result.num_rows, result.total_rows) == (2, 2)


def test_section_images_of_atlas_plates_are_not_section_images(rma_store: Store) -> None:
    text = "model::Equalization,rma::criteria,section_data_set(section_images[id$in2001,2002])"
    assert ids(rma_store, text) == []


def test_data_sets_by_product(rma_store: Store) -> None:
    base = "model::SectionDataSet,rma::criteria,[failed$in{}],products[id$in10,22]"
    assert ids(rma_store, base.format("'false'")) == [100, 103]
    assert ids(rma_store, base.format("'false','true'")) == [100, 101, 103]
    assert ids(
        rma_store, "model::SectionDataSet,rma::criteria,[failed$eqfalse],products[id$in5,31]"
    ) == [102]


def test_section_images_of_a_data_set(rma_store: Store) -> None:
    text = "model::SectionImage,rma::criteria,[data_set_id$eq100],rma::options[num_rows$eq'all']"
    assert ids(rma_store, text) == [1001, 1002, 1003]


def test_atlas_image_query_pipe(rma_store: Store) -> None:
    text = (
        "model::Atlas,rma::criteria,[id$eq{0}],rma::options[only$eqimage_type],"
        "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,[annotated$eqtrue],"
        "atlas_data_set(atlases[id$eq{0}]),alternate_images[image_type$eq$type_name],"
        "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
    )
    assert ids(rma_store, text.format(1)) == [2002, 2001]
    assert ids(rma_store, text.format(3)) == [2002, 2003]
    assert ids(rma_store, text.format(2)) == [2101]
    assert ids(rma_store, text.format(99)) == []


def test_atlas_image_query_named_type(rma_store: Store) -> None:
    text = (
        "model::AtlasImage,rma::criteria,[annotated$eqtrue],atlas_data_set(atlases[id$eq1]),"
        "alternate_images[image_type$eq'Atlas - Adult Mouse'],"
        "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
    )
    assert ids(rma_store, text) == [2002, 2001]


def test_adora2a_workflow(rma_store: Store) -> None:
    text = (
        "model::SectionDataSet,rma::criteria,[failed$eq'false'],products[abbreviation$eq'Mouse'],"
        "plane_of_section[name$eq'{}'],genes[acronym$eq'Adora2a']"
    )
    assert ids(rma_store, text.format("sagittal")) == [100]
    assert ids(rma_store, text.format("coronal")) == []


def test_projection_image_info_include_filters_children(rma_store: Store) -> None:
    _, records = run(
        rma_store,
        "model::SectionDataSet,rma::criteria,[id$eq100],rma::include,equalization,"
        "sub_images[section_number$eq2],rma::options[only$eq'id,sub_images.id,equalizations.id']",
    )
    assert records == [{"id": 100, "equalization": {"id": 500}, "sub_images": [{"id": 1003}]}]


def test_include_with_filter_restricts_parents_without_filter_does_not(rma_store: Store) -> None:
    filtered = "model::SectionDataSet,rma::include,sub_images[section_number$eq5]"
    assert ids(rma_store, filtered) == [102]
    assert ids(rma_store, "model::SectionDataSet,rma::include,sub_images") == [100, 101, 102, 103]


def test_nested_include_and_order_of_children(rma_store: Store) -> None:
    _, records = run(
        rma_store,
        "model::SectionDataSet,rma::criteria,[id$in100,103],rma::include,equalization,"
        "sub_images(alternate_images),genes,rma::options[order$eq'sub_images.section_number$asc']"
        "[only$eq'data_sets.id,sub_images.section_number,genes.acronym,alternate_images.id']",
    )
    first, second = records
    assert list(first) == ["id", "equalization", "sub_images", "genes"]
    assert [image["section_number"] for image in first["sub_images"]] == [1, 2, 3]
    assert first["sub_images"][0] == {"section_number": 1, "alternate_images": []}
    assert first["genes"] == [{"acronym": "Adora2a"}] and second["equalization"] is None


def test_include_to_one_and_table_qualified_only(rma_store: Store) -> None:
    _, records = run(
        rma_store,
        "model::Atlas,rma::criteria,[id$in1,2],rma::include,atlas_data_set,"
        "rma::options[only$eq'atlases.id,atlases.name,data_sets.id']",
    )
    assert records == [
        {"id": 1, "name": "Mouse, P56, Coronal", "atlas_data_set": {"id": 200}},
        {"id": 2, "name": "Mouse, P56, Sagittal", "atlas_data_set": {"id": 201}},
    ]


def test_record_keys_are_alphabetical_and_datetimes_are_allen_text(rma_store: Store) -> None:
    _, records = run(rma_store, "model::SectionDataSet[id$eq102]")
    (record,) = records
    assert list(record) == sorted(record)
    assert record["qc_date"] == "2011-12-14T18:20:48Z"
    assert "type" not in record  # hidden bookkeeping column


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("[id$lt3]", [1, 2]),
        ("[id$le2]", [1, 2]),
        ("[id$gt118]", [119, 120]),
        ("[id$ge119][id$ne120]", [119]),
        ("[id$in1,2,'3']", [1, 2, 3]),
        ("[id$lt5][id$nin1,2]", [3, 4]),
        ("[acronym$eq'Adora2a']", [15]),
        ("[acronym$eqAdora2a]", [15]),
        ("[acronym$li'Ador*']", [15]),
        ("[acronym$li'ador*']", []),
        ("[acronym$il'ADOR*']", [15]),
        ("[acronym$il'g11_']", []),
        ("[name$il'*brien*']", [17]),
        ("[id$li'11*']", [11, *range(110, 120)]),
        ("organism[name$eq'Mus musculus'],[id$lt3]", [1, 2]),
        ("organism[name$eq'Homo sapiens'],[id$lt3]", []),
        ("[organism.name$eq'Mus musculus'][id$lt3]", [1, 2]),
        ("[data_sets.id$eq100]", [15]),
        ("data_sets(products[abbreviation$eq'Mouse'])", [15, 16]),
        ("[entrez_id]", []),
        ("[id$lt3][acronym]", [1, 2]),
    ],
)
def test_gene_filters(rma_store: Store, criteria: str, expected: list[int]) -> None:
    text = f"model::Gene,rma::criteria,{criteria},rma::options[num_rows$eq'all']"
    assert ids(rma_store, text) == expected


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("[failed$li'true']", [101]),
        ("[failed$il'F*']", [100, 102, 103]),
        ("[qc_date$li'2011-12-14T18:20:48Z']", [102]),
        ("[qc_date$il'*t18:*']", [102]),
        ("[weight$eqdata_sets.weight]", []),
        ("[id$gtdata_sets.section_thickness]", []),
    ],
)
def test_non_text_columns_match_their_json_text(
    rma_store: Store, criteria: str, expected: list[int]
) -> None:
    text = f"model::SectionDataSet,rma::criteria,{criteria},rma::options[num_rows$eq'all']"
    assert ids(rma_store, text) == expected


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("[failed$eqtrue]", [101]),
        ("[failed$eq't']", [101]),
        ("[failed$eqF][id$lt102]", [100]),
        ("[qc_date]", [102]),
        ("[qc_date$gt'2011-12-14']", [102]),
        ("[qc_date$lt'2011-12-14T18:20:48Z']", []),
        ("[qc_date$eq'2011-12-14T18:20:48Z']", [102]),
        ("[sub_images.section_number$eq5]", [102]),
        ("sub_images[section_number$ge2]", [100, 102]),
        ("[data_sets.id$eq100]", [100]),
    ],
)
def test_data_set_filters(rma_store: Store, criteria: str, expected: list[int]) -> None:
    assert ids(rma_store, f"model::SectionDataSet,rma::criteria,{criteria}") == expected


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_are_values(rma_store: Store, value: str) -> None:
    quoted = value.replace("'", "''")
    found = ids(rma_store, f"model::Gene,rma::criteria,[name$eq'{quoted}']")
    assert found == ([17] if value == INJECTIONS[0] else [])
    assert ids(rma_store, f"model::Gene,rma::criteria,[name$in'{quoted}','gene 1']") == (
        [1, 17] if value == INJECTIONS[0] else [1]
    )
    assert run(rma_store, "model::Gene")[0].total_rows == 120


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("model::Nope", "unknown model Nope"),
        ("model::Gene,rma::criteria,nope[id$eq1]", "unknown association nope of Gene"),
        ("model::Gene,rma::criteria,[nope$eq1]", "unknown attribute nope of Gene"),
        ("model::SectionDataSet,rma::criteria,[type$eq'x']", "unknown attribute type"),
        ("model::Gene,rma::criteria,[id$eq'abc']", "invalid value 'abc' for id"),
        ("model::Gene,rma::criteria,[id$eq1e999999]", "invalid value"),
        ("model::Gene,rma::criteria,[id$lt1,2]", "exactly one value"),
        ("model::Gene,rma::criteria,[id$istrue]", "only valid in pipe"),
        ("model::Gene,rma::criteria,[id$eq$unbound]", "not bound"),
        ("model::Gene,rma::options[order$eqnope]", "cannot order by nope"),
        ("model::Gene,rma::options[only$eqnope]", "unknown attribute nope"),
        ("model::Gene,rma::options[tabular$eq'nope']", "tabular: unknown attribute nope"),
        ("model::Gene,pipe::list[x$is'id']", "must end with a model stage"),
        ("pipe::list[x$is'id'],model::Gene", "needs a model stage before"),
        ("model::Gene,pipe::split[x$is'id'],model::Gene", "not supported"),
        ("model::Gene,rma::criteria,[acronym$eqgenes.id]", "cannot compare acronym with id"),
        (
            "model::SectionDataSet,rma::criteria,[section_thickness$li'2*']",
            "$li matches text and section_thickness is a number with a fraction",
        ),
        ("model::Gene,pipe::list[x$is'nope'],model::Gene", "no field nope"),
        (
            "service::mouse_connectivity_injection_structure[injection_structures$eq'VISp']",
            "service mouse_connectivity_injection_structure is not available on this server",
        ),
    ],
)
def test_errors_are_rma_errors_naming_the_stage(rma_store: Store, text: str, reason: str) -> None:
    with pytest.raises(RmaError) as caught:
        run(rma_store, text)
    assert reason in caught.value.reason
    assert caught.value.stage in text or caught.value.stage.startswith(text.split(",")[0])


# -- options ----------------------------------------------------------------------------------


def test_default_page_and_total(rma_store: Store) -> None:
    result, records = run(rma_store, "model::Gene")
    assert (result.start_row, result.num_rows, result.total_rows) == (0, 50, 120)
    assert [record["id"] for record in records] == list(range(1, 51))


@pytest.mark.parametrize("num_rows", ["'all'", "all", "ALL"])
def test_all_rows(rma_store: Store, num_rows: str) -> None:
    result, records = run(rma_store, f"model::Gene,rma::options[num_rows$eq{num_rows}]")
    assert (result.num_rows, result.total_rows, len(records)) == (120, 120, 120)


@pytest.mark.parametrize(
    ("options", "page", "numbers"),
    [
        ("[num_rows$eq5][start_row$eq0][count$eqfalse]", list(range(1, 6)), (0, 5, 120)),
        ("[num_rows$eq5][start_row$eq115]", list(range(116, 121)), (115, 5, 120)),
        ("[num_rows$eq5][start_row$eq118]", [119, 120], (118, 2, 120)),
        ("[num_rows$eq5][start_row$eq500]", [], (500, 0, 120)),
        ("[num_rows$eq0]", [], (0, 0, 120)),
        ("[num_rows$eq99999]", list(range(1, 121)), (0, 120, 120)),
        ("[order$eqid+desc][num_rows$eq3]", [120, 119, 118], (0, 3, 120)),
        ("[order$eq'genes.id$desc'][num_rows$eq2][start_row$eq1]", [119, 118], (1, 2, 120)),
        ("[order$eq'acronym desc,id'][num_rows$eq2]", [99, 98], (0, 2, 120)),
    ],
)
def test_paging_and_order(
    rma_store: Store, options: str, page: list[int], numbers: tuple[int, int, int]
) -> None:
    result, records = run(rma_store, f"model::Gene,rma::options{options}")
    assert [record["id"] for record in records] == page
    assert (result.start_row, result.num_rows, result.total_rows) == numbers


def test_only_and_except(rma_store: Store) -> None:
    _, only = run(rma_store, "model::Gene[id$eq15],rma::options[only$eq'acronym,id']")
    assert only == [{"acronym": "Adora2a", "id": 15}]
    _, unquoted = run(rma_store, "model::Gene[id$eq15],rma::options[only$eqid,acronym]")
    assert unquoted == only
    _, rest = run(
        rma_store,
        "model::Gene[id$eq15],rma::options[except$eq'alias_tags,chromosome_id,ensembl_id,"
        "entrez_id,homologene_id,sphinx_id,genes.name']",
    )
    assert rest == [{"acronym": "Adora2a", "id": 15, "organism_id": 2}]


def test_csv_columns_follow_the_table(rma_store: Store) -> None:
    result, _ = run(rma_store, "model::Gene,rma::options[except$eqname][num_rows$eq1]")
    assert result.columns[:3] == ("id", "acronym", "alias_tags")
    assert "name" not in result.columns


def test_records_stream_lazily(rma_store: Store) -> None:
    with rma_store.session() as db:
        result = run_query(db, parse_query("model::Gene,rma::options[num_rows$eq'all']"))
        assert not isinstance(result.records, list)
        assert next(iter(result.records))["id"] == 1


def test_long_value_lists(rma_store: Store) -> None:
    """More values than PostgreSQL takes parameters (65,535), as a pipe may bind; nulls are in
    neither `$in` nor `$nin`, as with short lists."""
    many = ",".join(map(str, range(3, 66_000)))
    every = ",rma::options[num_rows$eq'all']"
    data_sets = "model::SectionDataSet,rma::criteria,[plane_of_section_id${op}1," + many + "]"
    assert ids(rma_store, data_sets.format(op="in") + every) == [102, 103]
    assert ids(rma_store, data_sets.format(op="nin") + every) == [100]
