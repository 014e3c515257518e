"""Revision 0003: who may read a store served with ``serve --auth`` (docs/deployment.md, "Read
tokens"): ``read_tokens`` (a name, the SHA-256 of the token, when it was made) and
``public_data_sets``. Both start empty: an upgraded store has no tokens and no public data set,
which changes nothing until it is served with ``--auth``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """Add the two tables (64-bit ids on PostgreSQL, as every brainmap id there)."""
    op.create_table(
        "read_tokens",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "public_data_sets",
        sa.Column(
            "data_set_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
    )
