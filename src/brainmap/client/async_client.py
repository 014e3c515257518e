"""`AsyncClient`: the modern client core (bulk downloads, arrays, paged queries) over the same
transport the allensdk-compatible classes use."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import AsyncTransport, Timeouts, Transport
from brainmap.client.allensdk.image_download_api import ImageDownloadApi
from brainmap.client.bulk.distributed import DaskRunner, WorkerSettings
from brainmap.client.bulk.engine import DEFAULT_CONCURRENCY, BulkReport, Runner, run_bulk
from brainmap.client.bulk.manifest import Job
from brainmap.client.bulk.progress import ProgressCallback
from brainmap.client.bulk.verify import EXTENT_FIELDS, decode, expected_size, extent_of, jpeg_check
from brainmap.client.frames import to_dataframe
from brainmap.client.paging import query_rows
from brainmap.client.tiling import fetch_tiled, grid
from brainmap.geometry import plan_request
from brainmap.params import ImageRequest

SERVICES = ("section", "atlas", "projection", "image")
"""Download services: ``<name>_image_download``; ``image`` is the generic ``image_download``."""

IDS_PER_QUERY = 200
"""Ids per metadata query (keeps URLs far below any server's limit)."""


class AsyncClient:
    """Bulk downloads, arrays and paged queries against one Allen-compatible server.

    `concurrency` bounds the requests in flight (default 6); `max_pixels`/`max_side` make
    `get_image` tile regions above them up front (without them it tiles when the server answers
    413). `api` is an `ImageDownloadApi` on the same transport, for allensdk's methods.
    """

    def __init__(
        self,
        api_url: str | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_pixels: int | None = None,
        max_side: int | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.transport = AsyncTransport(
            timeouts, retry, limit=max(concurrency, 16), per_host=concurrency
        )
        self.api = ImageDownloadApi(api_url, transport=Transport.over(self.transport))
        self.max_pixels = max_pixels
        self.max_side = max_side

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections."""
        await self.transport.close()

    async def query(
        self,
        rma: str,
        *,
        page_size: int | None = None,
        strict: bool = True,
        dataframe: bool = False,
    ) -> Any:
        """Rows of an RMA query, given as a full query URL or as its ``q`` text
        (``model::Atlas,...``); with `page_size`, fetched in pages. Totals are verified (see
        `brainmap.client.paging`). ``dataframe=True`` returns a pandas DataFrame."""
        url = rma if "://" in rma else self.api.build_query_url(rma)
        rows = await query_rows(self.transport, url, page_size=page_size, strict=strict)
        return to_dataframe(rows) if dataframe else rows

    async def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: bool = False
    ) -> Any:
        """SectionImage records of a section data set, by id (a DataFrame with `dataframe`)."""
        criteria = f"[data_set_id$eq{int(data_set_id)}]"
        rows = await self._model_rows("SectionImage", criteria, page_size)
        return to_dataframe(rows) if dataframe else rows

    async def atlas_images(self, atlas_id: int, *, dataframe: bool = False) -> Any:
        """Annotated AtlasImage records of an atlas, in section order (`atlas_image_query`);
        a DataFrame with `dataframe`."""
        url = self.api.atlas_image_query_url(atlas_id)
        return await self.query(url, dataframe=dataframe)

    async def sub_images(self, image_ids: Iterable[int]) -> list[Any]:
        """Geometry of SubImages (any kind) by id: the fields of `EXTENT_FIELDS`."""
        ids = sorted({int(image_id) for image_id in image_ids})
        chunks = [ids[i : i + IDS_PER_QUERY] for i in range(0, len(ids), IDS_PER_QUERY)]
        pages = await asyncio.gather(
            *(
                self._model_rows(
                    "SubImage",
                    "[id$in" + ",".join(map(str, chunk)) + "]",
                    None,
                    only=EXTENT_FIELDS,
                    num_rows="all",
                )
                for chunk in chunks
            )
        )
        return [row for page in pages for row in page]

    async def download_images(
        self,
        image_ids: Iterable[int],
        out_dir: str | Path,
        *,
        service: str = "section",
        records: Sequence[Mapping[str, Any]] | None = None,
        quiet: bool = False,
        progress: ProgressCallback | None = None,
        runner: Runner | None = None,
        client: Any = None,
        manifest: str | Path | None = None,
        **image_params: Any,
    ) -> BulkReport:
        """Download images into `out_dir` (a folder or an fsspec URL) as ``<id>.jpg``,
        resumably (see `run_bulk`).

        `service` picks the download endpoint (`SERVICES`); `image_params` are
        `ImageDownloadApi.download_image`'s. Each file is checked to be a JPEG of the size its
        record and the parameters imply (records are fetched when not given). `client` (a
        `distributed.Client` or a scheduler address) fetches on a dask cluster instead, into a
        destination the workers share; `manifest` places the manifest file (required for a
        remote `out_dir`).
        """
        ids = [int(image_id) for image_id in image_ids]
        if records is None:
            records = await self.sub_images(ids)
        jobs = self.plan(ids, records, service, image_params)
        if client is not None:
            runner = self.dask_runner(client)
        return await run_bulk(
            self.transport,
            jobs,
            out_dir,
            manifest=manifest,
            concurrency=self.concurrency,
            quiet=quiet,
            callback=progress,
            label=f"{service} images",
            runner=runner,
        )

    async def download_section_data_set(
        self, data_set_id: int, out_dir: str | Path, **options: Any
    ) -> BulkReport:
        """Every section image of a section data set (options of `download_images`)."""
        records = await self.section_images(data_set_id)
        ids = [record["id"] for record in records]
        return await self.download_images(ids, out_dir, records=records, **options)

    async def download_atlas(
        self, atlas_id: int, out_dir: str | Path, *, annotation: bool = True, **options: Any
    ) -> BulkReport:
        """Every annotated plate of an atlas: drawings and labels (``annotation=True``, with
        ``atlas=atlas_id`` unless given) or the Nissl images."""
        records = await self.atlas_images(atlas_id)
        if annotation:
            options.setdefault("atlas", atlas_id)
        ids = [record["id"] for record in records]
        return await self.download_images(
            ids, out_dir, service="atlas", records=records, annotation=annotation, **options
        )

    async def get_image(
        self, image_id: int, *, service: str = "section", **image_params: Any
    ) -> np.ndarray:
        """Image `image_id` as an RGB ``uint8`` array of shape (height, width, 3).

        Regions above `max_pixels`/`max_side`, or that the server refuses as too large, are
        fetched as tiles and stitched (see `brainmap.client.tiling`).
        """
        (record,) = await self.sub_images([image_id])
        request = ImageRequest.from_kwargs(**image_params)
        plan = plan_request(extent_of(record), request)
        endpoint = self._endpoint(service)

        async def fetch(part: ImageRequest) -> np.ndarray:
            url = self.api.image_url(image_id, endpoint) + _query_suffix(part)
            check = jpeg_check(url, expected_size(record, part))
            response = await self.transport.get(url, check=check)
            return await asyncio.to_thread(decode, response.body)

        tiles = grid(plan, self.max_pixels, self.max_side)
        return await fetch_tiled(fetch, request, plan, tiles)

    def plan(
        self,
        image_ids: Sequence[int],
        records: Sequence[Mapping[str, Any]],
        service: str,
        image_params: Mapping[str, Any],
    ) -> list[Job]:
        """The bulk jobs for `image_ids`: URL, file name and expected size of each."""
        by_id = {record["id"]: record for record in records}
        missing = [image_id for image_id in image_ids if image_id not in by_id]
        if missing:
            raise LookupError(f"no SubImage record for ids {missing[:10]}")
        request = ImageRequest.from_kwargs(**image_params)
        endpoint = self._endpoint(service)
        jobs = []
        for image_id in image_ids:
            width, height = expected_size(by_id[image_id], request)
            url = self.api.image_url(image_id, endpoint, **image_params)
            jobs.append(Job(f"{image_id}.jpg", url, width, height))
        return jobs

    def dask_runner(self, client: Any) -> DaskRunner:
        """A runner fetching on the dask cluster of `client` with this client's concurrency
        (per worker), timeouts and retries."""
        settings = WorkerSettings(self.concurrency, self.transport.timeouts, self.transport.retry)
        return DaskRunner(client, settings)

    def _endpoint(self, service: str) -> str:
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}, not {service!r}")
        if service == "image":
            return self.api.image_download_endpoint
        return str(getattr(self.api, f"{service}_image_download_endpoint"))

    async def _model_rows(
        self, model: str, criteria: str, page_size: int | None, **options: Any
    ) -> list[Any]:
        if page_size is not None:
            options.setdefault("order", ["id"])
        else:
            options.setdefault("num_rows", "all")
        stage = self.api.model_stage(model, criteria=criteria, **options)
        return await self.query(stage, page_size=page_size)


def _query_suffix(request: ImageRequest) -> str:
    query = request.to_query()
    return "?" + query if query else ""
