"""brainmap: the Allen Brain Map image API, as a drop-in client and a self-hosted server.

The public names load on first use (the client, with aiohttp and numpy, when one of its names is
first touched), so ``import brainmap`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from brainmap.errors import ApiError, BadParameter, BrainmapError, NotFound, QueryFailed, RmaError

if TYPE_CHECKING:
    from brainmap.client import AsyncClient as AsyncClient
    from brainmap.client import Client as Client
    from brainmap.client import ImageDownloadApi as ImageDownloadApi
    from brainmap.client import RmaApi as RmaApi
    from brainmap.client import SvgApi as SvgApi
    from brainmap.client import SynchronizationApi as SynchronizationApi
    from brainmap.params import ImageRequest as ImageRequest

    __version__: str

_LAZY = {
    "AsyncClient": "brainmap.client",
    "Client": "brainmap.client",
    "ImageDownloadApi": "brainmap.client",
    "RmaApi": "brainmap.client",
    "SvgApi": "brainmap.client",
    "SynchronizationApi": "brainmap.client",
    "ImageRequest": "brainmap.params",
}
"""Public names imported on first access, and where from."""

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
    "SvgApi",
    "SynchronizationApi",
]


def __getattr__(name: str) -> object:
    """`__version__` (from the package metadata) and the names of `_LAZY`, on first access."""
    if name == "__version__":
        from importlib.metadata import version

        value: object = version("brainmap")
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
