"""brainmap: the Allen Brain Map image API, as a drop-in client and a self-hosted server."""

from brainmap.client import ImageDownloadApi, RmaApi
from brainmap.errors import ApiError, BadParameter, BrainmapError, NotFound, QueryFailed, RmaError
from brainmap.params import ImageRequest

__all__ = [
    "ApiError",
    "BadParameter",
    "BrainmapError",
    "ImageDownloadApi",
    "ImageRequest",
    "NotFound",
    "QueryFailed",
    "RmaApi",
    "RmaError",
]
