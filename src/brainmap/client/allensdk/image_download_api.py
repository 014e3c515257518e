"""`ImageDownloadApi`: a drop-in for allensdk's class of the same name.

Same methods, arguments and URLs (byte for byte, from `brainmap.client.urls`). Differences: a
``success: false`` answer raises `QueryFailed`, HTTP errors raise `ApiError`, every call has
timeouts and bounded retries, and downloads are atomic (see `brainmap.client.allensdk.api`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from brainmap.client import urls
from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.cache import cacheable
from brainmap.client.allensdk.rma_template import RmaTemplate
from brainmap.client.ranges import RANGE_FIELDS
from brainmap.client.rma_stages import as_d
from brainmap.params import COLORMAPS, ImageRequest


class ImageDownloadApi(RmaTemplate):
    """Download whole or partial 2-D images (SectionImage, AtlasImage, ProjectionImage and
    generic Image download services) and list the images and display windows behind them."""

    COLORMAPS: ClassVar[dict[str, int]] = dict(COLORMAPS)

    rma_templates: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "image_queries": [
            {
                "name": "section_image_ranges",
                "description": "display windows (Equalization) of section images",
                "model": "Equalization",
                "num_rows": "all",
                "count": False,
                "only": [
                    "blue_lower",
                    "blue_upper",
                    "red_lower",
                    "red_upper",
                    "green_lower",
                    "green_upper",
                ],
                "criteria": "section_data_set(section_images[id$in{{ section_image_ids }}])",
                "criteria_params": ["section_image_ids"],
            },
            {
                "name": "section_images_by_data_set_id",
                "description": "section images of one section data set",
                "model": "SectionImage",
                "num_rows": "all",
                "count": False,
                "criteria": "[data_set_id$eq{{ data_set_id }}]",
                "criteria_params": ["data_set_id"],
            },
            {
                "name": "section_data_sets_by_product_id",
                "description": "section data sets of some products",
                "model": "SectionDataSet",
                "num_rows": "all",
                "count": False,
                "criteria": "[failed$in{{failed}}],products[id$in{{ product_ids }}]",
                "criteria_params": ["product_ids", "failed"],
            },
        ]
    }

    def __init__(self, base_uri: str | None = None, *, transport: Transport | None = None) -> None:
        super().__init__(
            base_uri, query_manifest=ImageDownloadApi.rma_templates, transport=transport
        )

    @cacheable()
    def get_section_image_ranges(
        self,
        section_image_ids: list[int],
        num_rows: int | str = "all",
        count: bool = False,
        as_lists: bool = True,
        **kwargs: Any,
    ) -> list[Any]:
        """Display windows of section images, one per Equalization row.

        With `as_lists` (default) each is ``[red_lower, red_upper, green_lower, green_upper,
        blue_lower, blue_upper]``, the shape ``download_image(range=...)`` takes; otherwise
        the records.
        """
        records = self.template_query(
            "image_queries",
            "section_image_ranges",
            section_image_ids=section_image_ids,
            num_rows=num_rows,
            count=count,
        )
        if not as_lists:
            return list(records)
        return [[record[key] for key in RANGE_FIELDS] for record in records]

    @cacheable()
    def get_section_data_sets_by_product(
        self,
        product_ids: list[int],
        include_failed: bool = False,
        num_rows: int | str = "all",
        count: bool = False,
        **kwargs: Any,
    ) -> Any:
        """SectionDataSet records of the given products; failed ones too if `include_failed`.

        The product list is at ``/api/v2/data/query.json?criteria=model::Product``.
        """
        failed = "'false','true'" if include_failed else "'false'"
        return self.template_query(
            "image_queries",
            "section_data_sets_by_product_id",
            product_ids=product_ids,
            failed=failed,
            num_rows=num_rows,
            count=count,
        )

    @cacheable()
    def section_image_query(
        self,
        section_data_set_id: int,
        num_rows: int | str = "all",
        count: bool = False,
        **kwargs: Any,
    ) -> Any:
        """SectionImage records of one section data set (experiment)."""
        return self.template_query(
            "image_queries",
            "section_images_by_data_set_id",
            data_set_id=section_data_set_id,
            num_rows=num_rows,
            count=count,
        )

    def download_section_image(
        self, section_image_id: int, file_path: str | None = None, **kwargs: Any
    ) -> None:
        """`download_image` through the SectionImage download service."""
        self.download_image(
            section_image_id, file_path, endpoint=self.section_image_download_endpoint, **kwargs
        )

    def download_atlas_image(
        self, atlas_image_id: int, file_path: str | None = None, **kwargs: Any
    ) -> None:
        """`download_image` through the AtlasImage download service."""
        self.download_image(
            atlas_image_id, file_path, endpoint=self.atlas_image_download_endpoint, **kwargs
        )

    def download_projection_image(
        self, projection_image_id: int, file_path: str | None = None, **kwargs: Any
    ) -> None:
        """`download_image` through the ProjectionImage download service."""
        self.download_image(
            projection_image_id,
            file_path,
            endpoint=self.projection_image_download_endpoint,
            **kwargs,
        )

    def download_image(
        self,
        image_id: int,
        file_path: str | None = None,
        endpoint: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Save image `image_id` (default file ``<image_id>.jpg``) from `endpoint` (default:
        the generic image download service).

        Keyword arguments are the service's parameters: ``downsample``, ``quality``,
        ``tumor_feature_annotation``, ``tumor_feature_boundary``, ``annotation``, ``atlas``,
        ``projection``, ``expression``, ``colormap`` (a string, or ``(threshold, name)`` with a
        name from `COLORMAPS`), ``range`` (6 numbers), ``rgb`` (3), ``contrast`` (2), ``view``
        (``'expression'``, ``'projection'``, ``'tumor_feature_annotation'`` or
        ``'tumor_feature_boundary'``), ``left``, ``top``, ``width``, ``height`` and
        ``downsample_dimensions``. They are rendered in that order with allensdk's coercions:
        integers with ``%d`` (floats truncated, strings raise TypeError); ``annotation`` and
        ``projection`` are ``true`` only for ``True``; a bad ``view`` raises ValueError.
        Returns None.
        """
        if file_path is None:
            file_path = as_d(image_id) + ".jpg"
        self.retrieve_file_over_http(self.image_url(image_id, endpoint, **kwargs), file_path)

    def image_url(self, image_id: int, endpoint: str | None = None, **kwargs: Any) -> str:
        """The URL `download_image` fetches (same arguments, brainmap addition)."""
        request = ImageRequest.from_kwargs(**kwargs)
        return urls.image_url(endpoint or self.image_download_endpoint, image_id, request)

    def atlas_image_query(self, atlas_id: int, image_type_name: str | None = None) -> Any:
        """Annotated AtlasImage records of an atlas, in section order.

        Without `image_type_name` the atlas's own image type is looked up by the server in the
        same query (a ``pipe::list`` stage).
        """
        return self.json_msg_query(self.atlas_image_query_url(atlas_id, image_type_name))

    def atlas_image_query_url(self, atlas_id: int, image_type_name: str | None = None) -> str:
        """The query URL of `atlas_image_query` (brainmap addition)."""
        return urls.atlas_images_url(self.rma_endpoint, atlas_id, image_type_name)
