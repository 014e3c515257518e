"""The declarative base every model shares, and what applies to all of them: table names,
the id and kept unknown fields of a record, hidden columns, polymorphic kinds, link tables,
the two table rules that depend on the database, and the model catalogue."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Table,
    event,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    declared_attr,
    has_inherited_table,
    mapped_column,
)
from sqlalchemy.sql.schema import SchemaItem

from brainmap.store.naming import plural, snake_case

HIDDEN = {"hidden": True}
"""``info`` of brainmap's bookkeeping columns: never in records, never addressable from RMA."""


WIDE = BigInteger().with_variant(Integer(), "sqlite")
"""Integers are 64-bit everywhere: SQLite's are; PostgreSQL's INTEGER is 32-bit, short of
brainmap's own ids from 10**12. SQLite keeps its INTEGER primary keys (row ids)."""


class Base(DeclarativeBase):
    """Declarative base; the registry doubles as the RMA model catalogue. A model's ``int``
    column is `WIDE`, as is a column given a plain ``Integer`` (`_wide_integer`)."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {int: WIDE}

    @declared_attr.directive
    @classmethod
    def __tablename__(cls) -> str | None:
        """The API's collection name (``SubImage``: ``sub_images``); none for a model kind,
        which keeps the table of its base."""
        return None if has_inherited_table(cls) else plural(snake_case(cls.__name__))


class Record(Base):
    """A model of API records: its integer ``id`` (first column) and, as its last column, the
    fields of an imported or mirrored record that the model does not know, kept so that a
    re-query returns them (merged into the record in alphabetical order)."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=HIDDEN)


kind = Annotated[str, mapped_column(info=HIDDEN)]
"""The hidden ``type`` column naming the kind of a polymorphic model's row."""


def polymorphic(identity: str, discriminator: str | None = None) -> dict[str, Any]:
    """``__mapper_args__`` of the model kind `identity`; the base of the kinds also names its
    `discriminator` column."""
    if discriminator is None:
        return {"polymorphic_identity": identity}
    return {"polymorphic_on": discriminator, "polymorphic_identity": identity}


@event.listens_for(Column, "after_parent_attach")
def _wide_integer(column: Column[Any], table: SchemaItem) -> None:
    """A table column declared ``Integer`` is `WIDE` (docs/databases.md, the rules by
    database); one typed by its foreign key takes the type of the column it refers to."""
    if _ours(table) and type(column.type) is Integer:
        column.type = WIDE


@event.listens_for(ForeignKeyConstraint, "after_parent_attach")
def _sqlite_only(constraint: ForeignKeyConstraint, table: SchemaItem) -> None:
    """A model's foreign-key constraints exist on SQLite only, where an import switches them
    off for its connection (a subset of Allen data names records the store may never hold);
    PostgreSQL cannot without superuser rights."""
    if _ours(table):
        constraint.ddl_if(dialect="sqlite")


def _ours(table: SchemaItem) -> bool:
    return isinstance(table, Table) and table.metadata is Base.metadata


def link_table(*indexes: Index, **targets: str) -> Table:
    """Association table whose primary key is its columns, each (keyword) a foreign key to its
    target (value, such as ``"data_sets.id"``), named after the target tables in order."""
    name = "_".join(target.partition(".")[0] for target in targets.values())
    columns: list[Column[Any]] = [
        Column(column, ForeignKey(to), primary_key=True) for column, to in targets.items()
    ]
    return Table(name, Base.metadata, *columns, *indexes)


def model_classes() -> dict[str, type[Base]]:
    """Every RMA-addressable model by its API name (``SectionDataSet``, ``SubImage``...)."""
    return {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
