"""Query results -> response bytes, as the real API writes them (streamed in chunks).

JSON (docs/allen-api.md §4.1): ``{"success": true, "id": 0, "start_row": S, "num_rows": N,
"total_rows": T, "msg": [...]}`` with ``": "``/``", "`` in the envelope and compact records.
XML (§4.4): a ``Response`` element with the envelope as attributes, the plural model element,
singular records, hyphens for underscores. CSV (§4.5): a header row, ``t``/``f`` booleans, empty
for null, no byte-order mark, no paging information.
With `debug`, the normalised query follows the records (JSON ``"debug": {"query": ...}`` after
``msg``; XML ``<debug><query>``); CSV has no place for it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from brainmap.errors import RmaError
from brainmap.store.naming import plural, singular, snake_case
from brainmap.store.query.result import QueryResult

BATCH = 200
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""Records as the real API writes them: no spaces, text as it is. One encoder for every call
(`json.dumps` with options makes a new one each time)."""


def _compact(value: Any) -> str:
    return COMPACT.encode(value)


def _batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(records, BATCH)):
        yield batch


def _envelope(success: bool, start_row: int, num_rows: int, total_rows: int) -> dict[str, Any]:
    return {
        "success": success,
        "id": 0,
        "start_row": start_row,
        "num_rows": num_rows,
        "total_rows": total_rows,
    }


# -- JSON ----------------------------------------------------------------------------------


def json_chunks(result: QueryResult) -> Iterator[bytes]:
    """The JSON envelope and its records, a batch of records per chunk."""
    head = json.dumps(_envelope(True, result.start_row, result.num_rows, result.total_rows))
    yield (head[:-1] + ', "msg": [').encode()
    separator = ""
    for batch in _batches(result.records):
        yield (separator + COMPACT.encode(batch)[1:-1]).encode()  # the list's brackets off
        separator = ","
    debug = "" if result.debug is None else f', "debug": {{"query": {json.dumps(result.debug)}}}'
    yield f"]{debug}}}".encode()


def json_error(error: RmaError) -> bytes:
    """HTTP-200 failure envelope (docs/rules.md, "Errors") with the error text as `msg`."""
    return json.dumps({**_envelope(False, 0, 0, 0), "msg": str(error)}).encode()


# -- XML -----------------------------------------------------------------------------------


def _tag(name: str) -> str:
    return name.replace("_", "-")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(XML_INVALID.sub("\ufffd", str(value)))


def _xml_element(name: str, value: object) -> str:
    tag = _tag(name)
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, dict):
        return f"<{tag}>{_xml_fields(value)}</{tag}>"
    if isinstance(value, list):
        items = "".join(_xml_element(singular(name), item) for item in value)
        return f"<{tag}>{items}</{tag}>"
    return f"<{tag}>{_text(value)}</{tag}>"


def _xml_fields(record: dict[str, Any]) -> str:
    return "".join(_xml_element(key, value) for key, value in record.items())


def _response_open(envelope: dict[str, Any]) -> str:
    attributes = " ".join(f"{key}={quoteattr(_text(value))}" for key, value in envelope.items())
    return f"{XML_DECLARATION}<Response {attributes}>"


def xml_chunks(result: QueryResult) -> Iterator[bytes]:
    """`<Response ...><plural><singular>...</singular>...</plural></Response>`."""
    record = snake_case(result.model)
    collection = _tag(plural(record))
    envelope = _envelope(True, result.start_row, result.num_rows, result.total_rows)
    yield f"{_response_open(envelope)}<{collection}>".encode()
    for batch in _batches(result.records):
        yield "".join(_xml_element(record, item) for item in batch).encode()
    debug = "" if result.debug is None else _xml_element("debug", {"query": result.debug})
    yield f"</{collection}>{debug}</Response>".encode()


def xml_error(error: RmaError) -> bytes:
    """The failure envelope as XML attributes, the error text in `<msg>`."""
    return (
        f"{_response_open(_envelope(False, 0, 0, 0))}<msg>{_text(error)}</msg></Response>".encode()
    )


# -- CSV -----------------------------------------------------------------------------------


def object_body(name: str, fields: dict[str, Any], fmt: str) -> bytes:
    """A successful envelope whose ``msg`` is one object, ``{name: fields}`` (the answers of
    the image-sync services), in JSON or XML."""
    envelope = _envelope(True, 0, 0, 0)
    if fmt == "xml":
        return f"{_response_open(envelope)}{_xml_element(name, fields)}</Response>".encode()
    return f'{json.dumps(envelope)[:-1]}, "msg": {_compact({name: fields})}}}'.encode()


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def _csv_lines(rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def csv_chunks(result: QueryResult) -> Iterator[bytes]:
    """Header row of the top-level columns (table order), then one row per record."""
    yield _csv_lines([result.columns])
    for batch in _batches(result.records):
        yield _csv_lines([_csv_value(record[name]) for name in result.columns] for record in batch)


def csv_error(error: RmaError) -> bytes:
    """CSV carries no envelope: the error text on one line."""
    return f"{error}\n".encode()


@dataclass(frozen=True)
class Format:
    """A response format: its media type, result writer and error writer."""

    media_type: str
    write: Callable[[QueryResult], Iterator[bytes]]
    error: Callable[[RmaError], bytes]


FORMATS = {
    "json": Format("application/json", json_chunks, json_error),
    "xml": Format("application/xml", xml_chunks, xml_error),
    "csv": Format("text/csv", csv_chunks, csv_error),
}
