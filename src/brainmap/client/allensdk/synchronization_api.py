"""`SynchronizationApi`: a drop-in for allensdk's class of the same name, over brainmap's
transport.

The six image-sync services relate a point on a section image (full-resolution pixels) to the
3-D reference space (µm, x = p, y = i, z = r) and to other images. Same methods, arguments and
URLs (`brainmap.client.sync_urls`); each returns the answer's ``msg``. Differences as in
`brainmap.client.allensdk.api`: ``success: false`` raises `QueryFailed`, HTTP errors `ApiError`,
every call has timeouts and bounded retries. Typed answers: `brainmap.Client` (`image_to_reference`
and the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from brainmap.client import sync_urls
from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.api import Api


class SynchronizationApi(Api):
    """The image-sync services of an Allen-compatible server."""

    def __init__(self, base_uri: str | None = None, *, transport: Transport | None = None) -> None:
        super().__init__(base_uri, transport=transport)

    def get_image_to_atlas(self, section_image_id: int, x: float, y: float, atlas_id: int) -> Any:
        """The nearest annotated plate of atlas `atlas_id` to pixel (x, y) of a section image,
        and the point on it."""
        url = sync_urls.image_to_atlas(
            self.image_to_atlas_endpoint, section_image_id, x, y, atlas_id
        )
        return self.json_msg_query(url)

    def get_image_to_image(
        self, section_image_id: int, x: float, y: float, section_data_set_ids: Iterable[int]
    ) -> Any:
        """For each target section data set, its nearest image to pixel (x, y) of a section
        image (through the reference space) and the point on it."""
        url = sync_urls.image_to_image(
            self.image_to_image_endpoint, section_image_id, x, y, section_data_set_ids
        )
        return self.json_msg_query(url)

    def get_image_to_image_2d(
        self, section_image_id: int, x: float, y: float, section_image_ids: Iterable[int]
    ) -> Any:
        """Pixel (x, y) of a section image on each target section image, by the 2-D
        alignments only."""
        url = sync_urls.image_to_image_2d(
            self.image_to_image_2d_endpoint, section_image_id, x, y, section_image_ids
        )
        return self.json_msg_query(url)

    def get_reference_to_image(
        self,
        reference_space_id: int,
        x: float,
        y: float,
        z: float,
        section_data_set_ids: Iterable[int],
    ) -> Any:
        """For each target section data set, its nearest image to the reference point
        (x, y, z) µm and the pixel on it."""
        url = sync_urls.reference_to_image(
            self.reference_to_image_endpoint, reference_space_id, x, y, z, section_data_set_ids
        )
        return self.json_msg_query(url)

    def get_image_to_reference(self, section_image_id: int, x: float, y: float) -> Any:
        """The reference point (µm) of pixel (x, y) of a section image."""
        url = sync_urls.image_to_reference(self.image_to_reference_endpoint, section_image_id, x, y)
        return self.json_msg_query(url)

    def get_structure_to_image(self, section_data_set_id: int, structure_ids: Iterable[int]) -> Any:
        """For each structure, the data set's image nearest its centre and the point on it."""
        url = sync_urls.structure_to_image(
            self.structure_to_image_endpoint, section_data_set_id, structure_ids
        )
        return self.json_msg_query(url)
