"""A section data set downloaded warped to the reference (``to_reference=``): each section
fetched at the coarsest sufficient downsample, warped on arrival (`WarpRender`, in the bulk
engine's fetch, so concurrency, retries, verification, the manifest and resume are those of
every bulk job) and saved as an RGBA PNG (`brainmap.client.warped_png`); then ``reference.json``
describing every section's place and, with ``ome_zarr``, one OME-Zarr volume of them all
(`brainmap.client.bulk.reference_volume`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brainmap.client import alignments, urls, warped_png, warping
from brainmap.client._http.transport import Transport
from brainmap.client.alignments import AlignedDataSet
from brainmap.client.bulk.destination import Destination, check_file
from brainmap.client.bulk.engine import BulkReport, Runner, prepare, run_bulk
from brainmap.client.bulk.manifest import Job
from brainmap.client.bulk.naming import FileNamer
from brainmap.client.bulk.verify import decode, expected_size
from brainmap.client.extras import import_extra
from brainmap.client.ranges import Window, image_windows
from brainmap.client.warping import WarpPlan, warp_pixels
from brainmap.errors import BadParameter
from brainmap.reference.planes import CCF_EXTENT_UM

REFERENCE_JSON = "reference.json"
FORMAT = (
    "PNG, RGBA, 8 bits per channel: alpha 255 where the grid point lies in the section, 0 outside"
)


@dataclass(frozen=True)
class WarpRender:
    """A bulk job's `render`: the served JPEG -> the section warped onto its grid, as a PNG."""

    plan: WarpPlan

    def __call__(self, body: bytes) -> bytes:
        section = warp_pixels(self.plan, decode(body))
        return warped_png.encode(section.pixels, section.valid)


def file_ending(resolution_um: float) -> str:
    """The end of a warped section's file name: ``_reference-25um.png``."""
    return f"_reference-{resolution_um:g}um.png"


def reference_document(
    data_set: AlignedDataSet,
    resolution_um: float,
    sections: Sequence[tuple[WarpPlan, str]],
    extent_um: tuple[float, float, float] = CCF_EXTENT_UM,
) -> dict[str, Any]:
    """``reference.json``: the grid (plane, its normal and axes, spacing, shape, the reference
    space's extent) and, in section order, each section's file and place
    (`WarpPlan.describe`)."""
    grid = sections[0][0].plane.grid if sections else None
    entries = [
        {"file": file, **plan.describe()}
        for plan, file in sorted(sections, key=lambda item: item[0].section_number)
    ]
    return {
        "section_data_set_id": data_set.id,
        "plane": data_set.plane,
        "normal": grid.normal if grid else None,
        "axes": list(grid.axes) if grid else None,
        "resolution_um": resolution_um,
        "shape": list(grid.shape) if grid else None,
        "extent_um": list(extent_um),
        "units": "micrometer",
        "format": FORMAT,
        "sections": entries,
    }


def write_reference_json(destination: Destination, document: dict[str, Any]) -> None:
    """Write ``reference.json`` into the destination (temporary name, then rename)."""
    body = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    destination.write(REFERENCE_JSON, body)
    destination.sync([REFERENCE_JSON])


def warp_jobs(plans: Sequence[tuple[WarpPlan, str, str]]) -> list[Job]:
    """The bulk jobs of `plans` (each plan, the URL to fetch, the file to write)."""
    return [
        Job(file, url, *expected_size(plan.image.record, plan.request), render=WarpRender(plan))
        for plan, url, file in plans
    ]


@dataclass(frozen=True)
class WarpJob:
    """What to download: a data set warped at `resolution` µm (and whether to build the
    volume), fetched with `concurrency` requests in flight by `runner` (None: here)."""

    data_set_id: int
    resolution: float
    ome_zarr: bool
    concurrency: int
    runner: Runner | None = None


async def download_warped(
    transport: Transport,
    api_url: str,
    out_dir: str | os.PathLike[str],
    job: WarpJob,
    options: dict[str, Any],
) -> BulkReport:
    """Run `job` into `out_dir`; `options` are ``quiet``, ``progress``, ``manifest``,
    ``downsample`` and the image parameters. Every check (parameters, destination, alignment
    records) comes before any fetch or write."""
    quiet, progress = options.pop("quiet", False), options.pop("progress", None)
    manifest, downsample = options.pop("manifest", None), options.pop("downsample", None)
    resolution_um, request, auto = warping.checked_warp(job.resolution, downsample, options)
    destination, _ = prepare(out_dir, manifest)
    if destination.local is not None:
        check_file(destination.local / REFERENCE_JSON, "out")
    if job.ome_zarr:
        import_extra("zarr", "reference", "OME-Zarr volumes need zarr")
        if destination.local is None:
            raise BadParameter("ome_zarr", "the volume is written into a local folder only")
    rma = urls.rma_endpoint(api_url)
    data_set = await alignments.aligned_data_set(transport, rma, job.data_set_id)
    images = await alignments.data_set_images(transport, rma, job.data_set_id)
    windows: dict[int, Window | None] = {}
    if auto:
        windows = await image_windows(transport, rma, [image.record for image in images])
    named = request if downsample is None else request.replace(downsample=downsample)
    namer = FileNamer(named, auto_range=auto, ending=file_ending(resolution_um))
    endpoint = urls.image_endpoint(api_url, "section")
    plans = []
    for image in images:
        own = request.replace(range=windows[image.id]) if auto else request
        plan = warping.plan_warp(image, data_set, own, resolution_um, downsample=downsample)
        plans.append((plan, urls.image_url(endpoint, image.id, plan.request), namer.name(image.id)))
    report = await run_bulk(
        transport,
        warp_jobs(plans),
        out_dir,
        manifest=manifest,
        concurrency=job.concurrency,
        quiet=quiet,
        callback=progress,
        label=f"sections to {resolution_um:g} µm",
        runner=job.runner,
    )
    sections = [(plan, file) for plan, _, file in plans if file not in report.failures]
    document = reference_document(data_set, resolution_um, sections)
    await asyncio.to_thread(write_reference_json, destination, document)
    if job.ome_zarr and report.ok and sections and destination.local is not None:
        from brainmap.client.bulk.reference_volume import build_volume

        name = f"section data set {job.data_set_id} at {resolution_um:g} um"
        await asyncio.to_thread(build_volume, destination.local, sections, name, quiet=quiet)
    return report
