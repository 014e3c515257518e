"""`Client`: the blocking facade of `AsyncClient` (its coroutines run on brainmap's I/O thread)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from brainmap.client._http import loop
from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import Timeouts, Transport
from brainmap.client.async_client import AsyncClient, Service
from brainmap.client.bulk.engine import DEFAULT_CONCURRENCY, BulkReport
from brainmap.client.bulk.progress import ProgressCallback
from brainmap.client.paging import Record
from brainmap.client.tiling import Pixels

if TYPE_CHECKING:
    from distributed import Client as DaskClient
    from pandas import DataFrame
    from typing_extensions import Unpack

    from brainmap.client.allensdk.image_download_api import ImageDownloadApi
    from brainmap.client.image_params import ImageParams, PlateParams


class Client:
    """The methods of `AsyncClient`, without ``await``: same constructor, same arguments. Works
    in scripts and in Jupyter (where a loop is already running)."""

    def __init__(
        self,
        api_url: str | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_pixels: int | None = None,
        max_side: int | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.core = AsyncClient(
            api_url,
            concurrency=concurrency,
            timeouts=timeouts,
            retry=retry,
            max_pixels=max_pixels,
            max_side=max_side,
            transport=transport,
        )

    @property
    def api(self) -> ImageDownloadApi:
        """An allensdk-compatible `ImageDownloadApi` on this client's server and transport."""
        return self.core.api

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        loop.run(self.core.close())

    @overload
    def query(
        self,
        rma: str,
        *,
        page_size: int | None = None,
        strict: bool = True,
        dataframe: Literal[False] = False,
    ) -> list[Record]: ...
    @overload
    def query(
        self, rma: str, *, page_size: int | None = None, strict: bool = True, dataframe: bool
    ) -> list[Record] | DataFrame: ...
    def query(
        self,
        rma: str,
        *,
        page_size: int | None = None,
        strict: bool = True,
        dataframe: bool = False,
    ) -> list[Record] | DataFrame:
        """See `AsyncClient.query`."""
        coroutine = self.core.query(rma, page_size=page_size, strict=strict, dataframe=dataframe)
        return loop.run(coroutine)

    @overload
    def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: Literal[False] = False
    ) -> list[Record]: ...
    @overload
    def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: bool
    ) -> list[Record] | DataFrame: ...
    def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: bool = False
    ) -> list[Record] | DataFrame:
        """See `AsyncClient.section_images`."""
        coroutine = self.core.section_images(data_set_id, page_size=page_size, dataframe=dataframe)
        return loop.run(coroutine)

    @overload
    def atlas_images(self, atlas_id: int, *, dataframe: Literal[False] = False) -> list[Record]: ...
    @overload
    def atlas_images(self, atlas_id: int, *, dataframe: bool) -> list[Record] | DataFrame: ...
    def atlas_images(self, atlas_id: int, *, dataframe: bool = False) -> list[Record] | DataFrame:
        """See `AsyncClient.atlas_images`."""
        return loop.run(self.core.atlas_images(atlas_id, dataframe=dataframe))

    def sub_images(self, image_ids: Iterable[int]) -> list[Record]:
        """See `AsyncClient.sub_images`."""
        return loop.run(self.core.sub_images(image_ids))

    def download_images(
        self,
        image_ids: Iterable[int],
        out_dir: str | os.PathLike[str],
        *,
        service: Service = "section",
        records: Sequence[Mapping[str, Any]] | None = None,
        quiet: bool = False,
        progress: ProgressCallback | None = None,
        client: DaskClient | str | None = None,
        manifest: str | os.PathLike[str] | None = None,
        **image_params: Unpack[ImageParams],
    ) -> BulkReport:
        """See `AsyncClient.download_images`."""
        return loop.run(
            self.core.download_images(
                image_ids,
                out_dir,
                service=service,
                records=records,
                quiet=quiet,
                progress=progress,
                client=client,
                manifest=manifest,
                **image_params,
            )
        )

    def download_section_data_set(
        self,
        data_set_id: int,
        out_dir: str | os.PathLike[str],
        *,
        quiet: bool = False,
        progress: ProgressCallback | None = None,
        client: DaskClient | str | None = None,
        manifest: str | os.PathLike[str] | None = None,
        **image_params: Unpack[ImageParams],
    ) -> BulkReport:
        """See `AsyncClient.download_section_data_set`."""
        return loop.run(
            self.core.download_section_data_set(
                data_set_id,
                out_dir,
                quiet=quiet,
                progress=progress,
                client=client,
                manifest=manifest,
                **image_params,
            )
        )

    def download_atlas(
        self,
        atlas_id: int,
        out_dir: str | os.PathLike[str],
        *,
        annotation: bool = True,
        quiet: bool = False,
        progress: ProgressCallback | None = None,
        client: DaskClient | str | None = None,
        manifest: str | os.PathLike[str] | None = None,
        **image_params: Unpack[PlateParams],
    ) -> BulkReport:
        """See `AsyncClient.download_atlas`."""
        return loop.run(
            self.core.download_atlas(
                atlas_id,
                out_dir,
                annotation=annotation,
                quiet=quiet,
                progress=progress,
                client=client,
                manifest=manifest,
                **image_params,
            )
        )

    def get_image(
        self, image_id: int, *, service: Service = "section", **image_params: Unpack[ImageParams]
    ) -> Pixels:
        """See `AsyncClient.get_image`."""
        return loop.run(self.core.get_image(image_id, service=service, **image_params))
