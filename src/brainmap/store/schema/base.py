"""The declarative base every model shares, and what applies to all of them: table names,
the id and kept unknown fields of a record, hidden columns, polymorphic kinds, link tables,
the model catalogue and the upgrade of older stores."""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import JSON, Column, Connection, ForeignKey, Index, MetaData, Table, event, inspect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    declared_attr,
    has_inherited_table,
    mapped_column,
)

from brainmap.store.naming import plural, snake_case

HIDDEN = {"hidden": True}
"""``info`` of brainmap's bookkeeping columns: never in records, never addressable from RMA."""


class Base(DeclarativeBase):
    """Declarative base; the registry doubles as the RMA model catalogue."""

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


@event.listens_for(Base.metadata, "after_create")
def _add_new_columns(metadata: MetaData, connection: Connection, **_: object) -> None:
    """Give an older store the nullable columns newer versions added (such as ``extra``), as
    ``create_all`` gives it their new tables."""
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable and not column.primary_key:
                sql_type = column.type.compile(connection.dialect)
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {sql_type}'
                )


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
