"""Store folders: opening, refusing what is not a store (without changing it), upgrading older
stores in place, and refusing a database removed or replaced while in use."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from brainmap.store.folder import DATABASE_FILE, NotAStore, Store, StoreUnavailable
from brainmap.store.schema import Gene


def _store(root: Path) -> Path:
    """A real store with one gene, closed (its WAL checkpointed into the file)."""
    store = Store.create(root)
    with store.session() as session:
        session.add(Gene(id=1, acronym="G1"))
    store.close()
    return root / DATABASE_FILE


def _sqlite(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def _write(content: bytes) -> Callable[[Path], None]:
    return lambda db: db.write_bytes(content)


def _truncate(db: Path) -> None:
    _store(db.parent)
    os.truncate(db, db.stat().st_size // 2)


NOT_STORES: list[tuple[str, Callable[[Path], None], str]] = [
    ("empty file", _write(b""), "empty file (0 bytes)"),
    ("text file", _write(b"not a database\n" * 20), "a text file starting 'not a database'"),
    ("html page", _write(b"<!DOCTYPE html>\n<html></html>"), "starting '<!DOCTYPE html>'"),
    ("random bytes", _write(bytes(range(256)) * 40), "no SQLite header"),
    ("header only", lambda db: db.write_bytes(b"SQLite format 3\x00" + b"\x10"), "truncated"),
    ("truncated store", _truncate, "truncated"),
    ("folder", lambda db: db.mkdir(), "not a file"),
    ("no tables", lambda db: _sqlite(db, "VACUUM"), "none of brainmap's tables"),
    ("other schema", lambda db: _sqlite(db, "CREATE TABLE t (a)"), "(its tables: t)"),
    (
        "same table names, other columns",
        lambda db: _sqlite(db, "CREATE TABLE genes (gene_symbol TEXT)"),
        "its table genes lacks the columns id (another schema)",
    ),
]


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file under `root` with its bytes (None for folders)."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("opener", [Store.open, Store.create], ids=["open", "create"])
@pytest.mark.parametrize(
    ("make", "message"), [row[1:] for row in NOT_STORES], ids=[row[0] for row in NOT_STORES]
)
def test_what_is_not_a_store_is_refused_and_left_as_it_was(
    tmp_path: Path, opener: Callable[[Path], Store], make: Callable[[Path], None], message: str
) -> None:
    make(tmp_path / DATABASE_FILE)
    before = _snapshot(tmp_path)
    with pytest.raises(NotAStore, match="is not a brainmap store: ") as refused:
        opener(tmp_path)
    assert message in str(refused.value)
    assert str(refused.value).startswith(str(tmp_path / DATABASE_FILE))
    assert "\n" not in str(refused.value)
    assert _snapshot(tmp_path) == before


def test_open_refuses_a_folder_without_a_database(tmp_path: Path) -> None:
    (tmp_path / "pyramids").mkdir()
    with pytest.raises(NotAStore, match=f"{DATABASE_FILE} is not a brainmap store: no such file"):
        Store.open(tmp_path)
    assert not (tmp_path / DATABASE_FILE).exists()


def test_create_makes_a_new_store_and_reopens_it(tmp_path: Path) -> None:
    _store(tmp_path / "new")
    store = Store.create(tmp_path / "new")
    with store.session() as session:
        assert session.get(Gene, 1) is not None
    store.close()


@pytest.mark.parametrize("change", ["replace", "remove"])
def test_a_database_replaced_or_removed_in_use_is_refused(tmp_path: Path, change: str) -> None:
    db = _store(tmp_path / "a")
    _store(tmp_path / "b")
    store = Store.open(tmp_path / "a")
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM genes")) == 1
    if change == "replace":
        os.replace(tmp_path / "b" / DATABASE_FILE, db)
    else:
        db.unlink()
    refused = pytest.raises(StoreUnavailable, match="removed or replaced since it was opened")
    with refused, store.engine.connect() as connection:
        connection.scalar(text("SELECT count(*) FROM genes"))
    store.close()


@pytest.mark.parametrize("pixels", [None, "elsewhere"])
def test_create_under_a_file_is_refused_in_one_line(tmp_path: Path, pixels: str | None) -> None:
    (tmp_path / "a-file").touch()
    pixel_root = None if pixels is None else str(tmp_path / pixels)
    with pytest.raises(NotAStore, match="is not a brainmap store: cannot be made") as refused:
        Store.create(tmp_path / "a-file" / "store", pixels=pixel_root)
    assert "Not a directory" in str(refused.value)
    assert "\n" not in str(refused.value)
