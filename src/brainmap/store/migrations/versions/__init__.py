"""One module per schema revision; Alembic reads each by its path, `revision` naming it and
`down_revision` the one it follows."""
