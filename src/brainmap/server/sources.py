"""Which pixels an image request reads: the SubImage itself or one of its alternates.

Store lookups only; no pixels and no HTTP. Rules (DECISIONS.md, "Pixel pipeline" step 1 and
"Annotation"): ``view=`` / ``expression`` / ``projection`` / ``tumor_feature_*`` pick a mask,
``annotation=true`` picks the label map of ``atlas=`` (default: the lowest atlas id that has
one). Asking for an alternate the image lacks is NotFound naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import ImageExtent
from brainmap.params import ImageRequest
from brainmap.store.schema import (
    EXPRESSION_MASK,
    PROJECTION_MASK,
    TUMOR_FEATURE_ANNOTATION,
    TUMOR_FEATURE_BOUNDARY,
    AlternateImage,
    Atlas,
    SubImage,
)

_MASK_BY_VIEW = {
    "expression": EXPRESSION_MASK,
    "projection": PROJECTION_MASK,
    "tumor_feature_annotation": TUMOR_FEATURE_ANNOTATION,
    "tumor_feature_boundary": TUMOR_FEATURE_BOUNDARY,
}


@dataclass(frozen=True)
class ImageSource:
    """A resolved request: the record's geometry, the pyramid to read, for label maps the
    structure graph whose colours paint them, and whether downsampling must pick pixels
    (label maps and tumour-feature colour blocks are never averaged)."""

    extent: ImageExtent
    path: str
    graph_id: int | None = None
    nearest: bool = False


def requested_views(request: ImageRequest) -> set[str]:
    """Every alternate the request asks for, by view name."""
    views = {request.view} if request.view else set()
    for name in ("expression", "projection", "tumor_feature_annotation", "tumor_feature_boundary"):
        if getattr(request, name):
            views.add(name)
    return views


def resolve_source(session: Session, image_id: int, request: ImageRequest) -> ImageSource:
    """Look up the image and pick its pixels; NotFound or BadParameter explain a refusal."""
    image = session.get(SubImage, image_id)
    if image is None:
        raise NotFound(f"no image with id {image_id}")
    extent = ImageExtent(
        image.x,
        image.y,
        image.width,
        image.height,
        image.image_width,
        image.image_height,
        image.tier_count,
    )
    views = requested_views(request)
    if len(views) > 1 or (views and request.annotation):
        asked = sorted(views | ({"annotation"} if request.annotation else set()))
        raise BadParameter("view", f"choose one alternate image, not {', '.join(asked)}")
    if request.annotation:
        return _annotation_source(session, image, extent, request.atlas)
    if views:
        view = views.pop()
        path = _alternate_path(image, _MASK_BY_VIEW[view])
        return ImageSource(extent, path, nearest=view.startswith("tumor_feature"))
    return ImageSource(extent, image.path)


def _alternate_path(image: SubImage, image_type: str) -> str:
    for alternate in image.alternate_images:
        if alternate.image_type == image_type:
            return alternate.path
    raise NotFound(f"image {image.id} has no {image_type.lower()}")


def _annotation_source(
    session: Session, image: SubImage, extent: ImageExtent, atlas_id: int | None
) -> ImageSource:
    query = (
        select(AlternateImage, Atlas)
        .join(Atlas, AlternateImage.atlas_id == Atlas.id)
        .where(AlternateImage.sub_image_id == image.id)
        .order_by(Atlas.id)
    )
    if atlas_id is not None:
        query = query.where(Atlas.id == atlas_id)
    found = session.execute(query.limit(1)).first()
    if found is None:
        which = f" for atlas {atlas_id}" if atlas_id is not None else ""
        raise NotFound(f"image {image.id} has no annotation{which}")
    alternate, atlas = found
    return ImageSource(extent, alternate.path, atlas.structure_graph_id or 0, nearest=True)
