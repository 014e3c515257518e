"""RMA value text -> the Python value of a column, and RMA ``*`` patterns -> SQL LIKE or GLOB.

Numbers must be whole numbers in range (integers fit 64 bits, floats are finite), booleans are
``true``/``false``/``t``/``f`` in any case, datetimes ISO 8601 (aware ones become naive UTC), and
text must be encodable as UTF-8 and free of NUL characters (PostgreSQL cannot hold them, so no
store has them to match). A ValueError says what is wrong with the text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import SQLColumnExpression

from brainmap.rma.numbers import parse_int64
from brainmap.store.query.dialect import CODE_POINT_ORDER, SQLITE
from brainmap.store.query.scope import Condition

MAX_PATTERN = 10_000  # SQLite refuses LIKE/GLOB patterns over 50,000 bytes
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
RMA_TRUE = ("true", "t")
RMA_FALSE = ("false", "f")
"""Boolean values as RMA filters write them (not the image service's words in `service.py`)."""


def typed_value(kind: type, text: str) -> object:
    """`text` as a value of Python type `kind` (text for a type without a converter)."""
    return _CONVERTERS.get(kind, _to_text)(text)


def like(
    column: SQLColumnExpression[Any], pattern: str, case_sensitive: bool, dialect: str
) -> Condition:
    """RMA `*` wildcards, every other character literal; ignoring case folds ASCII letters
    only. SQLite's LIKE ignores case: GLOB there for `$li`. PostgreSQL's ILIKE folds every
    letter its locale knows: in code-point collation ("C") it folds ASCII letters only."""
    if case_sensitive and dialect == SQLITE:
        glob = "".join(f"[{char}]" if char in "?[" else char for char in pattern)
        return column.op("GLOB", is_comparison=True)(glob)
    escaped = re.sub(r"([\\%_])", r"\\\1", pattern).replace("*", "%")
    if case_sensitive:
        return column.like(escaped, escape="\\")
    if dialect != SQLITE:
        column = column.collate(CODE_POINT_ORDER)
    return column.ilike(escaped, escape="\\")


def _to_float(text: str) -> float:
    if not NUMBER.fullmatch(text):
        raise ValueError("not a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _to_bool(text: str) -> bool:
    word = text.lower()
    if word not in RMA_TRUE + RMA_FALSE:
        raise ValueError("not a boolean (true, false, t or f)")
    return word in RMA_TRUE


def _to_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _to_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid unicode text") from None
    if "\x00" in text:
        raise ValueError("text with a NUL character")
    return text


_CONVERTERS: dict[type, Callable[[str], object]] = {
    int: parse_int64,
    float: _to_float,
    bool: _to_bool,
    dt.datetime: _to_datetime,
    str: _to_text,
}
