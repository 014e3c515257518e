"""Alembic's entry point: runs the revisions on the connection `brainmap.store.revisions` passes
in the configuration, inside that connection's transaction (all of them or none)."""

from __future__ import annotations

from alembic import context

from brainmap.store.revisions import VERSION_TABLE

context.configure(
    connection=context.config.attributes["connection"],
    version_table=VERSION_TABLE,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
