"""The image parameters of the Image Download Service as keyword arguments, typed: what
`AsyncClient` and `Client` take with ``**image_params`` (allensdk's ``download_image`` keywords,
coerced by `brainmap.params.ImageRequest.from_kwargs`). Absent means the service's default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict


class PlateParams(TypedDict, total=False):
    """Every image parameter except ``annotation`` (which `download_atlas` takes itself)."""

    downsample: int
    quality: int
    tumor_feature_annotation: bool
    tumor_feature_boundary: bool
    atlas: int
    projection: bool
    expression: bool
    colormap: str | tuple[float, str]
    """A name, a full ``gain,threshold,lo,hi,id`` string, or ``(threshold, name)``."""
    range: Sequence[float]
    rgb: Sequence[float]
    contrast: Sequence[float]
    view: str
    left: int
    top: int
    width: int
    height: int
    downsample_dimensions: bool
    structure: int | Sequence[int]
    """Structures to highlight on an annotated plate (a brainmap extension)."""


class ImageParams(PlateParams, total=False):
    """Every image parameter."""

    annotation: bool
