"""The models beyond images (donor, age, treatments, alignments, structure sets), column
right-hand sides and `debug`, compiled on the small store of test_rma_sql."""

from __future__ import annotations

import pytest

from brainmap.errors import RmaError
from brainmap.store.folder import Store
from test_rma_sql import ids, run, store  # noqa: F401  (the module fixture)


def test_context_includes(store: Store) -> None:  # noqa: F811
    _, records = run(
        store,
        "model::SectionDataSet,rma::criteria,[id$eq100],rma::include,specimen(donor(age)),"
        "treatments,alignment3d,rma::options[only$eq'id,donors.name,ages.name,specimens.id,"
        "treatments.name,alignment3ds.trv_00']",
    )
    (record,) = records
    assert record == {
        "id": 100,
        "specimen": {"id": 700, "donor": {"name": "donor 800", "age": {"name": "P56"}}},
        "treatments": [{"name": "histology"}],
        "alignment3d": {"trv_00": 0.948631},
    }


def test_alignment2d_of_a_section_image(store: Store) -> None:  # noqa: F811
    _, records = run(
        store,
        "model::SectionImage,rma::criteria,[data_set_id$eq100],rma::include,alignment2d,"
        "rma::options[only$eq'id,alignment2ds.tsv_00']",
    )
    assert records == [
        {"id": 1001, "alignment2d": {"tsv_00": 1.62929}},
        {"id": 1002, "alignment2d": None},
        {"id": 1003, "alignment2d": None},
    ]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("specimen(donor(age[name$eq'P56']))", [100]),
        ("specimen(donor[sex$eq'F'])", []),
        ("treatments[name$eq'histology']", [100]),
        ("alignment3d[trv_00$gt0.5]", [100]),
    ],
)
def test_context_criteria(store: Store, criteria: str, expected: list[int]) -> None:  # noqa: F811
    assert ids(store, f"model::SectionDataSet,rma::criteria,{criteria}") == expected


def test_structure_sets(store: Store) -> None:  # noqa: F811
    assert ids(store, "model::Structure,rma::criteria,structure_sets[name$eq'major']") == [567]
    assert ids(store, "model::StructureSet,rma::criteria,structures[acronym$eq'CH']") == [12]


def test_right_hand_side_naming_an_attribute(store: Store) -> None:  # noqa: F811
    found = ids(store, "model::Structure,rma::criteria,[graph_order$gtstructures.st_level]")
    assert found == []
    same = "model::Structure,rma::criteria,[graph_order$eqstructures.st_level]"
    assert ids(store, same) == [8, 567, 997, 1009]
    assert ids(store, "model::Gene,rma::criteria,[acronym$eq'genes.name']") == []
    with pytest.raises(RmaError, match=r"unknown attribute structures\.nope on the right"):
        run(store, "model::Structure,rma::criteria,[id$eqstructures.nope]")


def test_debug_echoes_the_normalised_query(store: Store) -> None:  # noqa: F811
    result, records = run(store, "model::Gene,rma::criteria,[id$eq15],rma::options[debug$eqtrue]")
    assert [record["id"] for record in records] == [15]
    assert result.debug == "model::Gene,rma::criteria,[id$eq15],rma::options[debug$eqtrue]"
    preview, nothing = run(store, "model::Gene,rma::options[debug$eq'preview']")
    assert (nothing, preview.total_rows, preview.debug) == (
        [],
        0,
        "model::Gene,rma::options[debug$eqpreview]",
    )
    with pytest.raises(RmaError, match="unknown model"):
        run(store, "model::Nope,rma::options[debug$eqpreview]")
