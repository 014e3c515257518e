"""Which pixels an image request reads: the SubImage itself or one of its alternates.

Store lookups only; no pixels and no HTTP. Rules (docs/rules.md, "Pixel pipeline" step 1 and
"Annotation"): ``view=`` / ``expression`` / ``projection`` / ``tumor_feature_*`` pick a mask,
``annotation=true`` picks the label map of ``atlas=`` (default: the lowest atlas id that has
one). Asking for an alternate the image lacks is NotFound naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import ImageExtent
from brainmap.params import ImageRequest
from brainmap.service import ALTERNATE_BY_VIEW, VIEWS
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    SubImage,
)


@dataclass(frozen=True)
class ImageSource:
    """A resolved request: the record's geometry, the pyramid to read, for label maps the
    structure graph whose colours paint them, whether downsampling must pick pixels (label
    maps and tumour-feature colour blocks are never averaged), and the image's recorded bit
    depth (its scale: `brainmap.service.image_scale`)."""

    extent: ImageExtent
    path: str
    graph_id: int | None = None
    nearest: bool = False
    bits: int | None = None


def requested_views(request: ImageRequest) -> set[str]:
    """Every alternate the request asks for, by view name."""
    views = {request.view} if request.view else set()
    for name in VIEWS:
        if getattr(request, name):
            views.add(name)
    return views


_IMAGE = select(
    SubImage.x,
    SubImage.y,
    SubImage.width,
    SubImage.height,
    SubImage.image_width,
    SubImage.image_height,
    SubImage.tier_count,
    SubImage.path,
    SubImage.bits_per_component,
).where(SubImage.id == bindparam("id"))
_ALTERNATE = (
    select(AlternateImage.path)
    .where(AlternateImage.sub_image_id == bindparam("id"))
    .where(AlternateImage.image_type == bindparam("image_type"))
    .order_by(AlternateImage.id)
    .limit(1)
)
_ANNOTATION = (
    select(AlternateImage.path, Atlas.structure_graph_id)
    .join(Atlas, AlternateImage.atlas_id == Atlas.id)
    .where(AlternateImage.sub_image_id == bindparam("id"))
    .order_by(Atlas.id)
    .limit(1)
)


def resolve_source(session: Session, image_id: int, request: ImageRequest) -> ImageSource:
    """Look up the image and pick its pixels; NotFound or BadParameter explain a refusal.

    Plain column queries (no ORM objects): this runs once per image request."""
    connection = session.connection()
    row = connection.execute(_IMAGE, {"id": image_id}).first()
    if row is None:
        raise NotFound(f"no image with id {image_id}")
    *geometry, path, bits = row
    extent = ImageExtent(*geometry)
    views = requested_views(request)
    if len(views) > 1 or (views and request.annotation):
        asked = sorted(views | ({"annotation"} if request.annotation else set()))
        raise BadParameter("view", f"choose one alternate image, not {', '.join(asked)}")
    if request.annotation:
        return replace(_annotation_source(connection, image_id, extent, request.atlas), bits=bits)
    if views:
        view = views.pop()
        image_type = ALTERNATE_BY_VIEW[view]
        found = connection.execute(_ALTERNATE, {"id": image_id, "image_type": image_type})
        mask = found.scalar()
        if mask is None:
            raise NotFound(f"image {image_id} has no {image_type.lower()}")
        return ImageSource(extent, mask, nearest=view.startswith("tumor_feature"), bits=bits)
    return ImageSource(extent, path, bits=bits)


def _annotation_source(
    connection: Connection, image_id: int, extent: ImageExtent, atlas_id: int | None
) -> ImageSource:
    query = _ANNOTATION if atlas_id is None else _ANNOTATION.where(Atlas.id == atlas_id)
    found = connection.execute(query, {"id": image_id}).first()
    if found is None:
        which = f" for atlas {atlas_id}" if atlas_id is not None else ""
        raise NotFound(f"image {image_id} has no annotation{which}")
    path, graph_id = found
    return ImageSource(extent, path, graph_id or 0, nearest=True)
