"""Whole numbers in an RMA query: written in decimal and within a signed 64-bit integer, the
widest SQLite (and SQLAlchemy's other databases) store; anything longer is refused by its text,
before Python converts it."""

from __future__ import annotations

import re

SMALLEST = -(2**63)
LARGEST = 2**63 - 1
INTEGER = re.compile(r"[+-]?[0-9]+")
MAX_DIGITS = len(str(LARGEST))


def parse_int64(text: str) -> int:
    """`text` as an integer; ValueError, saying which, if it is not one or does not fit."""
    if not text.isascii() or not INTEGER.fullmatch(text):
        raise ValueError("not an integer")
    if len(text.lstrip("+-").lstrip("0")) > MAX_DIGITS or not SMALLEST <= int(text) <= LARGEST:
        raise ValueError(f"integer out of range ({SMALLEST} to {LARGEST})")
    return int(text)


def fits_int64(value: int) -> bool:
    """Whether `value` can reach the database as a 64-bit integer."""
    return SMALLEST <= value <= LARGEST
