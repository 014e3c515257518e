"""Allen API records -> store rows: typed, upserted by id, unknown fields kept.

Every file is read and every record planned (`brainmap.ingest.record_plan`: typed and checked)
before the store is touched; then all of them are written in one transaction, which any
record the database refuses rolls back. A record's known columns are set (fields it lacks keep
their stored values), its unknown fields go to the hidden ``extra`` column, and each nested
include (``products``, ``alignment2d``, ``specimen`` with its own includes...) is upserted as a
row of its own and linked: through the association where it is writable, else through the
child's foreign key or the writable association on the other side.

Foreign keys are not enforced while importing into SQLite: a subset of Allen data names
specimens, planes or structures the store may never hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import RelationshipProperty, Session

from brainmap.ingest.record_files import RecordFile, RecordFileError, read_record_file
from brainmap.ingest.record_plan import Planned, RecordError, model_of, plan
from brainmap.store.folder import Store
from brainmap.store.schema import Base
from brainmap.store.writes import database_message, import_session


class Importer:
    """Writes planned records within one session, each row once (a product included by many
    data sets is one row)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[type[Base], Any], Base] = {}

    def upsert(self, model: type[Base], record: Mapping[str, Any], textual: bool) -> Base:
        """The row for `record` (created or updated) with its nested includes."""
        return self.write(plan(model, record, textual))

    def write(self, planned: Planned) -> Base:
        """The row of a planned record (created or updated) with its nested includes."""
        row = self._row(planned.model, planned.values["id"])
        for key, value in planned.values.items():
            setattr(row, key, value)
        if planned.extra:
            row.extra = {**(row.extra or {}), **planned.extra}  # type: ignore[attr-defined]
        for relation, children in planned.links:
            self._link(row, relation, [self.write(child) for child in children])
        return row

    @staticmethod
    def _link(row: Base, relation: RelationshipProperty[Any], children: list[Base]) -> None:
        """Tie written includes to their owner where an association (or its reverse) writes."""
        if relation.viewonly and relation.secondary is not None and relation.back_populates:
            for child in children:
                owners = getattr(child, relation.back_populates)
                if row not in owners:
                    owners.append(row)
        elif relation.viewonly:
            return  # the child's own foreign key, set when planned, links it
        elif relation.uselist:
            collection = getattr(row, relation.key)
            collection.extend(child for child in children if child not in collection)
        elif children:
            setattr(row, relation.key, children[0])

    def _row(self, model: type[Base], ident: Any) -> Base:
        base = inspect(model).base_mapper.class_
        key = (base, ident)
        row = self.rows.get(key) or self.session.get(base, ident)
        if row is None:
            row = model()
            self.session.add(row)
        self.rows[key] = row
        return row


@dataclass(frozen=True)
class PlannedFile:
    """A file's records, planned, each with the label errors give it."""

    path: Path
    records: list[tuple[str, Planned]]


def _label(index: int, record: Mapping[str, Any]) -> str:
    ident = record.get("id")
    return f"{index}" if ident is None else f"{index} (id {ident})"


def plan_file(source: RecordFile) -> PlannedFile:
    """Every record of a parsed file typed and checked; errors name the file and the record."""
    planned = []
    for index, record in enumerate(source.records):
        try:
            model = model_of(source.model, record)
            planned.append((_label(index, record), plan(model, record, source.textual)))
        except (RecordError, ValueError) as error:
            raise RecordFileError(source.path, str(error), _label(index, record)) from None
    return PlannedFile(source.path, planned)


def read_files(paths: Iterable[Path], model: str | None = None) -> list[PlannedFile]:
    """Every file read and every record planned; nothing is written."""
    return [plan_file(read_record_file(Path(path), model)) for path in paths]


def write_files(store: Store, files: list[PlannedFile]) -> int:
    """Write planned files in one transaction (all or nothing); the number of top-level
    records."""
    with import_session(store) as session:
        importer = Importer(session)
        for source in files:
            for label, planned in source.records:
                try:
                    importer.write(planned)
                    session.flush()
                except StatementError as error:
                    raise RecordFileError(source.path, database_message(error), label) from None
    return sum(len(source.records) for source in files)


def import_files(store: Store, paths: Iterable[Path], model: str | None = None) -> int:
    """Import every file (all or nothing); the number of top-level records."""
    return write_files(store, read_files(paths, model))
