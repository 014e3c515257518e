"""The alignment records a section needs to be warped, fetched by RMA and read as matrices:
each SectionImage's Alignment2d (``include=alignment2d``) and its data set's Alignment3d,
``section_thickness`` and plane of section (``include=alignment3d,plane_of_section``).

A record without its alignment (or thickness) raises NotFound naming it: nothing can place that
image in the reference space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from brainmap.client import urls
from brainmap.client._http.transport import Transport
from brainmap.client.paging import Record, query_rows
from brainmap.errors import ApiError, NotFound
from brainmap.reference.alignment import DataSetAlignment, SectionAlignment
from brainmap.reference.planes import PLANES


@dataclass(frozen=True)
class AlignedDataSet:
    """A section data set placed in the reference space: its id, plane and Alignment3d."""

    id: int
    plane: str
    alignment: DataSetAlignment


@dataclass(frozen=True)
class AlignedImage:
    """A SectionImage record and its Alignment2d."""

    record: Record
    section: SectionAlignment

    @property
    def id(self) -> int:
        return int(self.record["id"])


def plane_of(name: object, alignment: DataSetAlignment) -> str:
    """The plane a PlaneOfSection name names (it contains the plane's word, any case); for any
    other name ("n/a", "variable"...) the reference plane nearest the data set's sections
    (their normal is the volume's depth axis, mapped into the reference space)."""
    if isinstance(name, str):
        for plane in PLANES:
            if plane in name.lower():
                return plane
    nearest = int(np.argmax(np.abs(alignment.to_reference[:3, 2])))
    return next(plane for plane, normal in PLANES.items() if normal == nearest)


def _read(url: str, kind: str, read: Any, *args: Any) -> Any:
    """`read(*args)`; a record that is not what its API promises is an ApiError naming it."""
    try:
        return read(*args)
    except ValueError as error:
        raise ApiError(url, 200, f"{kind}: {error}") from None


async def aligned_data_set(transport: Transport, rma: str, data_set_id: int) -> AlignedDataSet:
    """Section data set `data_set_id` with its alignment; NotFound without one."""
    url = urls.aligned_data_set_url(rma, data_set_id)
    rows = await query_rows(transport, url)
    if not rows:
        raise NotFound(f"no section data set {data_set_id}")
    row = rows[0]
    what = f"section data set {data_set_id}"
    if not isinstance(row.get("alignment3d"), Mapping):
        raise NotFound(f"{what} has no Alignment3d: it is not registered to a reference space")
    thickness = row.get("section_thickness")
    if thickness is None:
        raise NotFound(f"{what} has no section_thickness")
    alignment = _read(url, what, DataSetAlignment.from_record, row["alignment3d"], thickness)
    plane = row.get("plane_of_section")
    name = plane.get("name") if isinstance(plane, Mapping) else None
    return AlignedDataSet(int(row["id"]), plane_of(name, alignment), alignment)


def aligned_image(record: Record, url: str) -> AlignedImage:
    """A SectionImage record (with ``alignment2d`` included) and its alignment; NotFound when
    it has none."""
    what = f"section image {record['id']}"
    found = record.get("alignment2d")
    if not isinstance(found, Mapping):
        raise NotFound(f"{what} has no Alignment2d: it is not registered to its data set")
    number = record.get("section_number")
    if number is None:
        raise NotFound(f"{what} has no section_number")
    return AlignedImage(record, _read(url, what, SectionAlignment.from_record, found, number))


async def aligned_images(
    transport: Transport, rma: str, image_ids: Sequence[int]
) -> list[AlignedImage]:
    """SectionImages by id (in that order) with their alignments; NotFound for an id that
    matches no SectionImage or an image without its alignment."""
    url = urls.aligned_images_url(rma, image_ids)
    by_id = {row["id"]: row for row in await query_rows(transport, url)}
    missing = [image_id for image_id in image_ids if image_id not in by_id]
    if missing:
        raise NotFound(f"no section image {', '.join(map(str, missing[:10]))}")
    return [aligned_image(by_id[image_id], url) for image_id in image_ids]


async def data_set_images(transport: Transport, rma: str, data_set_id: int) -> list[AlignedImage]:
    """Every SectionImage of a data set with its alignment (NotFound naming the first image
    without one)."""
    url = urls.section_images_url(rma, data_set_id, paged=False, include="alignment2d")
    return [aligned_image(row, url) for row in await query_rows(transport, url)]
