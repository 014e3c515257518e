"""`Client`: the blocking facade of `AsyncClient` (its coroutines run on brainmap's I/O thread)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from brainmap.client._http import loop
from brainmap.client.async_client import AsyncClient
from brainmap.client.bulk.engine import BulkReport


class Client:
    """Same constructor and methods as `AsyncClient`, without ``await``. Works in scripts and
    in Jupyter (where a loop is already running)."""

    def __init__(self, api_url: str | None = None, **options: Any) -> None:
        self.core = AsyncClient(api_url, **options)

    @property
    def api(self) -> Any:
        """An allensdk-compatible `ImageDownloadApi` on this client's transport."""
        return self.core.api

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        loop.run(self.core.close())

    def query(self, rma: str, **options: Any) -> Any:
        """See `AsyncClient.query`."""
        return loop.run(self.core.query(rma, **options))

    def section_images(self, data_set_id: int, **options: Any) -> Any:
        """See `AsyncClient.section_images`."""
        return loop.run(self.core.section_images(data_set_id, **options))

    def atlas_images(self, atlas_id: int, **options: Any) -> Any:
        """See `AsyncClient.atlas_images`."""
        return loop.run(self.core.atlas_images(atlas_id, **options))

    def sub_images(self, image_ids: Iterable[int]) -> list[Any]:
        """See `AsyncClient.sub_images`."""
        return loop.run(self.core.sub_images(image_ids))

    def download_images(
        self, image_ids: Iterable[int], out_dir: str | Path, **options: Any
    ) -> BulkReport:
        """See `AsyncClient.download_images`."""
        return loop.run(self.core.download_images(image_ids, out_dir, **options))

    def download_section_data_set(
        self, data_set_id: int, out_dir: str | Path, **options: Any
    ) -> BulkReport:
        """See `AsyncClient.download_section_data_set`."""
        return loop.run(self.core.download_section_data_set(data_set_id, out_dir, **options))

    def download_atlas(self, atlas_id: int, out_dir: str | Path, **options: Any) -> BulkReport:
        """See `AsyncClient.download_atlas`."""
        return loop.run(self.core.download_atlas(atlas_id, out_dir, **options))

    def get_image(self, image_id: int, **options: Any) -> np.ndarray:
        """See `AsyncClient.get_image`."""
        return loop.run(self.core.get_image(image_id, **options))
