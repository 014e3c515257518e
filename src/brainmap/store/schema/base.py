"""The declarative base every model shares, and what applies to all of them: hidden columns,
kept unknown fields, polymorphic kinds, the model catalogue and the upgrade of older stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Connection, MetaData, event, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HIDDEN = {"hidden": True}
"""``info`` of brainmap's bookkeeping columns: never in records, never addressable from RMA."""


class Base(DeclarativeBase):
    """Declarative base; the registry doubles as the RMA model catalogue."""


class Extras:
    """Fields of an imported or mirrored record that the model does not know, kept so that a
    re-query returns them (merged into the record in alphabetical order)."""

    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=HIDDEN)


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
                kind = column.type.compile(connection.dialect)
                connection.exec_driver_sql(
                    f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'
                )


def model_classes() -> dict[str, type[Base]]:
    """Every RMA-addressable model by its API name (``SectionDataSet``, ``SubImage``...)."""
    return {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
