"""The client half: allensdk's query and download classes, and the bulk client, over one small
HTTP seam (`Transport`).

Layout: ``_http/`` the transport (protocol, aiohttp and mock implementations, retries, atomic
files, the I/O thread); `urls` and `rma_stages` every URL as pure functions; ``bulk/`` plan ->
fetch -> verify -> manifest; `async_client` / `sync_client` the core and its blocking facade;
``allensdk/`` the drop-in classes, a shell over the same transport and URLs.

Names load on first use, so importing this package does not import aiohttp, numpy or rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brainmap.client._http.aiohttp_transport import AiohttpTransport as AiohttpTransport
    from brainmap.client._http.aiohttp_transport import default_transport as default_transport
    from brainmap.client._http.mock import MockTransport as MockTransport
    from brainmap.client._http.mock import json_response as json_response
    from brainmap.client._http.retry import RetryPolicy as RetryPolicy
    from brainmap.client._http.transport import Request as Request
    from brainmap.client._http.transport import Response as Response
    from brainmap.client._http.transport import Timeouts as Timeouts
    from brainmap.client._http.transport import Transport as Transport
    from brainmap.client.allensdk.api import Api as Api
    from brainmap.client.allensdk.cache import cacheable as cacheable
    from brainmap.client.allensdk.image_download_api import ImageDownloadApi as ImageDownloadApi
    from brainmap.client.allensdk.rma_api import RmaApi as RmaApi
    from brainmap.client.allensdk.rma_template import RmaTemplate as RmaTemplate
    from brainmap.client.allensdk.svg_api import SvgApi as SvgApi
    from brainmap.client.allensdk.synchronization_api import (
        SynchronizationApi as SynchronizationApi,
    )
    from brainmap.client.async_client import AsyncClient as AsyncClient
    from brainmap.client.bulk.engine import BulkReport as BulkReport
    from brainmap.client.bulk.progress import ProgressEvent as ProgressEvent
    from brainmap.client.extras import MissingExtra as MissingExtra
    from brainmap.client.paging import IncompleteResult as IncompleteResult
    from brainmap.client.paging import IncompleteResultWarning as IncompleteResultWarning
    from brainmap.client.sync_answers import ImageSync as ImageSync
    from brainmap.client.sync_answers import ReferencePoint as ReferencePoint
    from brainmap.client.sync_client import Client as Client
    from brainmap.client.warping import ReferenceSection as ReferenceSection

_HOMES = {
    "AiohttpTransport": "_http.aiohttp_transport",
    "default_transport": "_http.aiohttp_transport",
    "MockTransport": "_http.mock",
    "json_response": "_http.mock",
    "RetryPolicy": "_http.retry",
    "Request": "_http.transport",
    "Response": "_http.transport",
    "Timeouts": "_http.transport",
    "Transport": "_http.transport",
    "Api": "allensdk.api",
    "cacheable": "allensdk.cache",
    "ImageDownloadApi": "allensdk.image_download_api",
    "RmaApi": "allensdk.rma_api",
    "RmaTemplate": "allensdk.rma_template",
    "SvgApi": "allensdk.svg_api",
    "SynchronizationApi": "allensdk.synchronization_api",
    "AsyncClient": "async_client",
    "BulkReport": "bulk.engine",
    "ProgressEvent": "bulk.progress",
    "MissingExtra": "extras",
    "IncompleteResult": "paging",
    "IncompleteResultWarning": "paging",
    "ImageSync": "sync_answers",
    "ReferencePoint": "sync_answers",
    "Client": "sync_client",
    "ReferenceSection": "warping",
}
"""Public name -> the module (under this package) that defines it."""

__all__ = [
    "AiohttpTransport",
    "Api",
    "AsyncClient",
    "BulkReport",
    "Client",
    "ImageDownloadApi",
    "ImageSync",
    "IncompleteResult",
    "IncompleteResultWarning",
    "MissingExtra",
    "MockTransport",
    "ProgressEvent",
    "ReferencePoint",
    "ReferenceSection",
    "Request",
    "Response",
    "RetryPolicy",
    "RmaApi",
    "RmaTemplate",
    "SvgApi",
    "SynchronizationApi",
    "Timeouts",
    "Transport",
    "cacheable",
    "default_transport",
    "json_response",
]


def __getattr__(name: str) -> object:
    """Import the module defining `name` on first access."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
