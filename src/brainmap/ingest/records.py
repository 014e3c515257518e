"""Allen API records -> store rows: typed, upserted by id, unknown fields kept.

A record's known columns are set (fields it lacks keep their stored values), its unknown fields
go to the hidden ``extra`` column, and each nested include (``products``, ``alignment2d``,
``specimen`` with its own includes...) is upserted as a row of its own and linked where the
association is writable (viewonly ones, such as ``alignment2d``, link through the child's own
foreign key). One import run is one transaction: any unreadable record rolls all of it back.

Foreign keys are not enforced while importing into SQLite: a subset of Allen data names
specimens, planes or structures the store may never hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Mapper, RelationshipProperty, Session

from brainmap.ingest.record_files import RecordFile, RecordFileError, read_record_file
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AtlasDataSet,
    AtlasImage,
    Base,
    DataSet,
    SectionDataSet,
    SectionImage,
    SubImage,
    model_classes,
)
from brainmap.store.serialize import visible_columns
from brainmap.store.writes import import_session

PREFERRED = ("SectionImage", "SectionDataSet")
"""Tie-breaks of shape detection: a SubImage or DataSet record is a section one by default."""
RECORD_TRUE = frozenset({"t", "true", "1"})
RECORD_FALSE = frozenset({"f", "false", "0"})
"""How Allen's XML and CSV records spell a boolean, lower-cased; any other text in a boolean
column is an error (the query parameters' ``yes``/``no`` are not record values)."""


class RecordError(ValueError):
    """A value that does not fit its column."""


def detect_model(record: Mapping[str, Any]) -> str:
    """The model whose columns and associations cover most of the record's keys."""
    keys = set(record)

    def score(item: tuple[str, type[Base]]) -> tuple[int, bool, str]:
        name, model = item
        known = set(visible_columns(model)) | set(inspect(model).relationships.keys())
        return len(keys & known), name in PREFERRED, name

    name, model = max(model_classes().items(), key=score)
    if "id" not in visible_columns(model) or "id" not in keys:
        raise RecordError("has no id or matches no model; name one with --model")
    return name


def typed(column_type: type, value: Any, textual: bool) -> Any:
    """`value` as the column's Python type; text from XML/CSV is parsed."""
    if value is None or (textual and value == ""):
        return None
    if column_type is bool:
        if isinstance(value, bool):
            return value
        if textual and str(value).lower() in RECORD_TRUE | RECORD_FALSE:
            return str(value).lower() in RECORD_TRUE
    elif column_type is dt.datetime:
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return parsed
    elif column_type is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if textual:
            return int(value)
    elif column_type is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if textual:
            return float(value)
    elif column_type is str:
        return value if isinstance(value, str) else str(value)
    raise RecordError(f"expected {column_type.__name__}, got {value!r}")


class Importer:
    """Upserts records within one session, each row once (a product included by many data
    sets is one row)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[type[Base], Any], Base] = {}

    def upsert(self, model: type[Base], record: Mapping[str, Any], textual: bool) -> Base:
        """The row for `record` (created or updated) with its nested includes."""
        mapper: Mapper[Any] = inspect(model)
        columns = {prop.key: prop for prop in mapper.column_attrs}
        visible = set(visible_columns(model))
        values, extra, nested = {}, {}, {}
        for key, value in record.items():
            if key in visible:
                column_type = columns[key].columns[0].type.python_type
                try:
                    values[key] = typed(column_type, value, textual)
                except (RecordError, ValueError) as error:
                    raise RecordError(f"field {key}: {error}") from None
            elif key in mapper.relationships:
                nested[key] = value
            else:
                extra[key] = value
        row = self._row(model, values)
        for key, value in values.items():
            setattr(row, key, value)
        if extra:
            row.extra = {**(row.extra or {}), **extra}  # type: ignore[attr-defined]
        for key, value in nested.items():
            self._link(row, mapper.relationships[key], value, textual)
        return row

    def _row(self, model: type[Base], values: Mapping[str, Any]) -> Base:
        if values.get("id") is None:
            raise RecordError("has no id")
        base = inspect(model).base_mapper.class_
        key = (base, values["id"])
        row = self.rows.get(key) or self.session.get(base, values["id"])
        if row is None:
            row = model()
            self.session.add(row)
        self.rows[key] = row
        return row

    def _link(
        self, row: Base, relation: RelationshipProperty[Any], value: Any, textual: bool
    ) -> None:
        target = _concrete(relation.mapper.class_, type(row))
        if relation.uselist:
            items = [] if value in (None, "") else value
            if not isinstance(items, list):
                raise RecordError(f"{relation.key}: expected a list")
            children = [self._child(target, relation.key, item, textual) for item in items]
            if not relation.viewonly:
                collection = getattr(row, relation.key)
                collection.extend(child for child in children if child not in collection)
        elif value not in (None, ""):
            child = self._child(target, relation.key, value, textual)
            if not relation.viewonly:
                setattr(row, relation.key, child)

    def _child(self, target: type[Base], key: str, value: Any, textual: bool) -> Base:
        if not isinstance(value, Mapping):
            raise RecordError(f"{key}: expected a record")
        try:
            return self.upsert(target, value, textual)
        except RecordError as error:
            raise RecordError(f"{key} {value.get('id')}: {error}") from None


def _concrete(target: type[Base], owner: type[Base]) -> type[Base]:
    """A polymorphic base reached through an association, as the owner's kind implies."""
    atlas = issubclass(owner, AtlasImage | AtlasDataSet)
    if target is SubImage:
        return AtlasImage if atlas else SectionImage
    if target is DataSet:
        return AtlasDataSet if atlas else SectionDataSet
    return target


def import_records(importer: Importer, source: RecordFile) -> int:
    """Upsert the records of one parsed file; errors name the file and the record."""
    models = model_classes()
    for index, record in enumerate(source.records):
        try:
            name = source.model or detect_model(record)
            if name not in models:
                raise RecordError(f"unknown model {name!r}")
            importer.upsert(models[name], record, source.textual)
            importer.session.flush()
        except (RecordError, StatementError) as error:
            reason = str(error.orig) if isinstance(error, StatementError) else str(error)
            ident = record.get("id")
            label = index if ident is None else f"{index} (id {ident})"
            raise RecordFileError(source.path, reason, label) from None
    return len(source.records)


def import_files(store: Store, paths: Iterable[Path], model: str | None = None) -> int:
    """Import every file in one transaction (all or nothing); the number of top-level records."""
    parsed = [read_record_file(Path(path), model) for path in paths]
    with import_session(store) as session:
        importer = Importer(session)
        return sum(import_records(importer, source) for source in parsed)
