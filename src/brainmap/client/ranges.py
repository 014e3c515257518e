"""``range="auto"``: each image gets its own data set's display window (its Equalization).

One RMA query per data set, made once for a job. A data set without an Equalization (an atlas,
an ingested 8-bit data set) leaves its images at the service's default (no ``range``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from brainmap.client import urls
from brainmap.client._http.transport import Transport
from brainmap.client.paging import query_rows

RANGE_FIELDS = ("red_lower", "red_upper", "green_lower", "green_upper", "blue_lower", "blue_upper")
"""An Equalization's fields in the order of ``range=``."""

Window = tuple[int, ...]
"""Six bounds: red, green and blue lower and upper."""


async def image_windows(
    transport: Transport, rma: str, records: Iterable[Mapping[str, Any]]
) -> dict[int, Window | None]:
    """The window of each SubImage record, by image id: its data set's Equalization (None
    where the data set has none, or the record names no data set); one query per data set."""
    by_image = {record["id"]: record.get("data_set_id") for record in records}
    data_sets = sorted({data_set for data_set in by_image.values() if data_set is not None})
    answers = await asyncio.gather(
        *(query_rows(transport, urls.equalization_url(rma, data_set)) for data_set in data_sets)
    )
    windows: dict[int | None, Window | None] = {
        data_set: tuple(rows[0][key] for key in RANGE_FIELDS) if rows else None
        for data_set, rows in zip(data_sets, answers, strict=True)
    }
    return {image: windows.get(data_set) for image, data_set in by_image.items()}
