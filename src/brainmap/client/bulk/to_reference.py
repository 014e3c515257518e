"""A section data set downloaded warped to the reference (``to_reference=``): each section
fetched at the coarsest sufficient downsample, warped on arrival (`WarpRender`, in the bulk
engine's fetch, so concurrency, retries, verification, the manifest and resume are those of
every bulk job) and saved as an RGBA PNG (`brainmap.client.warped_png`); then ``reference.json``
describing every section's place and, with ``ome_zarr``, one OME-Zarr volume of them all
(`brainmap.client.bulk.reference_volume`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from brainmap.client import warped_png
from brainmap.client.alignments import AlignedDataSet
from brainmap.client.bulk.destination import Destination
from brainmap.client.bulk.manifest import Job
from brainmap.client.bulk.verify import decode, expected_size
from brainmap.client.warping import WarpPlan, warp_pixels
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
