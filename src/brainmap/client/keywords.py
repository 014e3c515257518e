"""The keyword arguments of `AsyncClient` and `Client`, typed (PEP 692): the image parameters
(allensdk's ``download_image`` keywords, coerced by `brainmap.params.ImageRequest.from_kwargs`;
absent means the service's default) and how a bulk download runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TypedDict

if TYPE_CHECKING:
    from distributed import Client as DaskClient

    from brainmap.client.bulk.progress import ProgressCallback


class PixelParams(TypedDict, total=False):
    """The image parameters that change the pixels, not the region or the downsample (those a
    warp to the reference takes)."""

    quality: int
    tumor_feature_annotation: bool
    tumor_feature_boundary: bool
    atlas: int
    projection: bool
    expression: bool
    colormap: str | tuple[float, str]
    """A name, a full ``gain,threshold,lo,hi,id`` string, or ``(threshold, name)``."""
    range: Sequence[float] | Literal["auto"]
    """Six bounds, or ``"auto"``: each image's own data-set Equalization (bulk downloads and
    `get_image`)."""
    rgb: Sequence[float]
    contrast: Sequence[float]
    view: str
    structure: int | Sequence[int]
    """Structures to highlight on an annotated plate (a brainmap extension)."""


class PlateParams(PixelParams, total=False):
    """Every image parameter except ``annotation`` (which `download_atlas` takes itself)."""

    downsample: int
    left: int
    top: int
    width: int
    height: int
    downsample_dimensions: bool


class ImageParams(PlateParams, total=False):
    """Every image parameter."""

    annotation: bool


class BulkOptions(TypedDict, total=False):
    """How a bulk download runs: the keywords every ``download_*`` method takes."""

    quiet: bool
    """No progress bar on stderr."""
    progress: ProgressCallback | None
    """Called after each file."""
    client: DaskClient | str | None
    """A ``distributed.Client`` or a scheduler address: fetch on that dask cluster instead,
    into a destination the workers share."""
    manifest: str | os.PathLike[str] | None
    """Where the manifest file goes (by default in `out_dir`; required for a remote one)."""


class ImageDownload(BulkOptions, ImageParams, total=False):
    """The keywords of `download_images` and `download_section_data_set`."""


class PlateDownload(BulkOptions, PlateParams, total=False):
    """The keywords of `download_atlas` (which takes ``annotation`` itself)."""
