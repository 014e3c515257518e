"""The image-sync services (registration.md §4) and brainmap's `reference_to_structure`, computed
from the stored Alignment2d/Alignment3d records by `brainmap.reference.alignment`.

Under /api/v2, each in ``.json`` and ``.xml``, parameters as allensdk's SynchronizationApi sends
them (``x=%f``, ids joined by commas):

* `image_to_reference/{SubImage.id}?x=&y=`: ``{"image_to_reference": {"x": p, "y": i, "z": r}}``
* `reference_to_image/{ReferenceSpace.id}?x=&y=&z=&section_data_set_ids=`,
  `image_to_image/{SubImage.id}?x=&y=&section_data_set_ids=`,
  `image_to_image_2d/{SubImage.id}?x=&y=&section_image_ids=`,
  `structure_to_image/{DataSet.id}?structure_ids=`: a list, one ``{"image_sync": {...}}`` per id
  named (XML ``image-sync-helper-image-syncs``)
* `image_to_atlas/{SubImage.id}?x=&y=&atlas_id=`: one ``{"image_sync": {...}}`` (XML
  ``image-sync``)
* `reference_to_structure/{ReferenceSpace.id}?x=&y=&z=` (µm): the Structure record at that
  point in a list, empty where the label is 0 or the point lies outside the volume.

The envelope is the real services' (``num_rows`` and ``total_rows`` 0, as a real answer shows);
``section_data_set_id`` is written as a string, as the real API does. Refusals are plain text
(docs/rules.md "Registration"): 404 naming the missing record, alignment or reference space, 400
naming a missing or malformed parameter (or a point so far out that its answer is no number),
500 naming a reference volume that cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from brainmap.errors import BadParameter, NotFound
from brainmap.reference import alignment as maths
from brainmap.rma.ast import Filter, Literal, ModelStage
from brainmap.server.formats import (
    FORMATS,
    object_body,
)
from brainmap.server.reference_spaces import ReferenceSpaces, UnreadableVolume, reference_spaces
from brainmap.server.routes.images import record_id as path_id
from brainmap.server.state import server_state
from brainmap.service import MAX_QUERY_STRING
from brainmap.store.alignments import (
    AlignedDataSet,
    AlignedImage,
    aligned_data_set,
    aligned_image,
    atlas_plates,
    data_set_images,
    space_volumes,
    structure_parents,
)
from brainmap.store.folder import Store
from brainmap.store.query.result import QueryResult
from brainmap.store.query.run import run_query

NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
MAX_IDS = 1000
"""Ids one request may list (each is a look-up)."""
FAR_OUT = "so far out that the answer is not a finite number"
SYNC_LIST = "ImageSyncHelperImageSync"
"""The model name whose XML collection is the real ``image-sync-helper-image-syncs``."""

Fields = dict[str, Any]


@dataclass(frozen=True)
class Single:
    """An answer whose ``msg`` is one object: ``{name: fields}``."""

    name: str
    fields: Fields


@dataclass(frozen=True)
class Syncs:
    """An answer whose ``msg`` lists ``{"image_sync": fields}``."""

    items: list[Fields]


Answer = Single | Syncs | QueryResult
Compute = Callable[[Session, "ReferenceSpaces", QueryParams, int], Answer]


def sync_routes() -> list[Route]:
    """The services, to mount under the API prefix."""
    services: dict[str, tuple[str, Compute]] = {
        "image_to_reference": ("image", image_to_reference),
        "reference_to_image": ("reference space", reference_to_image),
        "image_to_image": ("image", image_to_image),
        "image_to_image_2d": ("image", image_to_image_2d),
        "image_to_atlas": ("image", image_to_atlas),
        "structure_to_image": ("data set", structure_to_image),
        "reference_to_structure": ("reference space", reference_to_structure),
    }
    return [
        Route(f"/{name}/{{id}}.{{fmt}}", _endpoint(kind, compute), methods=["GET"])
        for name, (kind, compute) in services.items()
    ]


def _endpoint(kind: str, compute: Compute) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return PlainTextResponse("query string longer than 64 KiB", status_code=414)
        fmt = request.path_params["fmt"]
        if fmt not in ("json", "xml"):
            return PlainTextResponse("unknown format (use json or xml)", status_code=404)
        store = server_state(request.app).store
        spaces = reference_spaces(request.app, store)
        params = request.query_params
        try:
            record_id = path_id(kind, request.path_params["id"])
            body = await anyio.to_thread.run_sync(
                _answer, store, spaces, compute, params, record_id, fmt
            )
        except NotFound as error:
            return PlainTextResponse(str(error), status_code=404)
        except BadParameter as error:
            return PlainTextResponse(str(error), status_code=400)
        except UnreadableVolume as error:
            return PlainTextResponse(str(error), status_code=500)
        return Response(body, media_type=FORMATS[fmt].media_type)

    return endpoint


def _answer(
    store: Store,
    spaces: ReferenceSpaces,
    compute: Compute,
    params: QueryParams,
    record_id: int,
    fmt: str,
) -> bytes:
    # a point far enough out overflows to inf: `finite` refuses the answer, without a warning
    with store.session() as session, np.errstate(over="ignore", invalid="ignore"):
        return write(compute(session, spaces, params, record_id), fmt)


# -- parameters ----------------------------------------------------------------------------


def number(params: QueryParams, name: str) -> float:
    """A finite decimal number parameter; BadParameter when missing, malformed or too large."""
    text = params.get(name)
    if text is None or not text.strip():
        raise BadParameter(name, "missing (a number)")
    if not NUMBER.fullmatch(text.strip()):
        raise BadParameter(name, f"not a number: {text[:40]!r}")
    value = float(text)
    if not np.isfinite(value):
        raise BadParameter(name, f"{text[:40]} does not fit in a 64-bit float")
    return value


def id_list(params: QueryParams, name: str, kind: str) -> list[int]:
    """Comma-separated whole ids; BadParameter when missing, malformed or too many, NotFound
    for an id no record can have."""
    text = params.get(name, "")
    items = [item.strip() for item in text.split(",")] if text.strip() else []
    if not items:
        raise BadParameter(name, "missing (ids separated by commas)")
    if len(items) > MAX_IDS:
        raise BadParameter(name, f"at most {MAX_IDS} ids, not {len(items)}")
    for item in items:
        if not (item.isascii() and item.isdigit()):
            raise BadParameter(name, f"not a whole id: {item[:40]!r}")
    return [path_id(kind, item) for item in items]


def one_id(params: QueryParams, name: str, kind: str) -> int:
    """A single whole id parameter."""
    ids = id_list(params, name, kind)
    if len(ids) != 1:
        raise BadParameter(name, "one id, not a list")
    return ids[0]


def finite(values: np.ndarray, where: str) -> None:
    """Refuse an answer that overflowed (the point given in `where` lies absurdly far out)."""
    if not np.isfinite(values).all():
        raise BadParameter(where, FAR_OUT)


# -- answers -------------------------------------------------------------------------------


def write(answer: Answer, fmt: str) -> bytes:
    """The response body of `answer` in `fmt` ("json" or "xml")."""
    if isinstance(answer, QueryResult):
        return b"".join(FORMATS[fmt].write(answer))
    if isinstance(answer, Syncs):
        if fmt == "xml":
            return b"".join(FORMATS[fmt].write(_result(SYNC_LIST, answer.items)))
        wrapped = [{"image_sync": item} for item in answer.items]
        return b"".join(FORMATS[fmt].write(_result("ImageSync", wrapped)))
    return object_body(answer.name, answer.fields, fmt)


def _result(model: str, records: list[Fields]) -> QueryResult:
    return QueryResult(model, (), 0, 0, 0, iter(records))


def _sync(data_set_id: int, image_id: int, section_number: int, x: float, y: float) -> Fields:
    return {
        "section_data_set_id": str(data_set_id),
        "section_image_id": image_id,
        "section_number": section_number,
        "x": x,
        "y": y,
    }


def _source_point(session: Session, params: QueryParams, image_id: int) -> maths.Points:
    """The reference point (1, 3) of pixel (x, y) of an image."""
    xy = (number(params, "x"), number(params, "y"))
    image = aligned_image(session, image_id)
    data_set = aligned_data_set(session, image.data_set_id)
    pir = maths.image_to_reference(image.alignment, data_set.alignment, xy)
    finite(pir, "x, y")
    return pir


def _nearest(
    data_set: AlignedDataSet, images: Sequence[AlignedImage], pir: maths.Points, where: str
) -> Iterator[Fields]:
    """Per reference point, the nearest image of the data set and the point on it; `where`
    names the parameters the points came from."""
    try:
        found = maths.reference_to_image(data_set.alignment, [i.alignment for i in images], pir)
    except ValueError:  # the point's section number overflowed
        raise BadParameter(where, FAR_OUT) from None
    finite(np.column_stack([found.x, found.y]), where)
    for index, x, y in zip(found.index.tolist(), found.x.tolist(), found.y.tolist(), strict=True):
        image = images[index]
        yield _sync(data_set.id, image.id, image.section_number, x, y)


def _in_data_sets(session: Session, params: QueryParams, pir: maths.Points, where: str) -> Syncs:
    items: list[Fields] = []
    for data_set_id in id_list(params, "section_data_set_ids", "data set"):
        data_set = aligned_data_set(session, data_set_id)
        items.extend(_nearest(data_set, data_set_images(session, data_set_id), pir, where))
    return Syncs(items)


def image_to_reference(
    session: Session, _spaces: ReferenceSpaces, params: QueryParams, image_id: int
) -> Answer:
    """Pixel (x, y) of an image -> µm (p, i, r) in its data set's reference space."""
    p, i, r = _source_point(session, params, image_id)[0].tolist()
    return Single("image_to_reference", {"x": p, "y": i, "z": r})


def reference_to_image(
    session: Session, _spaces: ReferenceSpaces, params: QueryParams, space_id: int
) -> Answer:
    """µm (x=p, y=i, z=r) -> the nearest image of each data set and the point on it."""
    pir = np.array([[number(params, axis) for axis in "xyz"]])
    space_volumes(session, space_id)
    return _in_data_sets(session, params, pir, "x, y, z")


def image_to_image(
    session: Session, _spaces: ReferenceSpaces, params: QueryParams, image_id: int
) -> Answer:
    """Pixel (x, y) of an image -> the nearest image of each data set, via the reference."""
    return _in_data_sets(session, params, _source_point(session, params, image_id), "x, y")


def image_to_image_2d(
    session: Session, _spaces: ReferenceSpaces, params: QueryParams, image_id: int
) -> Answer:
    """Pixel (x, y) of an image -> the point in each image named, by the 2-D alignments only."""
    xy = (number(params, "x"), number(params, "y"))
    source = aligned_image(session, image_id)
    items: list[Fields] = []
    for target_id in id_list(params, "section_image_ids", "image"):
        target = aligned_image(session, target_id)
        x, y = maths.image_to_image_2d(source.alignment, target.alignment, xy)[0].tolist()
        finite(np.array([x, y]), "x, y")
        items.append(_sync(target.data_set_id, target.id, target.section_number, x, y))
    return Syncs(items)


def image_to_atlas(
    session: Session, _spaces: ReferenceSpaces, params: QueryParams, image_id: int
) -> Answer:
    """Pixel (x, y) of an image -> the nearest annotated plate of an atlas, and the point."""
    pir = _source_point(session, params, image_id)
    data_set, plates = atlas_plates(session, one_id(params, "atlas_id", "atlas"))
    found = next(_nearest(data_set, plates, pir, "x, y"))
    del found["section_data_set_id"]
    return Single("image_sync", found)


def structure_to_image(
    session: Session, spaces: ReferenceSpaces, params: QueryParams, data_set_id: int
) -> Answer:
    """Per structure, the image of the data set nearest its centre and the point on it."""
    structure_ids = id_list(params, "structure_ids", "structure")
    data_set = aligned_data_set(session, data_set_id)
    if data_set.reference_space_id is None:
        raise NotFound(f"data set {data_set_id} names no reference space")
    space = space_volumes(session, data_set.reference_space_id)
    parents = structure_parents(session)
    centres = spaces.centres(space, parents)
    for structure in structure_ids:
        if structure not in parents:
            raise NotFound(f"no structure with id {structure}")
        if structure not in centres:
            raise NotFound(
                f"structure {structure} has no voxels in reference space {space.id}'s annotation"
            )
    pir = np.array([centres[structure] for structure in structure_ids])
    images = data_set_images(session, data_set_id)
    return Syncs(list(_nearest(data_set, images, pir, "structure_ids")))


def reference_to_structure(
    session: Session, spaces: ReferenceSpaces, params: QueryParams, space_id: int
) -> Answer:
    """The Structure record labelled at µm (x=p, y=i, z=r), in a list (empty where none)."""
    point = [number(params, axis) for axis in "xyz"]
    label = spaces.label_at(space_volumes(session, space_id), point)
    ids = () if label == 0 else (Literal(str(label)),)
    return run_query(session, (ModelStage("Structure", (Filter("id", "$in", ids),)),))
