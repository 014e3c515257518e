"""Column types the models declare their columns with, as ``Mapped[...]`` annotations: the
``mapped_column`` of each is given once here."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from sqlalchemy import ForeignKey
from sqlalchemy.orm import mapped_column

flag = Annotated[bool, mapped_column(default=False)]
"""A required boolean that is false unless a record says otherwise."""

# Fields a record may leave null.
str_or_null: TypeAlias = str | None
int_or_null: TypeAlias = int | None
float_or_null: TypeAlias = float | None

organism_fk = Annotated[int | None, mapped_column(ForeignKey("organisms.id"))]
"""``organism_id``, the species of a gene, an age or a donor."""

ontology_fk = Annotated[int | None, mapped_column(ForeignKey("ontologies.id"))]
"""``ontology_id``, the ontology of a structure graph or a structure."""
