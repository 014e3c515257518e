"""The client half: allensdk's query and download classes on a modern transport."""

from brainmap.client.api_base import Api
from brainmap.client.async_client import AsyncClient
from brainmap.client.bulk import BulkReport
from brainmap.client.cache import cacheable
from brainmap.client.image_download_api import ImageDownloadApi
from brainmap.client.paging import IncompleteResult, IncompleteResultWarning
from brainmap.client.progress import ProgressEvent
from brainmap.client.retry import RetryPolicy
from brainmap.client.rma_api import RmaApi
from brainmap.client.rma_template import RmaTemplate
from brainmap.client.sync_client import Client
from brainmap.client.transport import (
    AsyncTransport,
    Response,
    Timeouts,
    Transport,
    default_transport,
)

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
