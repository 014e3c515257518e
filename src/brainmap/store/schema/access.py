"""Who may read what, for ``brainmap serve --auth`` (docs/deployment.md, "Read tokens"): the
read tokens, kept only as digests, and the data sets anyone may read.

Plain tables, not models: they are brainmap's bookkeeping, never RMA-addressable.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from brainmap.store.schema.base import Base

read_tokens = Table(
    "read_tokens",
    Base.metadata,
    Column("name", String, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created", DateTime, nullable=False),
)
"""One row a token: the operator's `name` for it, the SHA-256 of the token in hex (the token
itself is never stored) and when it was made (UTC, without a zone)."""

public_data_sets = Table(
    "public_data_sets",
    Base.metadata,
    Column("data_set_id", Integer, primary_key=True, autoincrement=False),
)
"""The data sets (``data_sets.id``) anyone may read; with ``--auth`` the rest need a token.
No foreign key: a data set removed and imported again keeps its mark."""
