"""brainmap's extension: the structure at one pixel of an annotated plate.

`GET /api/v2/image_to_structure/{image id}.{json|xml|csv}?x=&y=[&atlas=]` answers in the RMA
envelope with `msg` holding the Structure record whose id is the label at full-resolution pixel
(`x`, `y`) of the image's label map (the atlas `atlas=`, else the lowest atlas id annotating it,
as for `annotation=true`). `msg` is empty where the label is 0 (background), where the point
lies outside the image, or where the store has no record of the label's structure.

Refusals are plain text, as for the image endpoints (docs/rules.md, "Errors"): 404 for an
image or annotation that is not in the store (no id above 2**63 - 1 can be; a mirror's plates
are pictures, not label maps) and for an unknown format; 400 naming `x`, `y` or `atlas` when it
is missing, not a whole number, or does not fit in 64 bits; 500 naming the image and the file
when the label map is missing or damaged, as for the image endpoints. Only the tile holding the
pixel is decoded.
"""

from __future__ import annotations

import re

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.params import LARGEST_ID, ImageRequest
from brainmap.rma.ast import Filter, Literal, ModelStage
from brainmap.server.formats import FORMATS, Format
from brainmap.server.responses import PixelFile, UnreadablePixels, refusal
from brainmap.server.routes.images import image_id as parse_image_id
from brainmap.server.state import ServerState, server_state
from brainmap.store.lookups import resolve_source
from brainmap.store.mirrored import held_levels
from brainmap.store.query.run import run_query

WHOLE = re.compile(r"-?[0-9]+")


def structure_lookup_routes() -> list[Route]:
    """The lookup route, to mount under the API prefix."""
    return [Route("/image_to_structure/{image_id}.{fmt}", image_to_structure, methods=["GET"])]


async def image_to_structure(request: Request) -> Response:
    """The Structure at (x, y) of an image's label map, as a one- or zero-record envelope."""
    form = FORMATS.get(request.path_params["fmt"])
    image_text = request.path_params["image_id"]
    if form is None:
        return PlainTextResponse("unknown format (use json, xml or csv)", status_code=404)
    try:
        image = parse_image_id(image_text)
    except NotFound as error:
        return refusal(error)
    state = server_state(request.app)
    params = request.query_params
    try:
        x, y = _whole("x", params.get("x")), _whole("y", params.get("y"))
        atlas = params.get("atlas")
        atlas_id = None if atlas is None else _whole("atlas", atlas)
        if atlas_id is not None and atlas_id < 0:
            raise BadParameter("atlas", f"must not be negative, got {atlas_id}")
        body = await anyio.to_thread.run_sync(_answer, state, form, image, x, y, atlas_id)
    except (BadParameter, NotFound, UnreadablePixels) as error:
        return refusal(error)
    return Response(body, media_type=form.media_type)


def _whole(name: str, text: str | None) -> int:
    """A whole number that fits in 64 bits, else BadParameter naming it."""
    if text is None:
        raise BadParameter(name, "missing (a whole number of full-resolution pixels)")
    if not WHOLE.fullmatch(text.strip()):
        raise BadParameter(name, f"not a whole number: {text!r}")
    digits = text.strip().lstrip("-").lstrip("0")  # counted first: thousands would not convert
    if len(digits) > len(str(LARGEST_ID)) or abs(int(text)) > LARGEST_ID:
        raise BadParameter(name, f"{text[:40]} does not fit in 64 bits")
    return int(text)


def _answer(
    state: ServerState, form: Format, image_id: int, x: int, y: int, atlas: int | None
) -> bytes:
    """The response body: the envelope around the structure at (x, y), if any."""
    with state.store.session() as session:
        source = resolve_source(session, image_id, ImageRequest(annotation=True, atlas=atlas))
        if held_levels(session, source.path):
            raise NotFound(
                f"image {image_id}: this mirror holds its plates as pictures, not label maps"
            )
        label = _label_at(state, image_id, source.path, x, y)
        ids = () if label == 0 else (Literal(str(label)),)
        stage = ModelStage("Structure", (Filter("id", "$in", ids),))
        return b"".join(form.write(run_query(session, (stage,))))


def _label_at(state: ServerState, image_id: int, path: str, x: int, y: int) -> int:
    """The label at (x, y) of level 0, 0 outside it; only the tile holding it is decoded."""
    labels = PixelFile(image_id, path, state.store.pixels)
    pyramid = labels.open()
    with labels.reading():
        level = pyramid.level_format(0)
        if not (0 <= x < level.width and 0 <= y < level.height):
            return 0
        return int(pyramid.read_region(0, x, y, 1, 1).flat[0])
