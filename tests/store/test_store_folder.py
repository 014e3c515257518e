"""Store folders: opening, refusing non-stores, and upgrading older stores in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from brainmap.store.folder import DATABASE_FILE, Store


def test_open_refuses_a_folder_without_a_database(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no brainmap store"):
        Store.open(tmp_path)


def test_open_adds_tables_a_newer_version_defines(tmp_path: Path) -> None:
    Store.create(tmp_path).close()
    with sqlite3.connect(tmp_path / DATABASE_FILE) as connection:
        connection.execute("DROP TABLE structure_sets_structures")
        connection.execute("DROP TABLE structure_sets")
    store = Store.open(tmp_path)
    assert {"structure_sets", "structure_sets_structures"} <= set(
        inspect(store.engine).get_table_names()
    )
    store.close()
