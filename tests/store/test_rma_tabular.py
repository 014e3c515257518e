"""The tabular option: flat rows, aliases, distinct, includes as inner joins, CSV over HTTP."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest

from brainmap.errors import RmaError
from brainmap.store.folder import Store
from brainmap.store.query.tabular import TabularColumn, parse_tabular
from loopback import request
from rma_store import run

IMAGES = (
    "model::SectionDataSet,rma::criteria,[failed$eqfalse],rma::include,section_images{filter},"
    "rma::options[tabular$eq'data_sets.id+as+data_set_id,sub_images.id+as+image_id,"
    "sub_images.section_number']{options}"
)


def rows(rma_store: Store, text: str) -> list[tuple[object, ...]]:
    return [tuple(record.values()) for record in run(rma_store, text)[1]]


def test_parse_columns_aliases_and_distinct() -> None:
    spec = parse_tabular(("distinct+specimens.name+as+specimen_name", "data_sets.id", "weight"))
    assert spec.distinct
    assert spec.columns == (
        TabularColumn("specimens", "name", "specimen_name"),
        TabularColumn("data_sets", "id", "id"),
        TabularColumn("", "weight", "weight"),
    )
    for bad in [("a b c",), ("x.y.z",), ("id", "data_sets.id")]:
        with pytest.raises(ValueError):
            parse_tabular(bad)


def test_include_is_an_inner_join_with_one_row_per_child(rma_store: Store) -> None:
    result, records = run(rma_store, IMAGES.format(filter="", options="[order$eq'image_id']"))
    assert result.columns == ("data_set_id", "image_id", "section_number")
    assert list(records[0]) == ["data_set_id", "image_id", "section_number"]
    assert rows(rma_store, IMAGES.format(filter="", options="[order$eq'image_id']")) == [
        (100, 1001, 3),
        (100, 1002, 1),
        (100, 1003, 2),
        (102, 1021, 5),
    ]  # data set 103 has no images: gone, as with the API's inner join
    assert result.total_rows == 4


def test_include_filters_and_ordering_by_source_name(rma_store: Store) -> None:
    text = IMAGES.format(filter="[section_number$gt2]", options="[order$eq'sub_images.id+desc']")
    assert rows(rma_store, text) == [(102, 1021, 5), (100, 1001, 3)]


def test_paging(rma_store: Store) -> None:
    text = IMAGES.format(filter="", options="[num_rows$eq2][start_row$eq1]")
    result, records = run(rma_store, text)
    assert (result.total_rows, result.num_rows, result.start_row) == (4, 2, 1)
    assert [record["image_id"] for record in records] == [1002, 1003]


def test_distinct(rma_store: Store) -> None:
    text = (
        "model::SectionDataSet,rma::include,products,"
        "rma::options[tabular$eq'distinct+products.abbreviation']"
    )
    assert rows(rma_store, text) == [("Connectivity",), ("Human",), ("Mouse",)]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ("[tabular$eq'genes.acronym']", "genes is neither this model nor included"),
        ("[tabular$eq'sub_images.colour']", "unknown attribute colour"),
        ("[tabular$eq'id+as+a,name+as+a']", "distinct names"),
        ("[tabular$eq'id'][order$eq'weight']", "not one of the tabular columns"),
    ],
)
def test_errors_name_the_problem(rma_store: Store, options: str, reason: str) -> None:
    with pytest.raises(RmaError, match=reason):
        run(rma_store, f"model::SectionDataSet,rma::include,section_images,rma::options{options}")


def test_csv_over_http_uses_the_aliases(rma_server: str) -> None:
    query = IMAGES.format(filter="", options="[order$eq'image_id']")
    url = f"{rma_server}/api/v2/data/query.csv?q={urllib.parse.quote(query, safe=',:$=+')}"
    table = list(csv.reader(io.StringIO(request(url).text)))
    assert table[0] == ["data_set_id", "image_id", "section_number"]
    assert table[1:] == [
        ["100", "1001", "3"],
        ["100", "1002", "1"],
        ["100", "1003", "2"],
        ["102", "1021", "5"],
    ]
