"""The SVG drawing of an annotated image: `/svg/{id}` inline and `/svg_download/{id}` as a file.

`GET /api/v2/svg/{image id}[?groups=g1,g2][&structure=s1,s2]` answers ``image/svg+xml``: the
outlines of every structure region of the image's label map (docs/svg.md), one ``<g>`` per
atlas drawing it. ``groups=`` names GraphicGroupLabel ids: the atlases linked to any of them
are drawn (none of the image's: an empty drawing); without it, every atlas annotating the image.
``structure=`` highlights as the JPEG plate does. `svg_download` answers the same drawing as an
attachment ``{id}.svg``.

Refusals are plain text, as for the image endpoints: 404 for an image that is not in the store,
has no annotation, or whose plates a mirror holds as pictures; 400 naming ``groups`` or
``structure`` when malformed, and ``groups`` naming an id no GraphicGroupLabel has; 500 naming
the image and the file when a label map is missing or damaged. Outlines are traced once per
version of a label map file and kept (`OutlineCache`); drawings carry a strong ETag and are
kept in the state's response cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import anyio
from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from brainmap import events
from brainmap.errors import BadParameter, NotFound
from brainmap.imaging.outlines import Layer, Region, plan_tracing, svg_document, trace_regions
from brainmap.params import LARGEST_ID, ImageRequest
from brainmap.pyramid.pages import PagedPyramid
from brainmap.server.palettes import PlateColours
from brainmap.server.responses import (
    CACHE_CONTROL,
    PixelFile,
    UnreadablePixels,
    etag_matches,
    refusal,
)
from brainmap.server.routes.images import image_id as parse_image_id
from brainmap.server.state import ServerState, server_state
from brainmap.store.mirrored import held_levels
from brainmap.store.schema import AlternateImage, Atlas, GraphicGroupLabel, SubImage
from brainmap.store.schema.ontology import atlases_graphic_group_labels

MEDIA_TYPE = "image/svg+xml"
SVG_VERSION = "1"
"""Part of every ETag: bump it when the drawing's output changes."""
OUTLINE_BYTES = 64 * 1024 * 1024
"""Vertices kept by the outline cache, in bytes (a plate of the 25 µm atlas: tens of KiB)."""

PyramidVersion = tuple[str | int, ...]
"""A pyramid as opened (`PagedPyramid.identity`): traced regions are kept by it."""


def svg_routes() -> list[Route]:
    """The two SVG routes, to mount under the API prefix."""
    return [
        Route("/svg/{image_id}", partial(_svg, download=False), methods=["GET"]),
        Route("/svg_download/{image_id}", partial(_svg, download=True), methods=["GET"]),
    ]


class OutlineCache:
    """Traced regions by version of a label map file, bounded by their vertices' bytes; used
    from worker threads. A map is traced by one thread at a time: others asking for it wait for
    its regions instead of tracing it again (each tracing holds the map's level in memory)."""

    def __init__(self, capacity: int) -> None:
        self._lock = threading.Lock()
        self._regions: LRUCache[PyramidVersion, tuple[Region, ...]] = LRUCache(
            capacity, getsizeof=_region_bytes
        )
        self._tracing: dict[PyramidVersion, threading.Lock] = {}

    def regions(self, labels: PixelFile) -> tuple[int, int, tuple[Region, ...]]:
        """The full-resolution size of a label map and its regions, traced the first time."""
        pyramid = labels.open()
        with labels.reading():
            width, height = pyramid.width, pyramid.height
            identity = pyramid.identity
            regions = self._kept(identity)
            if regions is None:
                with self._lock:
                    tracing = self._tracing.setdefault(identity, threading.Lock())
                with tracing:  # one thread traces; those that waited find its regions kept
                    regions = self._kept(identity)
                    if regions is None:
                        regions = self._trace(labels, pyramid)
        return width, height, regions

    def _trace(self, labels: PixelFile, pyramid: PagedPyramid) -> tuple[Region, ...]:
        """Trace the map and keep its regions (unless larger than the whole cache)."""
        try:
            regions = _trace_file(labels, pyramid)
            with self._lock:
                if _region_bytes(regions) <= self._regions.maxsize:
                    self._regions[pyramid.identity] = regions
        finally:
            with self._lock:
                self._tracing.pop(pyramid.identity, None)
        return regions

    def _kept(self, identity: PyramidVersion) -> tuple[Region, ...] | None:
        with self._lock:
            return self._regions.get(identity)


def _trace_file(labels: PixelFile, pyramid: PagedPyramid) -> tuple[Region, ...]:
    """Every region of a label map, read at the level its plan picks."""
    sizes = [pyramid.level_format(index) for index in range(pyramid.levels)]
    plan = plan_tracing([(level.width, level.height) for level in sizes])
    level = sizes[plan.level]
    if level.bands != 1 or level.dtype.kind != "u" or level.dtype.itemsize > 4:
        reason = f"is not a label map ({level.bands} bands of {level.dtype})"
        raise UnreadablePixels(labels.image_id, labels.name, reason)
    pixels = pyramid.read_region(plan.level, 0, 0, level.width, level.height)
    return tuple(trace_regions(pixels[:, :, 0], plan, (sizes[0].width, sizes[0].height)))


def _region_bytes(regions: tuple[Region, ...]) -> int:
    return sum(ring.nbytes for region in regions for ring in region.rings) + 1


_OUTLINES = OutlineCache(OUTLINE_BYTES)


@dataclass(frozen=True)
class Drawing:
    """One atlas's drawing of the image: its label map file and colours."""

    atlas_id: int
    groups: tuple[int, ...]
    labels: PixelFile
    colours: PlateColours


@dataclass(frozen=True)
class PreparedSvg:
    """A planned answer: its validator and how to draw it (only when not cached nor a 304)."""

    etag: str
    draw: Callable[[], bytes]


async def _svg(request: Request, *, download: bool) -> Response:
    """The drawing of the image in the path, inline or as an attachment."""
    text = request.path_params["image_id"]
    headers = {"Cache-Control": CACHE_CONTROL}
    state = server_state(request.app)
    try:
        image = parse_image_id(text)
        groups = _ids("groups", request.query_params.get("groups"))
        structure = request.query_params.get("structure")
        highlight = (
            None if structure is None else ImageRequest.parse([("structure", structure)]).structure
        )
        prepared = await anyio.to_thread.run_sync(_prepare, state, image, groups, highlight)
        headers["ETag"] = prepared.etag
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{image}.svg"'
        if etag_matches(request.headers.get("if-none-match"), prepared.etag):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(media_type=MEDIA_TYPE, headers=headers)
        body = state.responses.get(prepared.etag)
        if body is None:
            body = await anyio.to_thread.run_sync(
                _timed, prepared.draw, limiter=state.render_limiter
            )
            state.responses.keep(prepared.etag, body)
    except (BadParameter, NotFound, UnreadablePixels) as error:
        return refusal(error)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _ids(name: str, text: str | None) -> tuple[int, ...] | None:
    """A comma-separated list of ids, None when absent; BadParameter naming `name` otherwise."""
    if text is None:
        return None
    items = text.split(",")
    if not all(item.strip().isascii() and item.strip().isdigit() for item in items):
        raise BadParameter(name, f"not a comma-separated list of ids: {text[:80]!r}")
    # digits counted before converting: thousands of them would not convert
    longest = len(str(LARGEST_ID))
    if any(len(item.strip().lstrip("0")) > longest or int(item) > LARGEST_ID for item in items):
        raise BadParameter(name, f"ids are at most {LARGEST_ID}")
    return tuple(dict.fromkeys(int(item) for item in items))


def _prepare(
    state: ServerState,
    image_id: int,
    groups: tuple[int, ...] | None,
    highlight: tuple[int, ...] | None,
) -> PreparedSvg:
    """Look the image's drawings up (NotFound, BadParameter) and the ETag naming this answer."""
    with state.store.session() as session:
        size, drawings = _drawings(state, session, image_id, groups, highlight)
    identity = [SVG_VERSION, str(image_id), repr(groups), repr(highlight)]
    for drawing in drawings:
        identity += [str(drawing.atlas_id), drawing.labels.name, drawing.colours.digest]
        identity += drawing.labels.version()
    etag = '"' + hashlib.sha1("\n".join(identity).encode()).hexdigest() + '"'
    return PreparedSvg(etag, partial(_draw, size, drawings))


def _drawings(
    state: ServerState,
    session: Session,
    image_id: int,
    groups: tuple[int, ...] | None,
    highlight: tuple[int, ...] | None,
) -> tuple[tuple[int, int], list[Drawing]]:
    """The image's full-resolution size, and the atlases drawing it that `groups` selects, in
    atlas order, with their label maps and colours."""
    image = session.get(SubImage, image_id)
    if image is None:
        raise NotFound(f"no image with id {image_id}")
    annotations = session.execute(
        select(Atlas.id, Atlas.structure_graph_id, AlternateImage.path)
        .join(AlternateImage, AlternateImage.atlas_id == Atlas.id)
        .where(AlternateImage.sub_image_id == image_id)
        .order_by(Atlas.id, AlternateImage.id)
    ).all()
    if not annotations:
        raise NotFound(f"image {image_id} has no annotation")
    links = session.execute(
        select(
            atlases_graphic_group_labels.c.atlas_id,
            atlases_graphic_group_labels.c.graphic_group_label_id,
        ).where(atlases_graphic_group_labels.c.atlas_id.in_({row.id for row in annotations}))
    ).all()
    if groups is not None:
        known = set(
            session.scalars(select(GraphicGroupLabel.id).where(GraphicGroupLabel.id.in_(groups)))
        )
        unknown = [group for group in groups if group not in known]
        if unknown:
            raise BadParameter("groups", f"no GraphicGroupLabel with id {unknown[0]}")
    first: dict[int, tuple[int | None, str]] = {}  # an atlas's first label map, as for the JPEG
    for atlas_id, graph_id, path in annotations:
        first.setdefault(atlas_id, (graph_id, path))
    drawings: list[Drawing] = []
    for atlas_id, (graph_id, path) in first.items():
        atlas_groups = tuple(sorted(group for atlas, group in links if atlas == atlas_id))
        if groups is not None and not set(groups) & set(atlas_groups):
            continue
        if held_levels(session, path):
            raise NotFound(
                f"image {image_id}: this mirror holds its plates as pictures, not label maps"
            )
        labels = PixelFile(image_id, path, state.store.pixels)
        colours = state.palettes.colours(session, graph_id or 0, highlight)
        drawings.append(Drawing(atlas_id, atlas_groups, labels, colours))
    return (image.image_width, image.image_height), drawings


def _timed(draw: Callable[[], bytes]) -> bytes:
    """`draw`'s document, its time reported as an SVG render (`brainmap.events`)."""
    with events.rendering(MEDIA_TYPE):
        return draw()


def _draw(size: tuple[int, int], drawings: list[Drawing]) -> bytes:
    """The SVG document of the drawings, as large as their label maps (an empty one of the
    image's `size` when there are none)."""
    layers = []
    for drawing in drawings:
        width, height, regions = _OUTLINES.regions(drawing.labels)
        size = (width, height)
        colours = drawing.colours
        shown = colours.graph.with_descendants(colours.highlight) if colours.highlight else None
        attributes = {"id": f"atlas-{drawing.atlas_id}", "atlas_id": str(drawing.atlas_id)}
        if drawing.groups:
            attributes["graphic_group_label_ids"] = ",".join(map(str, drawing.groups))
        layers.append(Layer(regions, colours.graph.colours, shown, attributes))
    return svg_document(*size, layers)
