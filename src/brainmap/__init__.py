"""brainmap: the Allen Brain Map image API, as a drop-in client and a self-hosted server."""

from brainmap.client import AsyncClient, Client, ImageDownloadApi, RmaApi
from brainmap.errors import ApiError, BadParameter, BrainmapError, NotFound, QueryFailed, RmaError
from brainmap.params import ImageRequest

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadParameter",
    "BrainmapError",
    "Client",
    "ImageDownloadApi",
    "ImageRequest",
    "NotFound",
    "QueryFailed",
    "RmaApi",
    "RmaError",
]
