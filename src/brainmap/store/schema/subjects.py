"""Who the tissue came from: organisms, their ages, donors and specimens."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brainmap.store.schema.base import Base, Extras


class Organism(Extras, Base):
    """Species (1 human, 2 mouse)."""

    __tablename__ = "organisms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None]


class Specimen(Extras, Base):
    """The tissue a data set was made from."""

    __tablename__ = "specimens"
    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int | None]
    external_specimen_name: Mapped[str | None]
    hemisphere: Mapped[str | None]
    name: Mapped[str | None]
    parent_id: Mapped[int | None]
    structure_id: Mapped[int | None]

    donor: Mapped[Donor | None] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True
    )


class Age(Extras, Base):
    """A developmental age (``P56``, ``E15.5``...) of an organism."""

    __tablename__ = "ages"
    id: Mapped[int] = mapped_column(primary_key=True)
    age_group_id: Mapped[int | None]
    days: Mapped[float | None]
    description: Mapped[str | None]
    embryonic: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str | None]
    organism_id: Mapped[int | None] = mapped_column(ForeignKey("organisms.id"))
    tags: Mapped[str | None]

    organism: Mapped[Organism | None] = relationship()


class Donor(Extras, Base):
    """The animal or person a specimen came from."""

    __tablename__ = "donors"
    id: Mapped[int] = mapped_column(primary_key=True)
    age_id: Mapped[int | None] = mapped_column(ForeignKey("ages.id"))
    name: Mapped[str | None]
    organism_id: Mapped[int | None] = mapped_column(ForeignKey("organisms.id"))
    sex: Mapped[str | None]
    sex_full_name: Mapped[str | None]
    strain: Mapped[str | None]
    transgenic_mouse_id: Mapped[int | None]

    age: Mapped[Age | None] = relationship()
    organism: Mapped[Organism | None] = relationship()
    specimens: Mapped[list[Specimen]] = relationship(
        primaryjoin="foreign(Specimen.donor_id) == Donor.id", viewonly=True, order_by="Specimen.id"
    )
