"""Allen API response files -> plain records: RMA JSON (with or without the envelope), RMA XML,
RMA CSV and ``structure_graph_download`` JSON (nested ``children``, flattened in graph order).

No database here. XML and CSV carry text only, so their records are marked `textual` and their
values are typed later against the model's columns (CSV: empty field = null; XML:
``nil="true"`` = null).
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainmap.store.naming import plural, singular, snake_case
from brainmap.store.schema import model_classes


class RecordFileError(ValueError):
    """A file (and, when known, the record in it) that cannot be imported, and why."""

    def __init__(self, path: Path | str, reason: str, record: object = None) -> None:
        where = f"{path}" if record is None else f"{path}, record {record}"
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class RecordFile:
    """The records of one file, the model they belong to (None: detect per record shape) and
    whether their values are text to be typed."""

    path: Path
    records: list[dict[str, Any]]
    model: str | None
    textual: bool


def read_record_file(path: Path, model: str | None = None) -> RecordFile:
    """Parse `path` by its content (XML if it starts with ``<``, JSON if ``{``/``[``, else CSV)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RecordFileError(path, f"cannot read: {error}") from None
    start = text.lstrip()[:1]
    if start == "<":
        return _xml_file(path, text, model)
    if start in "{[":
        return _json_file(path, text, model)
    return _csv_file(path, text, model)


def _json_file(path: Path, text: str, model: str | None) -> RecordFile:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordFileError(path, f"not valid JSON: {error}") from None
    if isinstance(parsed, dict) and "msg" in parsed:
        if parsed.get("success") is False:
            raise RecordFileError(path, f"a failed response: {parsed['msg']}")
        parsed = parsed["msg"]
    records = parsed if isinstance(parsed, list) else [parsed]
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise RecordFileError(path, "is not a JSON object", index)
    if records and all("children" in record for record in records):
        return RecordFile(path, list(_flatten(records)), model or "Structure", False)
    return RecordFile(path, records, model, False)


def _flatten(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """structure_graph_download's nested tree as structures, parents first."""
    for record in records:
        own = {key: value for key, value in record.items() if key != "children"}
        yield own
        yield from _flatten(record.get("children") or [])


def _xml_file(path: Path, text: str, model: str | None) -> RecordFile:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise RecordFileError(path, f"not valid XML: {error}") from None
    if root.get("success") == "false":
        raise RecordFileError(path, f"a failed response: {root.findtext('msg')}")
    collections = [child for child in root if child.tag != "debug"]
    if len(collections) != 1:
        raise RecordFileError(path, "expected one collection element inside <Response>")
    collection = collections[0]
    records = [_xml_value(element) for element in collection]
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise RecordFileError(path, "is not a record element", index)
    return RecordFile(path, records, model or _model_of_plural(collection.tag), True)


def _xml_value(element: ElementTree.Element) -> Any:
    """A leaf's text (None for ``nil``), a record as a dict, a collection as a list."""
    if element.get("nil") == "true":
        return None
    children = list(element)
    if not children:
        return element.text or ""
    one = singular(element.tag)
    if all(child.tag == one for child in children) and one != element.tag:
        return [_xml_value(child) for child in children]
    return {child.tag.replace("-", "_"): _xml_value(child) for child in children}


def _model_of_plural(tag: str) -> str | None:
    plurals = {plural(snake_case(name)): name for name in model_classes()}
    return plurals.get(tag.replace("-", "_"))


def _csv_file(path: Path, text: str, model: str | None) -> RecordFile:
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise RecordFileError(path, "is empty")
    header, body = rows[0], rows[1:]
    for index, row in enumerate(body):
        if len(row) != len(header):
            raise RecordFileError(path, f"has {len(row)} fields, the header {len(header)}", index)
    records = [dict(zip(header, row, strict=True)) for row in body]
    return RecordFile(path, records, model, True)
