"""Revision 0002, what brainmap added before schema changes were revisions: the
``reference_spaces`` table, and the two rules by database (docs/databases.md) on PostgreSQL:
64-bit integers (INTEGER there is 32-bit, short of brainmap's own ids from 10**12) and no
foreign-key constraints. SQLite keeps its foreign keys and INTEGER (64-bit there)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from brainmap.store.migrations.versions.r0001_release_0_1_0 import TABLES

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    """Widen and unlink 0.1.0's tables on PostgreSQL, then add ``reference_spaces``."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        _without_foreign_keys()
        _wide_integers()
    wide = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    references = [sa.ForeignKey("structure_graphs.id")] if sqlite else []
    op.create_table(
        "reference_spaces",
        sa.Column("id", wide, primary_key=True),
        sa.Column("name", sa.String()),
        sa.Column("structure_graph_id", wide, *references),
        *[sa.Column(f"resolution_{axis}", sa.Double()) for axis in "pir"],
        sa.Column("annotation_path", sa.String()),
        sa.Column("template_path", sa.String()),
        sa.Column("extra", sa.JSON()),
    )


def _without_foreign_keys() -> None:
    schema = sa.inspect(op.get_bind())
    for table in TABLES:
        for key in schema.get_foreign_keys(table):
            op.drop_constraint(str(key["name"]), table, type_="foreignkey")


def _wide_integers() -> None:
    """Each INTEGER column BIGINT, in one statement a table (PostgreSQL rewrites the table once),
    and each id's sequence BIGINT too."""
    bind = op.get_bind()
    schema = sa.inspect(bind)
    quote = bind.dialect.identifier_preparer.quote
    for table in TABLES:
        narrow = [c["name"] for c in schema.get_columns(table) if type(c["type"]) is sa.INTEGER]
        changes = ", ".join(f"ALTER COLUMN {quote(name)} TYPE BIGINT" for name in narrow)
        op.execute(f"ALTER TABLE {quote(table)} {changes}")
        if "id" not in narrow:
            continue
        sequence = bind.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": quote(table)}
        ).scalar()
        if sequence is not None:
            op.execute(f"ALTER SEQUENCE {sequence} AS BIGINT")
