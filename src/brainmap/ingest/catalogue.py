"""Where an ingested data set shows in the viewer's catalogue: its product and its plane.

The catalogue lists products, then a product's data sets (``products[id$eq...]``), so every
ingested data set is linked to a product: one named by ``--product`` (an existing id, an
existing name, or a new name), or by default the product named ``lab``, made once and reused.

Planes of section are the store's, or one of the public API's planes (made with its real id
the first time one is used), or ``horizontal``: not in the public list, brainmap gives it
id 3, an id the public list leaves free.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brainmap.ingest.errors import IngestNotFound, IngestUsageError
from brainmap.store.schema import DataSet, PlaneOfSection, Product
from brainmap.store.writes import next_id

LAB_PRODUCT = "lab"
# The public API's PlaneOfSection model (id, name, plane_of_section_name_facet), and brainmap's
# horizontal plane.
PUBLIC_PLANES: tuple[tuple[int, str, int | None], ...] = (
    (1, "coronal", 1147990476),
    (2, "sagittal", 1688773703),
    (3, "horizontal", None),
    (4, "variable", 3427633037),
    (5, "n/a", 2510378651),
    (6, "transverse", 2631294903),
    (7, "Lateral to Medial", 747065265),
    (8, "Medial to Lateral", 4250393088),
    (9, "Ventral to Dorsal", 208084445),
    (10, "Dorsal to Ventral", 545617908),
    (11, "Coronal (Caudal to Rostral)", 3139629262),
    (531107579, "Coronal (Rostral to Caudal)", 3002386619),
)


@dataclass(frozen=True)
class Choice:
    """A product or plane ingest links to: an existing row (`exists`) or one it will add."""

    id: int | None
    name: str
    exists: bool
    facet: int | None = None


def _product_by_name(session: Session | None, name: str) -> Product | None:
    if session is None:
        return None
    return session.scalars(
        select(Product).where(func.lower(Product.name) == name.lower()).order_by(Product.id)
    ).first()


def choose_product(session: Session | None, given: str | None) -> Choice:
    """The product `given` names (id or name; default ``lab``); `session` None: no store yet."""
    name = given if given is not None else LAB_PRODUCT
    if name.strip().isdigit():
        found = session.get(Product, int(name)) if session is not None else None
        if found is None:
            raise IngestNotFound(
                f"--product {name}: no product with that id (give a name to make a new one)"
            )
        return Choice(found.id, found.name or f"Product {found.id}", True)
    if not name.strip():
        raise IngestUsageError("--product: give a product id or name")
    by_name = _product_by_name(session, name.strip())
    if by_name is not None:
        return Choice(by_name.id, by_name.name or name, True)
    return Choice(None, name.strip(), False)


def choose_plane(session: Session | None, given: str | None) -> Choice | None:
    """The plane of section `given` names (id or name, any case); None when not given."""
    if given is None:
        return None
    wanted = given.strip().lower()
    stored = list(session.scalars(select(PlaneOfSection))) if session is not None else []
    for row in stored:
        if wanted in (str(row.id), (row.name or "").lower()):
            return Choice(row.id, row.name or str(row.id), True)
    for plane_id, name, facet in PUBLIC_PLANES:
        if wanted in (str(plane_id), name.lower()):
            return Choice(plane_id, name, False, facet)
    known = sorted({name for _, name, _ in PUBLIC_PLANES} | {r.name for r in stored if r.name})
    raise IngestUsageError(f"--plane {given}: not a plane of section; one of: {', '.join(known)}")


def link(session: Session, data_set: DataSet, product: str | None, plane: str | None) -> Product:
    """Link the data set to the product and plane given (adding them when new); the product.
    Names are looked up again here, inside the transaction that writes."""
    chosen = choose_product(session, product)
    row = session.get(Product, chosen.id) if chosen.id is not None else None
    if row is None:
        row = Product(id=next_id(session, Product.id), name=chosen.name)
        row.description = "images ingested with brainmap ingest"
        session.add(row)
    if row not in data_set.products:
        data_set.products.append(row)
    plane_choice = choose_plane(session, plane)
    if plane_choice is not None:
        if not plane_choice.exists:
            session.add(
                PlaneOfSection(
                    id=plane_choice.id,
                    name=plane_choice.name,
                    plane_of_section_name_facet=plane_choice.facet,
                )
            )
        data_set.plane_of_section_id = plane_choice.id
    session.flush()
    return row
