"""Who the tissue came from: organisms, their ages, donors and specimens."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import Record
from brainmap.store.schema.columns import flag, float_or_null, int_or_null, organism_fk, str_or_null


class Organism(Record):
    """Species (1 human, 2 mouse)."""

    name: Mapped[str_or_null]


class Specimen(Record):
    """The tissue a data set was made from."""

    donor_id: Mapped[int_or_null]
    external_specimen_name: Mapped[str_or_null]
    hemisphere: Mapped[str_or_null]
    name: Mapped[str_or_null]
    parent_id: Mapped[int_or_null]
    structure_id: Mapped[int_or_null]

    donor: Mapped[Donor | None] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True
    )


class Age(Record):
    """A developmental age (``P56``, ``E15.5``...) of an organism."""

    age_group_id: Mapped[int_or_null]
    days: Mapped[float_or_null]
    description: Mapped[str_or_null]
    embryonic: Mapped[flag]
    name: Mapped[str_or_null]
    organism_id: Mapped[organism_fk]
    tags: Mapped[str_or_null]

    organism: Mapped[Organism | None] = relationship()


class Donor(Record):
    """The animal or person a specimen came from."""

    age_id: Mapped[int | None] = mapped_column(ForeignKey("ages.id"))
    name: Mapped[str_or_null]
    organism_id: Mapped[organism_fk]
    sex: Mapped[str_or_null]
    sex_full_name: Mapped[str_or_null]
    strain: Mapped[str_or_null]
    transgenic_mouse_id: Mapped[int_or_null]

    age: Mapped[Age | None] = relationship()
    organism: Mapped[Organism | None] = relationship()
    specimens: Mapped[list[Specimen]] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True, order_by="Specimen.id"
    )
