"""Schema revisions: stores made by earlier brainmaps (previous_release/, made by their own code)
are refused until `brainmap store upgrade`, which upgrades them in place to answer as before;
the revisions make, on SQLite and PostgreSQL, exactly the schema a new store gets."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.pool import NullPool

from brainmap.cli import main
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store import revisions
from brainmap.store.database_check import StoreFromNewer, StoreOutdated
from brainmap.store.folder import DATABASE_FILE, Store
from loopback import get_json, request
from postgres import NewDatabase

PREVIOUS = Path(__file__).with_name("previous_release")
MADE_BY = {"release-0.1.0": "0001", "commit-4b5fd03": "0002"}
"""Each store in previous_release/ and the schema revision it has."""


def brainmap(*args: object) -> Result:
    """`brainmap ARGS` in-process."""
    return CliRunner().invoke(main, [str(arg) for arg in args])


def copy_of(made_by: str, tmp_path: Path) -> Path:
    """A copy of the store `made_by` made, to upgrade or read (reading a WAL database writes
    beside it, which the tests never do in the source tree)."""
    return Path(shutil.copytree(PREVIOUS / made_by, tmp_path / made_by))


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes, but SQLite's shared-memory index and an empty
    write-ahead log: side files any reader of a WAL database makes, holding no data."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
        and not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


def snapshot(engine: Engine) -> dict[str, Any]:
    """What a database's schema is, as the database reports it: each table's columns (name,
    type, null, default) in order, key, foreign keys, indexes and unique constraints, and on
    PostgreSQL the type of each sequence; the version table left out."""
    with engine.connect() as connection:
        schema = inspect(connection)
        tables = {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in schema.get_columns(table)
                ],
                "key": schema.get_pk_constraint(table)["constrained_columns"],
                "references": sorted(
                    (key["constrained_columns"], key["referred_table"], key["referred_columns"])
                    for key in schema.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (index["name"], index["column_names"], index["unique"])
                    for index in schema.get_indexes(table)
                ),
                "unique": sorted(u["column_names"] for u in schema.get_unique_constraints(table)),
            }
            for table in schema.get_table_names()
            if table != revisions.VERSION_TABLE
        }
        if engine.dialect.name == "postgresql":
            sequences = "SELECT sequence_name, data_type FROM information_schema.sequences"
            tables["(sequences)"] = sorted(map(tuple, connection.execute(text(sequences))))
    return tables


def database_url(new_database: NewDatabase, stem: str, folder: Path) -> str:
    """A new empty database: on PostgreSQL its own, on SQLite a file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return new_database(stem) or f"sqlite:///{folder / DATABASE_FILE}"


def first_release_store(
    new_database: NewDatabase, stem: str, folder: Path
) -> tuple[Engine, str | None]:
    """A new database of revision 0001 as 0.1.0 made it (no version table): its engine, and
    its ``--db`` URL (None for the SQLite file of `folder`)."""
    url = database_url(new_database, stem, folder)
    revisions.upgrade(make_url(url), None, recorded=False, target="0001")
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {revisions.VERSION_TABLE}"))
    return engine, None if url.startswith("sqlite") else url


def upgrade_command(folder: Path, db_url: str | None) -> Result:
    """`brainmap store upgrade` of the store in `folder`, whose database is at `db_url`."""
    return brainmap("store", "upgrade", "--store", folder, *(["--db", db_url] if db_url else []))


def answers(base: str, rows: dict[str, Any], images: dict[str, str]) -> None:
    """The server at `base` gives these RMA rows and image bytes (by SHA-256)."""
    for criteria, expected in rows.items():
        found = get_json(base, "/api/v2/data/query.json", f"criteria={quote(criteria, ':,$')}")
        assert found["msg"] == expected, criteria
    for target, digest in images.items():
        reply = request(base + target)
        assert reply.status == 200, reply.body
        assert hashlib.sha256(reply.body).hexdigest() == digest, target


@pytest.fixture(params=MADE_BY)
def earlier(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    """Which earlier brainmap made a store, and a copy of the store."""
    return request.param, copy_of(request.param, tmp_path)


def test_a_store_of_an_earlier_brainmap_upgrades_in_place_and_answers_as_before(
    earlier: tuple[str, Path], tmp_path: Path
) -> None:
    made_by, folder = earlier
    before = files(folder)
    result = brainmap("store", "upgrade", "--store", folder)
    assert result.exit_code == 0, result.output
    backup = folder / f"{DATABASE_FILE}.before-{MADE_BY[made_by]}"
    assert (
        f"upgraded {folder / DATABASE_FILE} from revision {MADE_BY[made_by]} to "
        f"{revisions.head()}; as it was before: {backup}"
    ) in result.output
    made_file = copy_of(made_by, tmp_path / "as made") / DATABASE_FILE
    with sqlite3.connect(backup) as kept, sqlite3.connect(made_file) as made:
        dump = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        assert kept.execute(dump).fetchall() == made.execute(dump).fetchall()
        assert (
            kept.execute("SELECT * FROM genes").fetchall()
            == made.execute("SELECT * FROM genes").fetchall()
        )
    assert {name: files(folder)[name] for name in before if name != DATABASE_FILE} == {
        name: content for name, content in before.items() if name != DATABASE_FILE
    }
    expected = json.loads((folder / "answers.json").read_text())
    store = Store.open(folder)
    try:
        with BackgroundServer(create_app(store)) as server:
            answers(server.url, expected["rows"], expected["images"])
    finally:
        store.close()


def test_opening_an_earlier_store_before_its_upgrade_is_refused_untouched(
    earlier: tuple[str, Path],
) -> None:
    made_by, folder = earlier
    before = files(folder)
    upgrade = f"run `brainmap store upgrade --store {folder}` first"
    with pytest.raises(StoreOutdated, match=f"revision {MADE_BY[made_by]}, not yet recorded"):
        Store.open(folder)
    served = brainmap("serve", "--store", folder, "--port", 1)
    assert served.exit_code == 2
    assert served.output.strip().splitlines() == [
        f"brainmap: {folder / DATABASE_FILE}: its schema (revision {MADE_BY[made_by]}, not yet "
        f"recorded) is older than this brainmap's ({revisions.head()}); {upgrade}"
    ]
    imported = brainmap("import", "--store", folder, PREVIOUS / "inputs" / "genes.json")
    assert imported.exit_code == 2
    assert upgrade in imported.output
    assert files(folder) == before


def test_upgrading_a_store_up_to_date_changes_nothing(tmp_path: Path) -> None:
    folder = copy_of("release-0.1.0", tmp_path)
    assert brainmap("store", "upgrade", "--store", folder).exit_code == 0
    before = files(folder)
    again = brainmap("store", "upgrade", "--store", folder)
    assert again.exit_code == 0
    assert (
        again.output == f"brainmap: {folder} is already up to date (revision {revisions.head()})\n"
    )
    assert files(folder) == before
    Store.create(tmp_path / "new").close()
    new = brainmap("store", "upgrade", "--store", tmp_path / "new")
    assert new.exit_code == 0 and "already up to date" in new.output


def test_a_backup_already_there_is_never_replaced(tmp_path: Path) -> None:
    folder = copy_of("release-0.1.0", tmp_path)
    (folder / f"{DATABASE_FILE}.before-0001").write_text("an earlier backup")
    before = files(folder)
    result = brainmap("store", "upgrade", "--store", folder)
    assert result.exit_code == 2
    assert (
        f"{DATABASE_FILE}.before-0001 exists (from an earlier upgrade); move it away"
        in result.output
    )
    assert files(folder) == before


def test_a_store_made_by_a_newer_brainmap_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "newer"
    Store.create(folder).close()
    with sqlite3.connect(folder / DATABASE_FILE) as connection:
        connection.execute(f"UPDATE {revisions.VERSION_TABLE} SET version_num = 'f00d'")
    before = files(folder)
    newer = "its schema revision f00d is unknown to this brainmap (made by a newer brainmap)"
    with pytest.raises(StoreFromNewer, match=r"f00d is unknown .* upgrade brainmap to open it$"):
        Store.open(folder)
    for command in (["store", "upgrade"], ["serve", "--port", 1]):
        result = brainmap(*command, "--store", folder)
        assert result.exit_code == 2
        assert newer in result.output
    assert files(folder) == before


def test_revisions_rebuild_the_schema_of_the_stores_made_before_them(tmp_path: Path) -> None:
    for made_by, revision in MADE_BY.items():
        url = f"sqlite:///{tmp_path / revision}.sqlite"
        revisions.upgrade(make_url(url), None, recorded=False, target=revision)
        made = create_engine(f"sqlite:///{copy_of(made_by, tmp_path) / DATABASE_FILE}")
        rebuilt = create_engine(url)
        assert snapshot(rebuilt) == snapshot(made), made_by
        made.dispose()
        rebuilt.dispose()


def test_the_revisions_make_the_schema_of_a_new_store(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    created = Store.create(tmp_path / "a", new_database("created"))
    url = make_url(database_url(new_database, "migrated", tmp_path / "b"))
    revisions.upgrade(url, None, recorded=False)
    migrated = create_engine(url, poolclass=NullPool)
    try:
        assert snapshot(migrated) == snapshot(created.engine)
        with migrated.connect() as connection:
            assert revisions.recorded_revision(connection) == revisions.head()
    finally:
        migrated.dispose()
        created.close()


def test_a_store_of_the_first_release_upgrades_on_each_database(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    """A store of revision 0001 as 0.1.0 made it (no version table) with a record and a link,
    upgraded by the command: the record stays, and the schema is a new store's."""
    folder = tmp_path / "store"
    engine, db_url = first_release_store(new_database, "first", folder)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO genes (id, acronym) VALUES (14, 'Gad1')"))
        flags = "delegate, expression, failed"
        connection.execute(
            text(f"INSERT INTO data_sets (id, type, {flags}) VALUES (7, :kind, :no, :no, :no)"),
            {"kind": "SectionDataSet", "no": False},
        )
        connection.execute(text("INSERT INTO data_sets_genes VALUES (7, 14)"))
    result = upgrade_command(folder, db_url)
    assert result.exit_code == 0, result.output
    assert f"from revision 0001 to {revisions.head()}" in result.output
    store = Store.open(folder, db_url)
    created = Store.create(tmp_path / "new", new_database("new"))
    try:
        assert snapshot(store.engine) == snapshot(created.engine)
        with store.session() as session:
            links = session.execute(text("SELECT data_set_id, gene_id FROM data_sets_genes"))
            assert links.all() == [(7, 14)]
            session.execute(text("INSERT INTO genes (id, acronym) VALUES (1000000000001, 'Big')"))
    finally:
        store.close()
        created.close()
        engine.dispose()


def test_another_schema_without_a_revision_is_not_taken_for_a_release(tmp_path: Path) -> None:
    folder = copy_of("release-0.1.0", tmp_path)
    with sqlite3.connect(folder / DATABASE_FILE) as connection:
        connection.execute("ALTER TABLE genes DROP COLUMN sphinx_id")
    result = brainmap("store", "upgrade", "--store", folder)
    assert result.exit_code == 2
    assert "its tables are those of no brainmap release (another schema)" in result.output
    assert not (folder / f"{DATABASE_FILE}.before-0001").exists()


def test_an_upgrade_that_fails_changes_nothing(new_database: NewDatabase, tmp_path: Path) -> None:
    """A 0.1.0 store holding a table of its own named ``reference_spaces``: revision 0002 fails
    when it creates that table, after the store was recorded as 0001 (and, on PostgreSQL,
    its foreign keys dropped and integers widened), and all of it is undone."""
    folder = tmp_path / "store"
    engine, db_url = first_release_store(new_database, "failing", folder)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE reference_spaces (note TEXT)"))
    before = snapshot(engine)
    result = upgrade_command(folder, db_url)
    assert result.exit_code == 2
    assert "not upgraded, nothing changed (" in result.output
    assert "reference_spaces" in result.output and "already exists" in result.output
    assert snapshot(engine) == before
    assert revisions.VERSION_TABLE not in inspect(engine).get_table_names()
    assert [path.name for path in folder.iterdir()] == ([DATABASE_FILE] if db_url is None else [])
    engine.dispose()


def test_brainmap_reads_the_order_of_the_revisions_as_alembic_runs_them() -> None:
    scripts = ScriptDirectory(str(revisions.MIGRATIONS))
    walked = [script.revision for script in scripts.walk_revisions()]
    assert revisions.order() == tuple(reversed(walked))
    assert scripts.get_heads() == [revisions.head()]


def test_opening_a_store_leaves_alembic_unimported(tmp_path: Path) -> None:
    """Alembic costs a command about 0.4 s to import; only making or upgrading a schema needs
    it, not opening a store."""
    Store.create(tmp_path).close()
    opens = f"import sys; from brainmap.store.folder import Store; Store.open({str(tmp_path)!r})"
    check = f"{opens}; print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    ran = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert ran.stdout == "[]\n"
