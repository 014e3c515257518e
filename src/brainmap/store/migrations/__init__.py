"""The store schema's revisions, run by Alembic (`brainmap.store.revisions` drives them): env.py
and one module per revision in versions/, oldest first. A schema change is a new revision."""
