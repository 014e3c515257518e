"""RMA queries fetched whole or in pages, with the envelope's ``total_rows`` checked.

A result is *short* when fewer rows arrive than ``total_rows`` promised (e.g. the server's default
page of 50 cut an unbounded query), and *shifting* when ``total_rows`` changes between pages (rows
were added or removed while paging). Either raises `IncompleteResult`, or with ``strict=False``
warns with `IncompleteResultWarning` and returns what arrived.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from typing import Any

from brainmap.client._http.errors import refuse_busy_service
from brainmap.client._http.transport import Transport
from brainmap.client.urls import wire_url
from brainmap.errors import ApiError, BadParameter, QueryFailed

Record = dict[str, Any]
"""One row of a query: a JSON object."""

_COUNT_FALSE = "[count$eqfalse]"
_PAGING_OPTION = re.compile(r"\[(num_rows|start_row)\$eq")


class IncompleteResult(ApiError):
    """A query's rows do not add up to its ``total_rows``."""


class IncompleteResultWarning(UserWarning):
    """`IncompleteResult` as a warning (``strict=False``)."""


def page_url(url: str, start_row: int, num_rows: int) -> str:
    """`url` asking for rows ``start_row .. start_row + num_rows`` of its last model stage.

    The paging options go into that stage's ``rma::options`` (added if missing); a
    ``[count$eqfalse]`` is dropped so the server counts ``total_rows``. A query that already
    pages itself raises BadParameter.
    """
    if _PAGING_OPTION.search(url):
        raise BadParameter(
            "page_size", "the query already sets num_rows or start_row; drop them to page it"
        )
    url = url.replace(_COUNT_FALSE, "")
    paging = f"[num_rows$eq{num_rows}][start_row$eq{start_row}]"
    head, model, stage = url.rpartition("model::")
    if "rma::options" in stage:
        return head + model + stage.replace("rma::options", "rma::options" + paging, 1)
    return url + ",rma::options" + paging


async def query_rows(
    transport: Transport, url: str, *, page_size: int | None = None, strict: bool = True
) -> list[Record]:
    """The rows of the query `url` (builder form, quoted here), all of them or paged."""
    if page_size is None:
        envelope = await _envelope(transport, url)
        whole = list(envelope["msg"])
        total = envelope.get("total_rows")
        if not _PAGING_OPTION.search(url) and isinstance(total, int) and total > len(whole):
            _incomplete(
                url, f"got {len(whole)} of {total} rows (add num_rows or page_size)", strict
            )
        return whole
    if page_size <= 0:
        raise BadParameter("page_size", f"must be positive, got {page_size}")
    first = await _envelope(transport, page_url(url, 0, page_size))
    total = int(first["total_rows"])
    starts = range(page_size, total, page_size)
    later = await asyncio.gather(
        *(_envelope(transport, page_url(url, start, page_size)) for start in starts)
    )
    rows: list[Record] = []
    for start, envelope in zip((0, *starts), (first, *later), strict=True):
        if int(envelope["total_rows"]) != total:
            message = f"total_rows changed from {total} to {envelope['total_rows']} while paging"
            _incomplete(url, message, strict)
        batch = list(envelope["msg"])
        if len(batch) != min(page_size, total - start):
            _incomplete(url, f"page at row {start} has {len(batch)} rows", strict)
        rows.extend(batch)
    return rows


async def _envelope(transport: Transport, url: str) -> dict[str, Any]:
    """The answer's envelope; a service failing for now is asked again (`ServiceBusy`), any
    other ``success: false`` raises QueryFailed."""
    sent = wire_url(url)
    parsed = (await transport.get(sent, check=refuse_busy_service(sent))).json()
    if not isinstance(parsed, dict) or parsed.get("success") is not True:
        message = parsed.get("msg", "") if isinstance(parsed, dict) else parsed
        raise QueryFailed(url, 200, str(message))
    return parsed


def _incomplete(url: str, message: str, strict: bool) -> None:
    if strict:
        raise IncompleteResult(url, 200, message)
    warnings.warn(f"{message}: {url}", IncompleteResultWarning, stacklevel=3)
