"""Allen XML -> plain records: the ``<Response>`` envelope, a Rails array
(``<section-data-sets type="array">``) or one bare record (``<section-data-set>`` as
``/api/v2/data/{Model}/{id}.xml`` and the grid-data download's ``data_set.xml`` write it).

Element names lose their hyphens (``plane-of-section-id`` -> ``plane_of_section_id``), so a
record is the same dict the JSON form gives. Rails' ``type`` attributes give typed values
(``integer``, ``float``/``decimal``, ``boolean``; ``datetime``/``date`` stay ISO text, as in
JSON), ``type="array"`` a list, ``nil="true"`` None. Untyped leaves stay text, typed later
against the model's columns. No database here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

from brainmap.store.naming import plural, singular, snake_case
from brainmap.store.schema import model_classes

RAILS_TRUE = frozenset({"true", "1"})
RAILS_FALSE = frozenset({"false", "0"})
TEXT_TYPES = frozenset({"string", "symbol", "datetime", "date", "time"})
"""Rails types whose value stays text (timestamps as ISO text, as the JSON form has them)."""


Records = tuple[list[dict[str, Any]], str | None]
"""Records and the model they name (None: detect per record shape)."""


class XmlRecordsError(ValueError):
    """XML that holds no readable records, and where (a record index, when known)."""

    def __init__(self, reason: str, record: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word not in RAILS_TRUE | RAILS_FALSE:
        raise ValueError(f"not a boolean: {text!r}")
    return word in RAILS_TRUE


NUMBER_TYPES: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "float": float,
    "decimal": float,
    "double": float,
    "boolean": _boolean,
}


def xml_records(text: str, model: str | None) -> Records:
    """The records of an XML document and the model they name (None: unknown, detect later)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise XmlRecordsError(f"not valid XML (truncated or damaged): {error}") from None
    if root.tag.rpartition("}")[2].lower() == "html":  # XHTML has a namespace
        raise XmlRecordsError("an HTML page, not Allen records")
    if root.tag == "Response":
        return _response(root, model)
    if root.get("type") == "array":
        return _records(root), model or _model_of(root.tag, collection=True)
    record = value_of(root)
    if not isinstance(record, dict):
        raise XmlRecordsError(f"XML whose root <{root.tag}> is neither a record nor a <Response>")
    named = model or _model_of(root.tag)
    if named is None:
        raise XmlRecordsError(
            f"XML of a record <{root.tag}>, no known model; name one with --model"
        )
    return [record], named


def _response(root: ElementTree.Element, model: str | None) -> Records:
    if root.get("success", "").lower() == "false":
        raise XmlRecordsError(f"success: false: {(root.findtext('msg') or '').strip()}")
    collections = [child for child in root if child.tag not in {"debug", "msg"}]
    if len(collections) != 1:
        raise XmlRecordsError(
            f"a <Response> holding {len(collections)} collection elements, not one of records"
        )
    collection = collections[0]
    return _records(collection), model or _model_of(collection.tag, collection=True)


def _records(collection: ElementTree.Element) -> list[dict[str, Any]]:
    records = []
    for index, element in enumerate(collection):
        try:
            record = value_of(element)
        except XmlRecordsError as error:
            raise XmlRecordsError(error.reason, index) from None
        if not isinstance(record, dict):
            raise XmlRecordsError(f"<{element.tag}> is not a record element", index)
        records.append(record)
    return records


def value_of(element: ElementTree.Element) -> Any:
    """An element as a record field: None for ``nil``, typed by ``type``, a list for an array
    (or, untyped, children that look like one: `_is_list`), a dict for a record."""
    if element.get("nil") == "true":
        return None
    kind = element.get("type")
    children = list(element)
    if kind == "array" or (kind is None and _is_list(element, children)):
        return [value_of(child) for child in children]
    if children:
        if kind not in (None, "hash"):
            raise XmlRecordsError(f"<{element.tag} type={kind!r}> holds elements")
        return _fields(element, children)
    text = element.text or ""
    if kind is None or kind in TEXT_TYPES:
        return text
    if kind not in NUMBER_TYPES:
        raise XmlRecordsError(f"<{element.tag}>: unsupported type={kind!r}")
    try:
        return NUMBER_TYPES[kind](text)
    except ValueError:
        raise XmlRecordsError(f"<{element.tag} type={kind!r}> holds {text!r}") from None


def _is_list(element: ElementTree.Element, children: list[ElementTree.Element]) -> bool:
    """Untyped children form a list when they all bear the singular of the element's name
    (``<products><product>``), or all one name, repeated."""
    tags = {child.tag for child in children}
    if len(tags) != 1:
        return False
    one = singular(element.tag)
    return len(children) > 1 or (one != element.tag and tags == {one})


def _fields(element: ElementTree.Element, children: list[ElementTree.Element]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in children:
        key = child.tag.replace("-", "_")
        if key in fields:
            raise XmlRecordsError(f"<{element.tag}> repeats <{child.tag}>")
        fields[key] = value_of(child)
    return fields


def _model_of(tag: str, collection: bool = False) -> str | None:
    """The model a record element (``section-data-set``) or, with `collection`, a collection
    element (``section-data-sets``) names: ``SectionDataSet``; None for another name."""
    spell = plural if collection else str
    names = {spell(snake_case(name)): name for name in model_classes()}
    return names.get(tag.replace("-", "_"))
