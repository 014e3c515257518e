"""The client half: allensdk's query and download classes on a modern transport."""

from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import (
    AsyncTransport,
    Response,
    Timeouts,
    Transport,
    default_transport,
)
from brainmap.client.allensdk.api import Api
from brainmap.client.allensdk.cache import cacheable
from brainmap.client.allensdk.image_download_api import ImageDownloadApi
from brainmap.client.allensdk.rma_api import RmaApi
from brainmap.client.allensdk.rma_template import RmaTemplate
from brainmap.client.async_client import AsyncClient
from brainmap.client.bulk.engine import BulkReport
from brainmap.client.bulk.progress import ProgressEvent
from brainmap.client.paging import IncompleteResult, IncompleteResultWarning
from brainmap.client.sync_client import Client

__all__ = [
    "Api",
    "AsyncClient",
    "AsyncTransport",
    "BulkReport",
    "Client",
    "ImageDownloadApi",
    "IncompleteResult",
    "IncompleteResultWarning",
    "ProgressEvent",
    "Response",
    "RetryPolicy",
    "RmaApi",
    "RmaTemplate",
    "Timeouts",
    "Transport",
    "cacheable",
    "default_transport",
]
