"""The IIIF image request path, ``{region}/{size}/{rotation}/{quality}.{format}``, as values.

Syntax only: whether a region meets the image or a size needs upscaling depends on the image and
is `plan`'s job. Every refusal is a BadParameter naming the segment (HTTP 400). Numbers follow
the specification: pixel values are non-negative integers, percentages and angles non-negative
decimals of digits and one ``.`` (no sign, no exponent).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from brainmap.errors import BadParameter

QUALITIES = ("default", "color", "gray", "bitonal")
FORMATS = ("jpg", "png")

_INTEGER = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SIZE = re.compile(r"(\d*),(\d*)")

RegionKind = Literal["full", "square", "pixels", "percent"]
SizeKind = Literal["max", "width", "height", "exact", "confined", "percent"]


@dataclass(frozen=True)
class Region:
    """``full``, ``square``, ``x,y,w,h`` (pixels) or ``pct:x,y,w,h`` (`values` as given)."""

    kind: RegionKind
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class Size:
    """``max``, ``w,``, ``,h``, ``w,h``, ``!w,h`` or ``pct:n``; `upscale` for a ``^`` prefix."""

    kind: SizeKind
    width: int | None = None
    height: int | None = None
    percent: float | None = None
    upscale: bool = False


@dataclass(frozen=True)
class IiifRequest:
    """One image request: region, size, clockwise rotation (after mirroring), quality, format."""

    region: Region
    size: Size
    rotation: float
    mirror: bool
    quality: str
    format: str

    @classmethod
    def parse(cls, region: str, size: str, rotation: str, quality_format: str) -> IiifRequest:
        """Read the four path segments (already percent-decoded)."""
        quality, dot, image_format = quality_format.rpartition(".")
        if not dot:
            raise BadParameter("format", f"{quality_format!r} has no .jpg or .png suffix")
        if quality not in QUALITIES:
            raise BadParameter("quality", f"{quality!r} is not one of {', '.join(QUALITIES)}")
        if image_format not in FORMATS:
            raise BadParameter(
                "format", f"{image_format!r} is not supported; use {' or '.join(FORMATS)}"
            )
        degrees, mirror = parse_rotation(rotation)
        return cls(parse_region(region), parse_size(size), degrees, mirror, quality, image_format)


def parse_region(text: str) -> Region:
    """``full``, ``square``, ``x,y,w,h`` or ``pct:x,y,w,h``."""
    if text == "full":
        return Region("full")
    if text == "square":
        return Region("square")
    if text.startswith("pct:"):
        return Region("percent", _numbers(text[4:], 4, "region", _decimal))
    return Region("pixels", _numbers(text, 4, "region", _integer))


def parse_size(text: str) -> Size:
    """``[^]max``, ``[^]w,``, ``[^],h``, ``[^]w,h``, ``[^]!w,h`` or ``[^]pct:n``."""
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return Size("max", upscale=upscale)
    if body.startswith("pct:"):
        return Size("percent", percent=_decimal(body[4:], "size"), upscale=upscale)
    confined = body.startswith("!")
    match = _SIZE.fullmatch(body.removeprefix("!"))
    if match is None or not any(match.groups()) or (confined and not all(match.groups())):
        raise BadParameter("size", f"{text!r} is not max, w, ,h, w,h, !w,h or pct:n")
    width = _integer(match[1], "size") if match[1] else None
    height = _integer(match[2], "size") if match[2] else None
    kind: SizeKind = "confined" if confined else "exact"
    if width is None:
        kind = "height"
    elif height is None:
        kind = "width"
    return Size(kind, width, height, upscale=upscale)


def parse_rotation(text: str) -> tuple[float, bool]:
    """Degrees clockwise in 0..360, and whether ``!`` mirrors the image first."""
    mirror = text.startswith("!")
    degrees = _decimal(text.removeprefix("!"), "rotation")
    if degrees > 360:
        raise BadParameter("rotation", f"{degrees:g} is outside 0..360")
    return degrees % 360, mirror


def _numbers(
    text: str, count: int, name: str, read: Callable[[str, str], float]
) -> tuple[float, ...]:
    parts = text.split(",")
    if len(parts) != count:
        raise BadParameter(name, f"{text!r} needs {count} comma-separated numbers")
    return tuple(read(part, name) for part in parts)


def _integer(text: str, name: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise BadParameter(name, f"{text!r} is not a non-negative integer")
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise BadParameter(name, f"a {len(text)}-digit number is too large") from None


def _decimal(text: str, name: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise BadParameter(name, f"{text!r} is not a non-negative decimal number")
    value = float(text)
    if not math.isfinite(value):
        raise BadParameter(name, f"{text!r} is too large")
    return value
