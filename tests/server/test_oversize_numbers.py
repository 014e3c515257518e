"""Every place a number can sit in an RMA query, over HTTP in every format, with numbers that
do not fit: each answer is a complete `success: false` naming its stage and reason, and the
server logs nothing (no traceback). Numbers that just fit still answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.rma.numbers import LARGEST, SMALLEST
from loopback import call

FORMATS = ["json", "xml", "csv"]
NOT_INTEGERS = [
    str(LARGEST + 1),
    str(SMALLEST - 1),
    "9" * 23,
    "9" * 5000,  # beyond Python's own limit on converting text to int
    "1e999",
    "-1e999",
    "1e3",
    "1.5",
    "nan",
    "inf",
    "-Infinity",
]
NOT_COUNTS = [*NOT_INTEGERS, "-1", str(SMALLEST)]
NOT_FLOATS = ["9" * 400, "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "Infinity"]

QUERY = "/api/v2/data/query.{fmt}?q="
LEGACY = "/api/v2/data/SectionImage/query.{fmt}?"
INTEGER_SLOTS = [
    QUERY + "model::SectionImage[id$eq{n}]",
    QUERY + "model::SectionImage[id$eq'{n}']",
    QUERY + "model::SectionImage[id$in1,{n}]",
    QUERY + "model::SectionImage[id$ne{n}]",
    QUERY + "model::SectionDataSet,rma::criteria,section_images[section_number$gt{n}]",
    QUERY + "model::SectionDataSet,rma::criteria,products(data_sets[id$eq{n}])",
    QUERY + "model::SectionDataSet,rma::include,section_images[id$eq{n}]",
    QUERY + "model::Gene,pipe::list[ids$is'id'],model::Gene[id$in$ids][id$lt{n}]",
    QUERY + "model::Gene[id$eq1],model::Gene[id$eq{n}]",
    LEGACY + "criteria=[id$eq{n}]",
    LEGACY + "include=section_data_set[id$eq{n}]",
]
COUNT_SLOTS = [
    QUERY + "model::SectionImage,rma::options[start_row$eq{n}]",
    QUERY + "model::SectionImage,rma::options[num_rows$eq{n}]",
    QUERY + "model::SectionImage,rma::options[tabular$eq'id'][start_row$eq{n}]",
    QUERY + "model::SectionImage,rma::options[tabular$eq'id'][num_rows$eq{n}]",
    QUERY + "model::Gene,rma::options[start_row$eq'{n}'],pipe::list[ids$is'id'],model::Gene",
    LEGACY + "start_row={n}",
    LEGACY + "num_rows={n}",
]
FLOAT_SLOTS = [
    QUERY + "model::SectionImage[resolution$eq{n}]",
    QUERY + "model::SectionDataSet,rma::criteria,section_images(alignment2d[tsv_00$lt{n}])",
    QUERY + "model::SectionDataSet[section_thickness$in1,{n}]",
]
PATH_SLOTS = [
    "/api/v2/data/SectionImage/{n}.{fmt}",
    "/api/v2/data/SectionImage/{n}.{fmt}?include=section_data_set",
    "/api/v2/structure_graph_download/{n}.{fmt}",
]
PATH_NUMBERS = [str(LARGEST + 1), "9" * 23, "9" * 5000]

CASES = [
    *((slot, n) for slot in INTEGER_SLOTS for n in NOT_INTEGERS),
    *((slot, n) for slot in COUNT_SLOTS for n in NOT_COUNTS),
    *((slot, n) for slot in FLOAT_SLOTS for n in NOT_FLOATS),
    *((slot, n) for slot in PATH_SLOTS for n in PATH_NUMBERS),
]
FITTING = [
    *((slot, n) for slot in INTEGER_SLOTS for n in (str(LARGEST), str(SMALLEST))),
    *((slot, str(LARGEST)) for slot in COUNT_SLOTS),
    *((slot, "1e308") for slot in FLOAT_SLOTS),
    *((slot, str(LARGEST)) for slot in PATH_SLOTS),
]


@pytest.fixture()
def server_log() -> Iterator[list[logging.LogRecord]]:
    """What the server (in this process) logs as errors while the test runs."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _get(server: str, slot: str, number: str, fmt: str) -> tuple[int, bytes]:
    path, _, query = slot.format(n=number, fmt=fmt).partition("?")
    name, _, value = query.partition("=")
    status, _, body = call(server, path, f"{name}={quote(value, safe='')}" if query else "")
    return status, body


def query_error(fmt: str, body: bytes) -> str:
    """The message of a complete `success: false` body in `fmt`; fails on anything else."""
    text = body.decode()
    if fmt == "json":
        reply = json.loads(text)
        assert reply["success"] is False
        message = str(reply["msg"])
    elif fmt == "xml":
        assert '<Response success="false"' in text and text.endswith("</msg></Response>")
        message = text.split("<msg>", 1)[1].removesuffix("</msg></Response>")
    else:
        assert text.endswith("\n") and text.count("\n") == 1
        message = text.strip()
    stage, _, reason = message.removeprefix("Error in query: ").rpartition(", ")
    assert message.startswith("Error in query: ") and stage and reason, message
    return message


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("slot", "number"), CASES, ids=lambda value: str(value)[:40])
def test_a_number_that_does_not_fit_is_a_query_error(
    rma_server: str, server_log: list[logging.LogRecord], slot: str, number: str, fmt: str
) -> None:
    status, body = _get(rma_server, slot, number, fmt)
    assert status == 200
    message = query_error(fmt, body)
    assert number[:40] in message or "out of range" in message or "not an integer" in message
    assert server_log == []


@pytest.mark.parametrize(("slot", "number"), FITTING, ids=lambda value: str(value)[:40])
def test_a_number_that_just_fits_is_answered(
    rma_server: str, server_log: list[logging.LogRecord], slot: str, number: str
) -> None:
    status, body = _get(rma_server, slot, number, "json")
    assert status == 200
    reply = json.loads(body)
    assert reply["success"] is True, reply["msg"]
    assert server_log == []


@settings(max_examples=150, deadline=None)
@given(
    number=st.integers(-(10**40), 10**40) | st.sampled_from([LARGEST, SMALLEST, -1, 0]),
    slot=st.sampled_from(INTEGER_SLOTS + COUNT_SLOTS),
)
def test_any_integer_is_answered_exactly_when_it_fits(
    rma_server: str, number: int, slot: str
) -> None:
    status, body = _get(rma_server, slot, str(number), "json")
    assert status == 200
    fits = SMALLEST <= number <= LARGEST and (slot in INTEGER_SLOTS or number >= 0)
    if fits:
        assert json.loads(body)["success"] is True
    else:
        query_error("json", body)
