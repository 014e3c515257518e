"""`SvgApi`: a drop-in for allensdk's class of the same name, over brainmap's transport: the SVG
drawing of an annotated atlas image (its structures' outlines), whole or only some graphic
groups (GraphicGroupLabel ids). Same methods, arguments and URLs (`brainmap.client.sync_urls`);
HTTP errors raise `ApiError` and downloads are atomic (see `brainmap.client.allensdk.api`)."""

from __future__ import annotations

from collections.abc import Iterable

from brainmap.client import sync_urls
from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.api import Api
from brainmap.client.rma_stages import as_d


class SvgApi(Api):
    """The SVG drawings of atlas images."""

    def __init__(self, base_uri: str | None = None, *, transport: Transport | None = None) -> None:
        super().__init__(base_uri, transport=transport)

    def build_query(
        self, section_image_id: int, groups: Iterable[int] | None = None, download: bool = False
    ) -> str:
        """The URL of an image's drawing: ``svg_download`` when `download` is True, else
        ``svg``; with ``?groups=a,b`` when `groups` are given."""
        endpoint = self.svg_download_endpoint if download is True else self.svg_endpoint
        return sync_urls.svg(endpoint, section_image_id, groups)

    def download_svg(
        self,
        section_image_id: int,
        groups: Iterable[int] | None = None,
        file_path: str | None = None,
    ) -> None:
        """Save the drawing at `file_path` (default ``<id>.svg``)."""
        if file_path is None:
            file_path = as_d(section_image_id) + ".svg"
        self.retrieve_file_over_http(
            self.build_query(section_image_id, groups, download=True), file_path
        )

    def get_svg(self, section_image_id: int, groups: Iterable[int] | None = None) -> bytes:
        """The drawing's SVG document, as bytes."""
        return self.retrieve_xml_over_http(self.build_query(section_image_id, groups))
