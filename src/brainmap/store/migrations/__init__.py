"""The store schema's revisions, run by Alembic (`brainmap.store.revisions` drives them): env.py
and one module per revision in versions/, oldest first. A schema change is a new revision: a
module ``rNNNN_<what>.py`` assigning ``revision`` and ``down_revision`` (the revision it follows)
as plain strings, which brainmap reads without importing it, and an ``upgrade()`` that runs on
SQLite and PostgreSQL, spelled out rather than taken from the models (which change later)."""
