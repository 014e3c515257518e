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
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) <= MAX_DIGITS:
        value = -int(digits) if text.startswith("-") else int(digits)
        if SMALLEST <= value <= LARGEST:
            return value
    raise ValueError(f"integer out of range ({SMALLEST} to {LARGEST})")
