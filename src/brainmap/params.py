"""The image request of the Image Download Service: one model, rendered by the client, parsed by
the server.

`ImageRequest.from_kwargs` takes allensdk's ``download_image`` keyword arguments with allensdk's
own coercions, and `to_query` renders them in allensdk's exact order and spelling, so URLs are
byte-identical. `ImageRequest.parse` reads a query string on the server side and rejects bad
values with `BadParameter` (HTTP 400). For every request `r` the client can render,
``ImageRequest.parse(r.to_pairs()) == r``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from brainmap.errors import BadParameter
from brainmap.service import FALSE_WORDS, TRUE_WORDS, VIEWS

COLORMAPS: dict[str, int] = {
    "gray": 0,
    "hotmetal": 1,
    "jet": 2,
    "redtemp": 3,
    "expression": 4,
    "red": 5,
    "blue": 6,
    "green": 7,
    "aba": 8,
    "aibsmap_alt": 9,
    "colormap": 10,
    "projection": 11,
}
"""Colormap names and lookup-table ids, as allensdk's ``ImageDownloadApi.COLORMAPS``."""

VIEW_ERROR = (
    "view argument should be 'expression', 'projection', "
    "'tumor_feature_annotation' or 'tumor_feature_boundary'"
)

Number = int | float

# Parameter kinds, in allensdk's rendering order (docs/allen-api.md §6.2).
_INT = "int"
_BOOL = "bool"
_STRICT_BOOL = "strict_bool"  # allensdk: 'true' only for `is True`
_NUMBERS = "numbers"
_TEXT = "text"
_VIEW = "view"
_IDS = "ids"

_KINDS: dict[str, str] = {
    "downsample": _INT,
    "quality": _INT,
    "tumor_feature_annotation": _BOOL,
    "tumor_feature_boundary": _BOOL,
    "annotation": _STRICT_BOOL,
    "atlas": _INT,
    "projection": _STRICT_BOOL,
    "expression": _BOOL,
    "colormap": _TEXT,
    "range": _NUMBERS,
    "rgb": _NUMBERS,
    "contrast": _NUMBERS,
    "view": _VIEW,
    "left": _INT,
    "top": _INT,
    "width": _INT,
    "height": _INT,
    "downsample_dimensions": _BOOL,
    "structure": _IDS,
}

_NUMBER_COUNTS = {"range": 6, "rgb": 3, "contrast": 2}
OLDER_FILTERS = ("range", "rgb", "contrast", "colormap")
"""The filters the older ``filter=<name>&filterVals=<values>`` form may name."""
_INTEGER = re.compile(r"-?[0-9]+")
MAX_DIGITS = 4000
"""The longest whole number a parameter may be written with (Python converts up to 4300)."""
LARGEST_ID = 2**63 - 1
"""The largest record id a store can hold (a signed 64-bit integer)."""


@dataclass(frozen=True)
class ImageRequest:
    """Every parameter of the Image Download Service; ``None`` means absent.

    ``structure`` is a brainmap extension (highlight structures on annotated plates); the rest
    are the real API's parameters.
    """

    # the region and its scale
    downsample: int | None = None
    left: int | None = None
    top: int | None = None
    width: int | None = None
    height: int | None = None
    downsample_dimensions: bool | None = None
    # the pixel filters and the JPEG quality
    range: tuple[Number, ...] | None = None
    rgb: tuple[Number, ...] | None = None
    contrast: tuple[Number, ...] | None = None
    colormap: str | None = None
    quality: int | None = None
    # the atlas annotation of a plate
    annotation: bool | None = None
    atlas: int | None = None
    structure: tuple[int, ...] | None = None
    # the alternate to read instead of the image
    view: str | None = None
    expression: bool | None = None
    projection: bool | None = None
    tumor_feature_annotation: bool | None = None
    tumor_feature_boundary: bool | None = None

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> ImageRequest:
        """Build from allensdk's ``download_image`` keyword arguments, coercing as allensdk does.

        Integers are truncated with ``%d`` semantics (a string raises TypeError), a colormap
        given as ``(threshold, name)`` becomes ``0.5,<threshold>,0,256,<id>`` (unknown name:
        KeyError), a bad ``view`` raises ValueError. Unknown keywords are ignored, as allensdk
        ignores them.
        """
        values: dict[str, Any] = {}
        for name, kind in _KINDS.items():
            value = kwargs.get(name)
            if value is None:
                continue
            if kind == _INT:
                values[name] = int("%d" % value)  # noqa: UP031 - allensdk's %d coercion
            elif kind == _BOOL:
                values[name] = bool(value)
            elif kind == _STRICT_BOOL:
                values[name] = value is True
            elif kind == _TEXT:
                values[name] = _colormap_text(value)
            elif kind == _NUMBERS:
                values[name] = tuple(_number(str(item), name) for item in value)
            elif kind == _VIEW:
                if value not in VIEWS:
                    raise ValueError(VIEW_ERROR)
                values[name] = value
            else:
                values[name] = tuple(int("%d" % item) for item in _as_sequence(value))  # noqa: UP031
        return cls(**values)

    def to_pairs(self) -> list[tuple[str, str]]:
        """Query parameters in allensdk's order, with its spelling of every value."""
        pairs = []
        for name in _KINDS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(str(item) for item in value)
            else:
                text = str(value)
            pairs.append((name, text))
        return pairs

    def to_query(self) -> str:
        """The query string (no leading ``?``); empty when no parameter is set."""
        return "&".join(f"{name}={text}" for name, text in self.to_pairs())

    @classmethod
    def parse(cls, pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> ImageRequest:
        """Server side: read decoded query parameters, validating every known one.

        Unknown parameters are ignored (the real service tolerates them). A repeated parameter
        keeps its last value. The older ``filter=X&filterVals=V`` form reads as ``X=V``.
        """
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        values: dict[str, Any] = {}
        for name, text in with_older_filters(items):
            kind = _KINDS.get(name)
            if kind is not None:
                values[name] = _parse_value(name, kind, text)
        request = cls(**values)
        request.validate()
        return request

    def validate(self) -> None:
        """Check ranges and counts the rules define; raise BadParameter naming the parameter.

        The upper limit of ``range`` depends on the image: see `check_scale`."""
        for name in ("downsample", "quality", "atlas", "left", "top"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise BadParameter(name, f"must not be negative, got {value}")
        if self.quality is not None and self.quality > 100:
            raise BadParameter("quality", f"must be 0..100, got {self.quality}")
        for name, ids in (("atlas", (self.atlas,)), ("structure", self.structure or ())):
            if any(value is not None and value > LARGEST_ID for value in ids):
                raise BadParameter(name, f"ids are at most {LARGEST_ID}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise BadParameter(name, f"must be positive, got {value}")
        for name, count in _NUMBER_COUNTS.items():
            value = getattr(self, name)
            if value is not None and len(value) != count:
                raise BadParameter(name, f"needs {count} comma-separated numbers, got {len(value)}")
        if self.range is not None:
            for channel, (low, high) in zip(
                "rgb", zip(self.range[::2], self.range[1::2], strict=True), strict=True
            ):
                if high <= low:
                    raise BadParameter("range", f"{channel} upper bound {high} <= lower {low}")
                if low < 0:
                    raise BadParameter("range", f"{channel} lower bound {low} is negative")
        if self.rgb is not None and any(not 0 <= gain <= 10 for gain in self.rgb):
            raise BadParameter("rgb", "gains must be within 0..10")
        if self.contrast is not None and any(not 0 <= value <= 1 for value in self.contrast):
            raise BadParameter("contrast", "gain and bias must be within 0..1")
        if self.colormap is not None:
            parse_colormap(self.colormap)

    def check_scale(self, scale: int) -> None:
        """Refuse ``range`` bounds above `scale`, the largest value of the image's scale
        (docs/rules.md, "Pixel pipeline" step 3)."""
        if self.range is not None and max(self.range) > scale:
            raise BadParameter(
                "range", f"bounds are at most {scale} for this image, got {max(self.range)}"
            )

    def replace(self, **changes: Any) -> ImageRequest:
        """A copy with some parameters changed (``None`` removes one)."""
        current = {field.name: getattr(self, field.name) for field in fields(self)}
        current.update(changes)
        return ImageRequest(**current)


@dataclass(frozen=True)
class ColormapSpec:
    """The five values of ``colormap=gain,threshold,lo,hi,id`` (docs/rules.md, "Pixel pipeline"
    step 6)."""

    gain: float
    threshold: float
    low: float
    high: float
    table: int


def parse_colormap(text: str) -> ColormapSpec:
    """Read a colormap parameter: a bare table name, or five comma-separated numbers."""
    if text in COLORMAPS:
        return ColormapSpec(0.5, 0.0, 0.0, 256.0, COLORMAPS[text])
    parts = text.split(",")
    if len(parts) != 5:
        raise BadParameter(
            "colormap", f"expected a name ({', '.join(COLORMAPS)}) or gain,threshold,lo,hi,id"
        )
    gain, threshold, low, high = (float(_number(part, "colormap")) for part in parts[:4])
    table = _number(parts[4], "colormap")
    if not isinstance(table, int) or table not in COLORMAPS.values():
        raise BadParameter("colormap", f"unknown lookup table id {parts[4]}")
    if not 0 < gain < 1:
        raise BadParameter("colormap", f"gain must be strictly between 0 and 1, got {gain}")
    if high <= low:
        raise BadParameter("colormap", f"upper bound {high} <= lower bound {low}")
    return ColormapSpec(gain, threshold, low, high, table)


def with_older_filters(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """`pairs` with each ``filter=X`` and the ``filterVals=V`` after it read as ``X=V``, where
    the ``filterVals`` stands (docs/rules.md, "Older filter form"). BadParameter names an
    unknown filter, half a pair, or a filter given in both forms."""
    read: list[tuple[str, str]] = []
    older: set[str] = set()
    direct: set[str] = set()
    pending: str | None = None
    for name, text in pairs:
        if name == "filter":
            _check_closed(pending)
            if text not in OLDER_FILTERS:
                known = ", ".join(OLDER_FILTERS)
                raise BadParameter("filter", f"unknown filter {text!r} (known: {known})")
            pending = text
            continue
        if name == "filterVals":
            if pending is None:
                raise BadParameter("filterVals", "has no filter= before it naming its filter")
            name, pending = pending, None
            older.add(name)
        elif name in OLDER_FILTERS:
            direct.add(name)
        read.append((name, text))
    _check_closed(pending)
    for name in OLDER_FILTERS:
        if name in older and name in direct:
            raise BadParameter(
                name, f"given both as {name}= and as filter={name}&filterVals=; use one form"
            )
    return read


def _check_closed(pending: str | None) -> None:
    if pending is not None:
        raise BadParameter("filter", f"filter={pending} has no filterVals after it")


def _colormap_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    threshold, name = value[0], value[1]
    return f"0.5,{threshold!s},0,256,{COLORMAPS[name]:d}"


def _as_sequence(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple)) else (value,)


def _whole(text: str, name: str) -> int:
    """`text`, matched by `_INTEGER`, as an int; BadParameter for more digits than Python
    converts (thousands: no id, size or level is that long)."""
    if len(text) > MAX_DIGITS:
        raise BadParameter(name, f"a number of {len(text)} digits is too long")
    return int(text)


def _number(text: str, name: str) -> Number:
    text = text.strip()
    if _INTEGER.fullmatch(text):
        return _whole(text, name)
    try:
        if not text.isascii() or "_" in text:  # float() reads other digits and 1_000 too
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise BadParameter(name, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadParameter(name, f"{text!r} is not a finite number")
    return value


def _parse_value(name: str, kind: str, text: str) -> Any:
    if kind == _INT:
        if not _INTEGER.fullmatch(text.strip()):
            raise BadParameter(name, f"{text!r} is not an integer")
        return _whole(text.strip(), name)
    if kind in (_BOOL, _STRICT_BOOL):
        lowered = text.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise BadParameter(name, f"{text!r} is not true or false")
    if kind == _NUMBERS:
        return tuple(_number(part, name) for part in text.split(","))
    if kind == _VIEW:
        if text not in VIEWS:
            raise BadParameter(name, VIEW_ERROR.replace(" argument", ""))
        return text
    if kind == _IDS:
        parts = text.split(",")
        if not all(_INTEGER.fullmatch(part.strip()) for part in parts):
            raise BadParameter(name, f"{text!r} is not a comma-separated list of ids")
        return tuple(_whole(part.strip(), name) for part in parts)
    return text
