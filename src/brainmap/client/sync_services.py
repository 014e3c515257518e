"""The image-sync services and SVG drawings on `AsyncClient` (and so `Client`): typed answers
(`brainmap.client.sync_answers`), URLs as allensdk builds them (`brainmap.client.sync_urls`),
errors as typed exceptions: NotFound for HTTP 404 (an id the server does not hold, or an image
without its alignment), BadParameter for 400, QueryFailed for an answer ``success: false``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from brainmap.client import sync_urls, urls
from brainmap.client._http.transport import Transport
from brainmap.client.sync_answers import ImageSync, ReferencePoint, image_syncs, reference_point
from brainmap.errors import ApiError, BadParameter, NotFound, QueryFailed


def _said(error: ApiError) -> str:
    """The server's message: an envelope's ``msg``, else the body as it came."""
    try:
        parsed = json.loads(error.message)
    except ValueError:
        return error.message
    message = parsed.get("msg") if isinstance(parsed, dict) else None
    return message if isinstance(message, str) else error.message


def typed_error(error: ApiError, what: str) -> Exception:
    """NotFound for a 404, BadParameter (named `what`) for a 400, else `error` itself."""
    if isinstance(error, QueryFailed):
        return error
    if error.status == 404:
        return NotFound(f"{what}: {_said(error)} ({error.url})")
    if error.status == 400:
        return BadParameter(what, f"{_said(error)} ({error.url})")
    return error


class SyncServices:
    """The services, for a class with a `transport` and a server root `api_url`."""

    transport: Transport
    api_url: str

    async def _msg(self, service: str, url: str) -> Any:
        """The ``msg`` of a service's JSON answer (the URL quoted as allensdk sends it)."""
        sent = urls.wire_url(url)
        try:
            parsed = (await self.transport.get(sent)).json()
        except ApiError as error:
            raise typed_error(error, service) from None
        if not isinstance(parsed, dict) or parsed.get("success") is not True:
            said = parsed.get("msg", "") if isinstance(parsed, dict) else parsed
            raise QueryFailed(url, 200, str(said))
        return parsed["msg"]

    def _sync_endpoint(self, service: str) -> str:
        return sync_urls.endpoint(self.api_url, service)

    async def image_to_reference(self, section_image_id: int, x: float, y: float) -> ReferencePoint:
        """The reference point (µm) of full-resolution pixel (x, y) of a section image."""
        url = sync_urls.image_to_reference(
            self._sync_endpoint("image_to_reference"), section_image_id, x, y
        )
        return reference_point(await self._msg("image_to_reference", url), url)

    async def reference_to_image(
        self,
        reference_space_id: int,
        x: float,
        y: float,
        z: float,
        section_data_set_ids: Iterable[int],
    ) -> list[ImageSync]:
        """For each section data set, its image nearest the reference point (x, y, z) µm
        (x along p, y along i, z along r) and the pixel there."""
        url = sync_urls.reference_to_image(
            self._sync_endpoint("reference_to_image"),
            reference_space_id,
            x,
            y,
            z,
            section_data_set_ids,
        )
        return image_syncs(await self._msg("reference_to_image", url), url)

    async def image_to_image(
        self, section_image_id: int, x: float, y: float, section_data_set_ids: Iterable[int]
    ) -> list[ImageSync]:
        """For each section data set, its image nearest pixel (x, y) of a section image
        (through the reference space) and the pixel there."""
        url = sync_urls.image_to_image(
            self._sync_endpoint("image_to_image"), section_image_id, x, y, section_data_set_ids
        )
        return image_syncs(await self._msg("image_to_image", url), url)

    async def image_to_image_2d(
        self, section_image_id: int, x: float, y: float, section_image_ids: Iterable[int]
    ) -> list[ImageSync]:
        """Pixel (x, y) of a section image on each of `section_image_ids`, by the 2-D
        alignments only."""
        url = sync_urls.image_to_image_2d(
            self._sync_endpoint("image_to_image_2d"), section_image_id, x, y, section_image_ids
        )
        return image_syncs(await self._msg("image_to_image_2d", url), url)

    async def image_to_atlas(
        self, section_image_id: int, x: float, y: float, atlas_id: int
    ) -> ImageSync:
        """The annotated plate of atlas `atlas_id` nearest pixel (x, y) of a section image,
        and the pixel on it."""
        url = sync_urls.image_to_atlas(
            self._sync_endpoint("image_to_atlas"), section_image_id, x, y, atlas_id
        )
        found = image_syncs(await self._msg("image_to_atlas", url), url)
        if len(found) != 1:
            raise ApiError(url, 200, f"expected one plate, the answer has {len(found)}")
        return found[0]

    async def structure_to_image(
        self, section_data_set_id: int, structure_ids: Iterable[int]
    ) -> list[ImageSync]:
        """For each structure, the data set's image nearest the structure's centre and the
        pixel there."""
        url = sync_urls.structure_to_image(
            self._sync_endpoint("structure_to_image"), section_data_set_id, structure_ids
        )
        return image_syncs(await self._msg("structure_to_image", url), url)

    async def svg(self, atlas_image_id: int, *, groups: Iterable[int] | None = None) -> str:
        """The SVG drawing of an annotated atlas image (only the graphic groups `groups`, when
        given), as text."""
        url = sync_urls.svg(self._sync_endpoint("svg"), atlas_image_id, groups)
        try:
            body = (await self.transport.get(urls.sendable_url(url))).body
        except ApiError as error:
            raise typed_error(error, "svg") from None
        return body.decode("utf-8")

    async def download_svg(
        self,
        atlas_image_id: int,
        path: str | os.PathLike[str],
        *,
        groups: Iterable[int] | None = None,
    ) -> int:
        """Save the SVG drawing of an atlas image at `path`, atomically; the bytes written."""
        url = sync_urls.svg(self._sync_endpoint("svg_download"), atlas_image_id, groups)
        try:
            return await self.transport.download(urls.sendable_url(url), path)
        except ApiError as error:
            raise typed_error(error, "svg_download") from None
