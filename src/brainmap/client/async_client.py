"""`AsyncClient`: the modern client core (bulk downloads, arrays, paged queries) on a `Transport`,
with its URLs from `brainmap.client.urls`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from brainmap.client import urls
from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import Timeouts, Transport
from brainmap.client.bulk.engine import DEFAULT_CONCURRENCY, BulkReport, Runner, prepare, run_bulk
from brainmap.client.bulk.manifest import Job
from brainmap.client.bulk.naming import FileNamer
from brainmap.client.bulk.verify import EXTENT_FIELDS, decode, expected_size, extent_of, jpeg_check
from brainmap.client.checks import checked_request
from brainmap.client.frames import to_dataframe
from brainmap.client.paging import Record, query_rows
from brainmap.client.ranges import Window, image_windows
from brainmap.client.sync_services import SyncServices
from brainmap.client.tiling import Pixels, fetch_tiled, grid
from brainmap.client.urls import Service
from brainmap.errors import BadParameter, NotFound
from brainmap.geometry import plan_request
from brainmap.params import ImageRequest
from brainmap.reference.planes import CCF_EXTENT_UM

if TYPE_CHECKING:
    from pandas import DataFrame
    from typing_extensions import Unpack

    from brainmap.client.allensdk.image_download_api import ImageDownloadApi
    from brainmap.client.keywords import ImageDownload, ImageParams, PixelParams, PlateDownload
    from brainmap.client.warping import ReferenceSection


IDS_PER_QUERY = 200
"""Ids per metadata query (keeps URLs far below any server's limit)."""

IMAGE_FIELDS = (*EXTENT_FIELDS, "data_set_id")
"""The SubImage fields the client asks for: the geometry and the data set."""


class AsyncClient(SyncServices):
    """Bulk downloads, arrays, paged queries and the image-sync services (see
    `brainmap.client.sync_services`) against one Allen-compatible server.

    `api_url` is the server's root URL (default api.brain-map.org), with or without ``/api/v2``
    and trailing slashes. `concurrency` bounds the
    requests in flight (to the one host). `timeouts` and `retry` configure the aiohttp transport
    made here, and each dask worker's; `transport` replaces that transport (a `MockTransport` in
    unit tests). `max_pixels`/`max_side` make `get_image` tile regions above them up front
    (without them it tiles when the server answers 413).
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
        transport: Transport | None = None,
    ) -> None:
        self.api_url = urls.server_root(api_url or urls.DEFAULT_API_URL)
        self.concurrency = concurrency
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.max_pixels = max_pixels
        self.max_side = max_side
        if transport is None:
            from brainmap.client._http.aiohttp_transport import AiohttpTransport

            transport = AiohttpTransport.to_one_host(concurrency, self.timeouts, self.retry)
        self.transport = transport
        self._api: ImageDownloadApi | None = None

    @property
    def api(self) -> ImageDownloadApi:
        """An allensdk-compatible `ImageDownloadApi` on this client's server and transport."""
        if self._api is None:
            from brainmap.client.allensdk.image_download_api import ImageDownloadApi

            self._api = ImageDownloadApi(self.api_url, transport=self.transport)
        return self._api

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections."""
        await self.transport.close()

    @overload
    async def query(
        self,
        rma: str,
        *,
        page_size: int | None = None,
        strict: bool = True,
        dataframe: Literal[False] = False,
    ) -> list[Record]: ...
    @overload
    async def query(
        self, rma: str, *, page_size: int | None = None, strict: bool = True, dataframe: bool
    ) -> list[Record] | DataFrame: ...
    async def query(
        self,
        rma: str,
        *,
        page_size: int | None = None,
        strict: bool = True,
        dataframe: bool = False,
    ) -> list[Record] | DataFrame:
        """Rows of an RMA query, given as a full query URL or as its ``q`` text
        (``model::Atlas,...``); with `page_size`, fetched in pages of that many rows. Totals
        are verified (see `brainmap.client.paging`): a short or shifting result raises
        `IncompleteResult`, or with ``strict=False`` warns. ``dataframe=True`` returns a pandas
        DataFrame."""
        url = rma if "://" in rma else urls.query_url(self._rma, rma)
        rows = await query_rows(self.transport, url, page_size=page_size, strict=strict)
        return to_dataframe(rows) if dataframe else rows

    @overload
    async def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: Literal[False] = False
    ) -> list[Record]: ...
    @overload
    async def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: bool
    ) -> list[Record] | DataFrame: ...
    async def section_images(
        self, data_set_id: int, *, page_size: int | None = None, dataframe: bool = False
    ) -> list[Record] | DataFrame:
        """SectionImage records of a section data set, by id, whole or in pages of `page_size`
        (a DataFrame with `dataframe`)."""
        url = urls.section_images_url(self._rma, data_set_id, paged=page_size is not None)
        rows = await query_rows(self.transport, url, page_size=page_size)
        return to_dataframe(rows) if dataframe else rows

    @overload
    async def atlas_images(
        self, atlas_id: int, *, dataframe: Literal[False] = False
    ) -> list[Record]: ...
    @overload
    async def atlas_images(self, atlas_id: int, *, dataframe: bool) -> list[Record] | DataFrame: ...
    async def atlas_images(
        self, atlas_id: int, *, dataframe: bool = False
    ) -> list[Record] | DataFrame:
        """Annotated AtlasImage records of an atlas, in section order (allensdk's
        ``atlas_image_query``); a DataFrame with `dataframe`."""
        rows = await query_rows(self.transport, urls.atlas_images_url(self._rma, atlas_id))
        return to_dataframe(rows) if dataframe else rows

    async def sub_images(self, image_ids: Iterable[int]) -> list[Record]:
        """Geometry and data set of SubImages (any kind) by id: the fields of `IMAGE_FIELDS`."""
        ids = sorted({int(image_id) for image_id in image_ids})
        chunks = [ids[i : i + IDS_PER_QUERY] for i in range(0, len(ids), IDS_PER_QUERY)]
        pages = await asyncio.gather(
            *(
                query_rows(self.transport, urls.sub_images_url(self._rma, chunk, IMAGE_FIELDS))
                for chunk in chunks
            )
        )
        return [row for page in pages for row in page]

    async def download_images(
        self,
        image_ids: Iterable[int],
        out_dir: str | os.PathLike[str],
        *,
        service: Service = "section",
        records: Sequence[Mapping[str, Any]] | None = None,
        **options: Unpack[ImageDownload],
    ) -> BulkReport:
        """Download images into `out_dir` (a folder or an fsspec URL), resumably (see
        `brainmap.client.bulk.engine.run_bulk`), each as a file named by its id and the
        parameters (see `brainmap.client.bulk.naming.FileNamer`).

        `service` picks the download endpoint. `options` are the `BulkOptions` (``quiet``: no
        progress bar, ``progress``: called after each file, ``client``: a dask cluster to fetch
        on, ``manifest``: where the manifest goes) and the image parameters of
        ``ImageDownloadApi.download_image``; ``range="auto"`` gives each image its own data
        set's Equalization (`brainmap.client.ranges`). The parameters and the destination are
        checked before anything is fetched or written (BadParameter). Each file is checked to be
        a JPEG of the size its SubImage record and the parameters imply (`records` are fetched
        when not given); an id without a record raises NotFound.
        """
        return await self._download(image_ids, out_dir, service, records, dict(options))

    async def _download(
        self,
        image_ids: Iterable[int],
        out_dir: str | os.PathLike[str],
        service: Service,
        records: Sequence[Mapping[str, Any]] | None,
        options: dict[str, Any],
        implied: ImageRequest | None = None,
    ) -> BulkReport:
        """`download_images`; the `implied` parameters (those of the job itself, such as an
        atlas's own annotation) are left out of the file names."""
        quiet = options.pop("quiet", False)
        progress = options.pop("progress", None)
        client = options.pop("client", None)
        manifest = options.pop("manifest", None)
        request, auto = checked_request(options)
        prepare(out_dir, manifest)
        ids = [int(image_id) for image_id in image_ids]
        if records is None:
            records = await self.sub_images(ids)
        namer = FileNamer(request, implied or ImageRequest(), auto_range=auto)
        jobs = await self._plan(ids, records, service, request, namer)
        return await run_bulk(
            self.transport,
            jobs,
            out_dir,
            manifest=manifest,
            concurrency=self.concurrency,
            quiet=quiet,
            callback=progress,
            label=f"{service} images",
            runner=self._runner(client),
        )

    def _runner(self, client: Any) -> Runner | None:
        """The dask runner for a ``client=`` option (None: fetch in this process)."""
        if client is None:
            return None
        from brainmap.client.bulk.distributed import DaskRunner, WorkerSettings

        return DaskRunner(client, WorkerSettings(self.concurrency, self.timeouts, self.retry))

    async def download_section_data_set(
        self,
        data_set_id: int,
        out_dir: str | os.PathLike[str],
        *,
        to_reference: float | None = None,
        ome_zarr: bool = False,
        **options: Unpack[ImageDownload],
    ) -> BulkReport:
        """Every section image of a section data set; `options` (``quiet``, ``progress``,
        ``client``, ``manifest`` and the image parameters) as in `download_images`. NotFound
        when there is no such data set.

        With ``to_reference=25`` each section is warped onto the reference grid of its plane at
        that spacing in µm (as `warp_to_reference` does, pixels fetched at the coarsest
        sufficient downsample unless ``downsample`` is given) and saved as
        ``<id>_reference-25um.png`` (RGBA: alpha marks the section; see
        `brainmap.client.warped_png`; an explicit ``downsample`` is named too), with
        ``reference.json`` giving every section file's name, section number, position along
        the plane's normal and the grid's origin and spacing (files that failed are left out
        until a rerun fetches them);
        ``ome_zarr=True`` also assembles them into one OME-Zarr volume ``reference.ome.zarr``
        (NGFF 0.4, each section at its own reference position) once every file is in place.
        NotFound when the data set or one of its images has no alignment (nothing is written).
        """
        if to_reference is not None:
            return await self._download_warped(
                data_set_id, out_dir, to_reference, ome_zarr, dict(options)
            )
        if ome_zarr:
            raise BadParameter("ome_zarr", "an OME-Zarr volume needs to_reference")
        checked_request(options)
        prepare(out_dir, options.get("manifest"))
        records = await self.section_images(data_set_id)
        if not records:
            await self._must_exist("SectionDataSet", data_set_id, "section data set")
        ids = [record["id"] for record in records]
        return await self.download_images(ids, out_dir, records=records, **options)

    async def _download_warped(
        self,
        data_set_id: int,
        out_dir: str | os.PathLike[str],
        resolution: float,
        ome_zarr: bool,
        options: dict[str, Any],
    ) -> BulkReport:
        """`download_section_data_set` with ``to_reference`` (see `bulk.to_reference`)."""
        from brainmap.client.bulk.to_reference import WarpJob, download_warped

        runner = self._runner(options.pop("client", None))
        job = WarpJob(data_set_id, resolution, ome_zarr, self.concurrency, runner)
        return await download_warped(self.transport, self.api_url, out_dir, job, options)

    async def download_atlas(
        self,
        atlas_id: int,
        out_dir: str | os.PathLike[str],
        *,
        annotation: bool = True,
        **options: Unpack[PlateDownload],
    ) -> BulkReport:
        """Every annotated plate of an atlas: the structure drawings (``annotation=True``, with
        ``atlas=atlas_id`` unless given) or the Nissl images; `options` (``quiet``,
        ``progress``, ``client``, ``manifest`` and the other image parameters) as in
        `download_images`. NotFound when there is no such atlas."""
        implied = ImageRequest(annotation=True, atlas=atlas_id) if annotation else None
        params: dict[str, Any] = {"annotation": annotation, **options}
        if annotation:
            params.setdefault("atlas", atlas_id)
        checked_request(params)
        prepare(out_dir, options.get("manifest"))
        records = await self.atlas_images(atlas_id)
        if not records:
            await self._must_exist("Atlas", atlas_id, "atlas")
        ids = [record["id"] for record in records]
        return await self._download(ids, out_dir, "atlas", records, params, implied)

    async def get_image(
        self, image_id: int, *, service: Service = "section", **image_params: Unpack[ImageParams]
    ) -> Pixels:
        """Image `image_id` as an RGB ``uint8`` array of shape (height, width, 3)
        (``range="auto"``: its data set's Equalization; NotFound for an unknown id).

        Regions above `max_pixels`/`max_side`, or that the server refuses as too large, are
        fetched as tiles and stitched (see `brainmap.client.tiling`).
        """
        request, auto = checked_request(image_params)
        records = await self.sub_images([image_id])
        if not records:
            raise NotFound(f"no image {image_id}")
        if auto:
            windows = await image_windows(self.transport, self._rma, records)
            request = request.replace(range=windows[image_id])
        return await self._get_pixels(records[0], service, request)

    async def warp_to_reference(
        self,
        section_image_id: int,
        resolution: float = 25.0,
        *,
        downsample: int | None = None,
        extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
        **image_params: Unpack[PixelParams],
    ) -> ReferenceSection:
        """Section image `section_image_id` resampled onto the reference grid of its plane,
        `resolution` µm apart (see `brainmap.client.warping.ReferenceSection`: the pixels, the
        mask of valid ones, the grid's origin, spacing and axes, the position along the
        normal), computed here from the alignment records (fetched by RMA) with the full 3-D
        transform, so any Allen-compatible server will do.

        The pixels are fetched at `downsample`, by default the coarsest whose pixels are no
        larger than `resolution` (e.g. 3 for 1.6 µm scans at 25 µm); `image_params` (range,
        colormap, quality...) are as in `get_image`. The grid covers `extent_um` (the mouse
        CCF's by default). NotFound for an unknown image, or an image or data set without its
        alignment; BadParameter for a bad resolution or parameter. Needs
        ``pip install 'brainmap[reference]'`` (OpenCV).
        """
        from brainmap.client import alignments, warping

        resolution_um, request, auto = warping.checked_warp(resolution, downsample, image_params)
        (image,) = await alignments.aligned_images(self.transport, self._rma, [section_image_id])
        data_set_id = int(image.record["data_set_id"])
        data_set = await alignments.aligned_data_set(self.transport, self._rma, data_set_id)
        if auto:
            windows = await image_windows(self.transport, self._rma, [image.record])
            request = request.replace(range=windows[image.id])
        plan = warping.plan_warp(
            image, data_set, request, resolution_um, downsample=downsample, extent_um=extent_um
        )
        pixels = await self._get_pixels(image.record, "section", plan.request)
        return await asyncio.to_thread(warping.warp_pixels, plan, pixels)

    async def _get_pixels(
        self, record: Mapping[str, Any], service: Service, request: ImageRequest
    ) -> Pixels:
        plan = plan_request(extent_of(record), request)
        endpoint = urls.image_endpoint(self.api_url, service)

        async def fetch(part: ImageRequest) -> Pixels:
            url = urls.image_url(endpoint, record["id"], part)
            check = jpeg_check(url, expected_size(record, part))
            response = await self.transport.get(url, check=check)
            return await asyncio.to_thread(decode, response.body)

        tiles = grid(plan, self.max_pixels, self.max_side)
        return await fetch_tiled(fetch, request, plan, tiles)

    async def _must_exist(self, model: str, record_id: int, what: str) -> None:
        """NotFound unless the server holds record `record_id` of `model`."""
        if not await query_rows(self.transport, urls.exists_url(self._rma, model, record_id)):
            raise NotFound(f"no {what} {record_id}")

    @property
    def _rma(self) -> str:
        return urls.rma_endpoint(self.api_url)

    async def _plan(
        self,
        image_ids: Sequence[int],
        records: Sequence[Mapping[str, Any]],
        service: Service,
        request: ImageRequest,
        namer: FileNamer,
    ) -> list[Job]:
        """The bulk jobs for `image_ids`: URL, file name and expected size of each (with
        ``range="auto"``, each image's request carries its data set's window)."""
        by_id = {record["id"]: record for record in records}
        missing = [image_id for image_id in image_ids if image_id not in by_id]
        if missing:
            raise NotFound(f"no image with id {', '.join(map(str, missing[:10]))}")
        endpoint = urls.image_endpoint(self.api_url, service)
        windows: dict[int, Window | None] = {}
        if namer.auto_range:
            chosen = [by_id[image_id] for image_id in image_ids]
            windows = await image_windows(self.transport, self._rma, chosen)
        jobs = []
        for image_id in image_ids:
            record = by_id[image_id]
            own = request.replace(range=windows[image_id]) if namer.auto_range else request
            width, height = expected_size(record, own)
            url = urls.image_url(endpoint, image_id, own)
            jobs.append(Job(namer.name(image_id), url, width, height))
        return jobs
