"""Allen API response files -> plain records, told apart by their content: RMA JSON (the
``{"success": true, "msg": [...]}`` envelope, a bare list as allensdk caches write it, or one
bare record), ``structure_graph_download`` JSON (nested ``children``, flattened in graph
order), XML (`brainmap.ingest.record_xml`) and RMA CSV (a header row naming an ``id`` column).

A file that holds no records of a known shape is an error saying what it is instead (empty,
binary, an HTML page, a failed response...), never zero records. No database here. XML and CSV
carry text, so their records are marked `textual` and their text values are typed later against
the model's columns (a CSV empty field is null; XML says ``nil="true"``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainmap.ingest.record_xml import XmlRecordsError, xml_records

UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
"""Byte-order marks of UTF-16 text (as Windows PowerShell's ``>`` saves a download)."""
HTML_START = re.compile(r"<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
NOT_RECORDS = "JSON but not a list of records or an envelope"
JSON_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class RecordFileError(ValueError):
    """A file (and, when known, the record in it) that cannot be imported, and why."""

    def __init__(self, path: Path | str, reason: str, record: object = None) -> None:
        where = f"{path}" if record is None else f"{path}, record {record}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class RecordFile:
    """The records of one file, the model they belong to (None: detect per record shape) and
    whether their values may be text to be typed."""

    path: Path
    records: list[dict[str, Any]]
    model: str | None
    textual: bool


def read_record_file(path: Path, model: str | None = None) -> RecordFile:
    """Parse `path` by its content: XML if it starts with ``<``, else JSON if it parses as JSON
    (or starts as JSON does), else CSV; it must hold at least one record."""
    text = _text(path)
    try:
        if text.lstrip().startswith("<"):
            records, named = xml_records(text, model)
            source = RecordFile(path, records, named, True)
        else:
            source = _json_file(path, text, model) or _csv_file(path, text, model)
    except XmlRecordsError as error:
        raise RecordFileError(path, error.reason, error.record) from None
    except RecursionError:  # JSON or XML nested past Python's recursion limit
        raise RecordFileError(path, "nested too deeply to be Allen records") from None
    if not source.records:
        raise RecordFileError(path, "holds no records (an empty result)")
    return source


def _text(path: Path) -> str:
    """The file as text; empty, binary and HTML files are refused here."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RecordFileError(path, f"cannot read: {error.strerror or error}") from None
    encoding = "utf-16" if data.startswith(UTF16_MARKS) else "utf-8-sig"
    try:
        text: str | None = data.decode(encoding)
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        raise RecordFileError(path, "binary data, not Allen records (not UTF-8 or UTF-16 text)")
    if not text.strip():
        raise RecordFileError(path, "empty")
    if HTML_START.match(text.lstrip()):
        raise RecordFileError(path, "an HTML page, not Allen records")
    return text


def _json_file(path: Path, text: str, model: str | None) -> RecordFile | None:
    """The records of a JSON file; None for text that neither parses nor starts as JSON."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        if text.lstrip()[0] not in "{[":
            return None
        raise RecordFileError(path, f"not valid JSON (truncated or damaged): {error}") from None
    if isinstance(parsed, dict) and "msg" in parsed:
        parsed = _envelope_records(path, parsed)
    elif isinstance(parsed, dict):
        if "id" not in parsed:
            raise RecordFileError(path, f"{NOT_RECORDS} (an object with no id)")
        parsed = [parsed]
    if not isinstance(parsed, list):
        kind = JSON_KINDS.get(type(parsed), "value")
        raise RecordFileError(path, f"{NOT_RECORDS} (a JSON {kind})")
    for index, record in enumerate(parsed):
        if not isinstance(record, dict):
            raise RecordFileError(path, "is not a JSON object", index)
    if parsed and all("children" in record for record in parsed):
        return RecordFile(path, list(_flatten(parsed)), model or "Structure", False)
    return RecordFile(path, parsed, model, False)


def _envelope_records(path: Path, envelope: dict[str, Any]) -> list[Any]:
    """An envelope's ``msg`` list; a failure or another ``msg`` is an error."""
    message = envelope["msg"]
    if envelope.get("success") is False:
        raise RecordFileError(path, f"success: false: {message}")
    if message == {}:
        return []  # a service's empty result
    if not isinstance(message, list):
        raise RecordFileError(path, f"an envelope whose msg is not a list of records: {message!r}")
    return message


def _flatten(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """structure_graph_download's nested tree as structures, parents first."""
    for record in records:
        own = {key: value for key, value in record.items() if key != "children"}
        yield own
        yield from _flatten(record.get("children") or [])


def _csv_file(path: Path, text: str, model: str | None) -> RecordFile:
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as error:  # such as a field over the csv module's size limit
        raise RecordFileError(path, f"not readable CSV: {error}") from None
    header, body = rows[0], rows[1:]
    if "id" not in header:
        raise RecordFileError(
            path, "neither JSON, XML nor CSV with a header naming an id column: not Allen records"
        )
    if len(set(header)) != len(header):
        raise RecordFileError(path, "a CSV header that names a column twice")
    for index, row in enumerate(body):
        if len(row) != len(header):
            raise RecordFileError(path, f"has {len(row)} fields, the header {len(header)}", index)
    records = [
        {name: value or None for name, value in zip(header, row, strict=True)} for row in body
    ]
    return RecordFile(path, records, model, True)
