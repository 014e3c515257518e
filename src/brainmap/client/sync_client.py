"""`Client`: the blocking facade of `AsyncClient` (its coroutines run on brainmap's I/O thread).

Each method is made from the coroutine of the same name by `_blocking`, so the parameters, their
types and the docstrings are written once, in `AsyncClient`, and type checkers and ``help()`` see
them here too.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from brainmap.client._http import loop
from brainmap.client.async_client import AsyncClient

if TYPE_CHECKING:
    from brainmap.client.allensdk.image_download_api import ImageDownloadApi

P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Client, P], T]:
    """`method` run to its end on the I/O thread, with its parameters and docstring."""

    @functools.wraps(method)
    def run(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return loop.run(method(self.core, *args, **kwargs))

    run.__module__, run.__qualname__ = __name__, f"Client.{method.__name__}"
    return run


def _parameters_of(
    init: Callable[Concatenate[AsyncClient, P], None],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Client, P], None]]:
    """Give the decorated constructor the parameters of `init`."""
    return functools.wraps(init)


class Client:
    """The methods of `AsyncClient`, without ``await``: same constructor, same arguments. Works
    in scripts and in Jupyter (where a loop is already running). Its connections are closed by
    `close` (or leaving ``with``), and otherwise when it is collected or the process exits."""

    core: AsyncClient
    """The async client every call runs on."""

    @_parameters_of(AsyncClient.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.core = AsyncClient(*args, **kwargs)
        weakref.finalize(self, _close_connections, self.core)

    @property
    def api(self) -> ImageDownloadApi:
        """An allensdk-compatible `ImageDownloadApi` on this client's server and transport."""
        return self.core.api

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    close = _blocking(AsyncClient.close)
    query = _blocking(AsyncClient.query)
    section_images = _blocking(AsyncClient.section_images)
    atlas_images = _blocking(AsyncClient.atlas_images)
    sub_images = _blocking(AsyncClient.sub_images)
    download_images = _blocking(AsyncClient.download_images)
    download_section_data_set = _blocking(AsyncClient.download_section_data_set)
    download_atlas = _blocking(AsyncClient.download_atlas)
    get_image = _blocking(AsyncClient.get_image)
    warp_to_reference = _blocking(AsyncClient.warp_to_reference)
    image_to_reference = _blocking(AsyncClient.image_to_reference)
    reference_to_image = _blocking(AsyncClient.reference_to_image)
    image_to_image = _blocking(AsyncClient.image_to_image)
    image_to_image_2d = _blocking(AsyncClient.image_to_image_2d)
    image_to_atlas = _blocking(AsyncClient.image_to_atlas)
    structure_to_image = _blocking(AsyncClient.structure_to_image)
    svg = _blocking(AsyncClient.svg)
    download_svg = _blocking(AsyncClient.download_svg)


def _close_connections(core: AsyncClient) -> None:
    """Close `core`'s session: the finalizer of a `Client` collected or alive at exit."""
    loop.run_or_schedule(core.close())
