"""The image-sync services' answers as typed values.

``image_to_reference`` answers ``{"image_to_reference": {"x", "y", "z"}}`` (µm, x = p, y = i,
z = r); the others a list of ``{"image_sync": {"section_data_set_id", "section_image_id",
"section_number", "x", "y"}}`` (the real API sends ``section_data_set_id`` as a string; it is
read as a number here). Facts: registration.md §4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brainmap.errors import ApiError


@dataclass(frozen=True)
class ReferencePoint:
    """A point of a reference space in µm: `x` along p (anterior -> posterior), `y` along i
    (superior -> inferior), `z` along r (left -> right)."""

    x: float
    y: float
    z: float


@dataclass(frozen=True)
class ImageSync:
    """A point on an image found by a sync service: the image, its section number and data set
    (when the answer names them), and the full-resolution pixel (x, y), not clipped to the
    image. `record` is the answer's entry as sent (with any other fields)."""

    section_image_id: int
    x: float
    y: float
    section_number: int | None = None
    section_data_set_id: int | None = None
    record: Mapping[str, Any] = field(default_factory=dict, compare=False)


def _unwrapped(entry: object, url: str) -> Mapping[str, Any]:
    """``{"image_sync": {...}}`` -> the inner mapping (an entry already flat stays as it is)."""
    if isinstance(entry, Mapping) and len(entry) == 1:
        (inner,) = entry.values()
        if isinstance(inner, Mapping):
            return inner
    if isinstance(entry, Mapping):
        return entry
    raise ApiError(url, 200, f"unexpected answer entry: {entry!r}"[:300])


def _number(entry: Mapping[str, Any], name: str, url: str) -> float:
    try:
        return float(entry[name])
    except (KeyError, TypeError, ValueError):
        raise ApiError(
            url, 200, f"answer without a numeric {name}: {dict(entry)!r}"[:300]
        ) from None


def _optional_int(entry: Mapping[str, Any], name: str) -> int | None:
    value = entry.get(name)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def reference_point(msg: object, url: str) -> ReferencePoint:
    """The point of an ``image_to_reference`` answer."""
    entry = _unwrapped(msg, url)
    return ReferencePoint(*(_number(entry, name, url) for name in ("x", "y", "z")))


def image_syncs(msg: object, url: str) -> list[ImageSync]:
    """The points of a list answer (a single entry is read as a list of one)."""
    entries = msg if isinstance(msg, list) else [msg]
    found = []
    for raw in entries:
        entry = _unwrapped(raw, url)
        found.append(
            ImageSync(
                int(_number(entry, "section_image_id", url)),
                _number(entry, "x", url),
                _number(entry, "y", url),
                _optional_int(entry, "section_number"),
                _optional_int(entry, "section_data_set_id"),
                dict(entry),
            )
        )
    return found
