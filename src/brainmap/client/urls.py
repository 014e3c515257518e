"""Every URL the client sends, as pure functions of the server's base URL: endpoints, image
downloads, RMA queries (the seed queries among them) and the quoting applied before sending.
Byte for byte what allensdk builds and sends."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from brainmap.client.rma_stages import (
    ALL,
    StageOptions,
    as_d,
    model_stage,
    pipe_stage,
    quote_string,
)
from brainmap.errors import BadParameter
from brainmap.params import ImageRequest

DEFAULT_API_URL = "http://api.brain-map.org"
DOWNLOAD_URL = "http://download.alleninstitute.org"

Service = Literal["section", "atlas", "projection", "image"]
"""An image download service: ``<name>_image_download``; ``image`` is the generic
``image_download``."""
SERVICES: tuple[Service, ...] = get_args(Service)

QUERY_SAFE = ";/?:@&=+$,"
"""Characters allensdk leaves unquoted when it sends a JSON query URL."""

_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def server_root(api_url: str) -> str:
    """The server's root URL from any way of writing it: with or without ``/api/v2`` and
    trailing slashes (``http://h:p``, ``http://h:p/``, ``http://h:p/api/v2/`` all give
    ``http://h:p``)."""
    root = api_url.rstrip("/")
    while root.endswith("/api/v2"):
        root = root.removesuffix("/api/v2").rstrip("/")
    return root


def api_v2(api_url: str) -> str:
    """The root of the API's endpoints."""
    return server_root(api_url) + "/api/v2"


def rma_endpoint(api_url: str) -> str:
    """Where RMA queries go (``<api>/api/v2/data``)."""
    return api_v2(api_url) + "/data"


def image_endpoint(api_url: str, service: str) -> str:
    """The download endpoint of `service` (one of `SERVICES`); BadParameter for another."""
    if service not in SERVICES:
        raise BadParameter("service", f"must be one of {', '.join(SERVICES)}, not {service!r}")
    name = "image_download" if service == "image" else f"{service}_image_download"
    return f"{api_v2(api_url)}/{name}"


def image_url(endpoint: str, image_id: int, request: ImageRequest) -> str:
    """``<endpoint>/<image_id>`` with the request's parameters in allensdk's order."""
    query = request.to_query()
    url = endpoint + "/" + str(image_id)
    return url + "?" + query if query else url


def query_url(rma: str, stages: str | Sequence[str], fmt: str = "json") -> str:
    """``<rma>/query.<fmt>?q=<stages joined by commas>`` (`rma`: an `rma_endpoint`)."""
    joined = stages if isinstance(stages, str) else ",".join(stages)
    return f"{rma}/query.{fmt}?q={joined}"


def schema_url(rma: str, model: str | None = None, fmt: str = "json") -> str:
    """The schema of one model, or of all models."""
    return rma + ("/" + model if model is not None else "") + "." + fmt


def wire_url(url: str) -> str:
    """The bytes allensdk puts on the wire for a JSON query URL (``quote(url, QUERY_SAFE)``)."""
    return urllib.parse.quote(url, safe=QUERY_SAFE)


def sendable_url(url: str) -> str:
    """`url` with only characters that may not appear in a URL quoted (as requests does for
    file downloads); image URLs pass unchanged."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


def atlas_images_url(rma: str, atlas_id: int, image_type_name: str | None = None) -> str:
    """The annotated AtlasImages of an atlas in section order (allensdk's
    ``atlas_image_query``). Without `image_type_name` the server looks up the atlas's own image
    type in the same query (a ``pipe::list`` stage)."""
    stages = []
    if image_type_name is None:
        stages.append(
            model_stage(
                "Atlas",
                criteria=f"[id$eq{as_d(atlas_id)}]",
                options=StageOptions(only=["image_type"]),
            )
        )
        stages.append(pipe_stage("list", [("type_name", "$is", quote_string("image_type"))]))
        image_type = "$type_name"
    else:
        image_type = quote_string(image_type_name)
    criteria = [
        "[annotated$eqtrue],",
        f"atlas_data_set(atlases[id$eq{as_d(atlas_id)}]),",
        f"alternate_images[image_type$eq{image_type}]",
    ]
    options = StageOptions(order=["sub_images.section_number"], num_rows=ALL)
    stages.append(model_stage("AtlasImage", criteria=criteria, options=options))
    return query_url(rma, stages)


def equalization_url(rma: str, data_set_id: int) -> str:
    """The Equalization (display window) of one section data set."""
    criteria = f"section_data_set[id$eq{int(data_set_id)}]"
    return _records_url(rma, "Equalization", criteria, paged=False)


def exists_url(rma: str, model: str, record_id: int) -> str:
    """The id of one record of `model`, if it exists."""
    return _records_url(rma, model, f"[id$eq{int(record_id)}]", paged=False, only=["id"])


def section_images_url(
    rma: str, data_set_id: int, *, paged: bool, include: str | None = None
) -> str:
    """The SectionImages of a section data set (with the associations `include` names),
    counted (for `brainmap.client.paging`)."""
    criteria = f"[data_set_id$eq{int(data_set_id)}]"
    return _records_url(rma, "SectionImage", criteria, paged, include=include)


def aligned_images_url(rma: str, image_ids: Iterable[int]) -> str:
    """SectionImages by id with their Alignment2d."""
    criteria = "[id$in" + ",".join(str(int(image_id)) for image_id in image_ids) + "]"
    return _records_url(rma, "SectionImage", criteria, paged=False, include="alignment2d")


def aligned_data_set_url(rma: str, data_set_id: int) -> str:
    """A SectionDataSet with its Alignment3d and PlaneOfSection."""
    criteria = f"[id$eq{int(data_set_id)}]"
    include = "alignment3d,plane_of_section"
    return _records_url(rma, "SectionDataSet", criteria, paged=False, include=include)


def sub_images_url(rma: str, image_ids: Iterable[int], fields: Sequence[str]) -> str:
    """`fields` of SubImages (any kind) by id, counted."""
    criteria = "[id$in" + ",".join(map(str, image_ids)) + "]"
    return _records_url(rma, "SubImage", criteria, paged=False, only=fields)


def _records_url(
    rma: str,
    model: str,
    criteria: str,
    paged: bool,
    only: Sequence[str] | None = None,
    include: str | None = None,
) -> str:
    """Rows ordered by id when `paged` (so pages are stable), else all rows at once."""
    if paged:
        options = StageOptions(only=only, order=["id"])
    else:
        options = StageOptions(only=only, num_rows=ALL)
    stage = model_stage(model, criteria=criteria, include=include, options=options)
    return query_url(rma, stage)
