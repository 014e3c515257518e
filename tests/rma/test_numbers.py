"""Whole numbers of RMA queries: decimal text within a signed 64-bit integer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainmap.errors import RmaError
from brainmap.rma.ast import ModelStage
from brainmap.rma.numbers import LARGEST, SMALLEST, parse_int64
from brainmap.rma.parse import parse_query


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-0", 0),
        ("+7", 7),
        (str(LARGEST), LARGEST),
        (str(SMALLEST), SMALLEST),
        ("0" * 30 + str(LARGEST), LARGEST),
        ("-" + "0" * 5000 + "1", -1),  # leading zeros do not count against the length
    ],
)
def test_integers_that_fit(text: str, value: int) -> None:
    assert parse_int64(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (str(LARGEST + 1), "out of range"),
        (str(SMALLEST - 1), "out of range"),
        ("9" * 5000, "out of range"),  # refused by length, before int() would refuse it
        ("-" + "9" * 20, "out of range"),
        ("1e3", "not an integer"),
        ("1.0", "not an integer"),
        ("nan", "not an integer"),
        ("inf", "not an integer"),
        (" 1", "not an integer"),
        ("", "not an integer"),
        ("٣", "not an integer"),  # a digit, but not an ASCII one
        ("--1", "not an integer"),
    ],
)
def test_integers_that_do_not_fit(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_int64(text)


@given(st.integers(-(10**30), 10**30))
def test_parse_agrees_with_the_range(number: int) -> None:
    if SMALLEST <= number <= LARGEST:
        assert parse_int64(str(number)) == number
    else:
        with pytest.raises(ValueError, match="out of range"):
            parse_int64(str(number))


@pytest.mark.parametrize("option", ["start_row", "num_rows"])
def test_paging_options_must_fit(option: str) -> None:
    (stage,) = parse_query(f"model::Gene,rma::options[{option}$eq{LARGEST}]")
    assert isinstance(stage, ModelStage)
    assert getattr(stage.options, option) == LARGEST
    with pytest.raises(RmaError, match=f"{option} {LARGEST + 1}: integer out of range"):
        parse_query(f"model::Gene,rma::options[{option}$eq{LARGEST + 1}]")
