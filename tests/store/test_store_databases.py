"""A store whose records live in PostgreSQL: what is not a store is refused in one line and
left as it was, 64-bit ids, imports holding references to records they do not bring, and a
refused write worded alike on every database, structures in the same order."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError

from brainmap.rma.parse import parse_query
from brainmap.store.folder import NotAStore, Store
from brainmap.store.ontology import structure_tree
from brainmap.store.query.run import run_query
from brainmap.store.schema import Gene, SectionDataSet, SectionImage, Structure, StructureGraph
from brainmap.store.writes import OWN_IDS_FROM, database_message, import_session
from postgres import Cluster, NewDatabase


def _tables(url: str) -> list[str]:
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection:
        found = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        return [row[0] for row in found]


def test_what_is_not_a_store_is_refused_in_one_line(postgres: Cluster, tmp_path: Path) -> None:
    empty = postgres.database("empty")
    with pytest.raises(NotAStore, match=r"none of brainmap's tables \(its tables: none\)$"):
        Store.open(tmp_path, empty)
    assert _tables(empty) == []
    foreign = postgres.database("foreign")
    with psycopg.connect(foreign.replace("postgresql+psycopg", "postgresql")) as connection:
        connection.execute("CREATE TABLE invoices (number integer)")
    for make in (Store.open, Store.create):
        with pytest.raises(NotAStore, match=r"its tables: invoices\)$"):
            make(tmp_path, foreign)
    assert _tables(foreign) == ["invoices"]
    assert not (tmp_path / "pyramids").exists()


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/nothing"
    with pytest.raises(NotAStore) as refused:
        Store.open(tmp_path, url)
    message = str(refused.value)
    assert "\n" not in message and "secret" not in message
    assert message.startswith("postgresql+psycopg://someone:***@127.0.0.1:1/nothing is not a")


def test_create_then_open_with_pixels_under_the_root(postgres: Cluster, tmp_path: Path) -> None:
    url = postgres.database("fresh")
    store = Store.create(tmp_path / "root", url)
    with store.session() as db:
        db.add(Gene(id=1, acronym="G1"))
    store.close()
    assert (tmp_path / "root" / "pyramids").is_dir()
    assert not (tmp_path / "root" / "brainmap.sqlite").exists()
    store = Store.open(tmp_path / "root", url)
    assert store.pyramid_path("pyramids/a.tif") == tmp_path / "root" / "pyramids" / "a.tif"
    with store.session() as db:
        assert db.get_one(Gene, 1).acronym == "G1"
    store.close()


def test_ids_are_64_bit(tmp_path: Path, new_database: NewDatabase) -> None:
    store = Store.create(tmp_path, new_database("ids"))
    ids = [OWN_IDS_FROM, 2**63 - 1]
    with store.session() as db:
        db.add_all(Gene(id=gene_id, acronym=f"G{gene_id}") for gene_id in ids)
    with store.session() as db:
        query = parse_query(f"model::Gene,rma::criteria,[id$ge{OWN_IDS_FROM}]")
        assert [record["id"] for record in run_query(db, query).records] == ids
    store.close()


def test_imports_keep_references_to_records_they_do_not_bring(
    tmp_path: Path, new_database: NewDatabase
) -> None:
    store = Store.create(tmp_path, new_database("partial"))
    with import_session(store) as db:
        db.add(SectionDataSet(id=5, failed=False, plane_of_section_id=999, specimen_id=888))
    with store.session() as db:
        data_set = db.get_one(SectionDataSet, 5)
        assert (data_set.plane_of_section_id, data_set.specimen_id) == (999, 888)
    with pytest.raises(IntegrityError) as refused, store.session() as db:
        db.add(SectionImage(id=9, data_set_id=5, path="p", width=1, image_width=1))
    assert database_message(refused.value) == "NOT NULL constraint failed: sub_images.height"
    store.close()


def test_structure_tree_puts_structures_without_graph_order_first(
    tmp_path: Path, new_database: NewDatabase
) -> None:
    store = Store.create(tmp_path, new_database("tree"))
    with store.session() as db:
        db.add(StructureGraph(id=1, name="graph"))
        db.add_all(
            Structure(id=sid, graph_id=1, graph_order=order, acronym=f"S{sid}")
            for sid, order in [(10, 2), (11, None), (12, 1), (13, None)]
        )
    with store.session() as db:
        assert [node["id"] for node in structure_tree(db, 1)] == [11, 13, 12, 10]
    store.close()
