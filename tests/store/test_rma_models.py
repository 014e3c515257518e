"""The models beyond images (donor, age, treatments, alignments, structure sets), column
right-hand sides and `debug`, compiled on the RMA test store (rma_store.py)."""

from __future__ import annotations

import pytest

from brainmap.errors import RmaError
from brainmap.store.folder import Store
from rma_store import ids, run


def test_context_includes(rma_store: Store) -> None:
    _, records = run(
        rma_store,
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


def test_alignment2d_of_a_section_image(rma_store: Store) -> None:
    _, records = run(
        rma_store,
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
def test_context_criteria(rma_store: Store, criteria: str, expected: list[int]) -> None:
    assert ids(rma_store, f"model::SectionDataSet,rma::criteria,{criteria}") == expected


def test_structure_sets(rma_store: Store) -> None:
    assert ids(rma_store, "model::Structure,rma::criteria,structure_sets[name$eq'major']") == [567]
    assert ids(rma_store, "model::StructureSet,rma::criteria,structures[acronym$eq'CH']") == [12]


def test_right_hand_side_naming_an_attribute(rma_store: Store) -> None:
    found = ids(rma_store, "model::Structure,rma::criteria,[graph_order$gtstructures.st_level]")
    assert found == []
    same = "model::Structure,rma::criteria,[graph_order$eqstructures.st_level]"
    assert ids(rma_store, same) == [8, 567, 997, 1009]
    assert ids(rma_store, "model::Gene,rma::criteria,[acronym$eq'genes.name']") == []
    with pytest.raises(RmaError, match=r"unknown attribute structures\.nope on the right"):
        run(rma_store, "model::Structure,rma::criteria,[id$eqstructures.nope]")


def test_debug_echoes_the_normalised_query(rma_store: Store) -> None:
    result, records = run(
        rma_store, "model::Gene,rma::criteria,[id$eq15],rma::options[debug$eqtrue]"
    )
    assert [record["id"] for record in records] == [15]
    assert result.debug == "model::Gene,rma::criteria,[id$eq15],rma::options[debug$eqtrue]"
    preview, nothing = run(rma_store, "model::Gene,rma::options[debug$eq'preview']")
    assert (nothing, preview.total_rows, preview.debug) == (
        [],
        0,
        "model::Gene,rma::options[debug$eqpreview]",
    )
    with pytest.raises(RmaError, match="unknown model"):
        run(rma_store, "model::Nope,rma::options[debug$eqpreview]")
