"""ORM rows -> Allen JSON records (plain dicts, ready for any response format).

A record holds the model's own non-hidden columns in alphabetical key order (with the fields an
import or a mirror kept in the hidden ``extra`` column merged in, when the record is not narrowed
by ``only``/``except``), then its included associations in include order: a to-one association
is a dict or None, a to-many one a list.
Datetimes are written as ``2011-12-14T18:20:48Z`` (naive values are taken as UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import inspect

from brainmap.store.schema import Base


@dataclass(frozen=True)
class IncludeShape:
    """One included association: its key, arity, the children's shape and sort keys."""

    name: str
    many: bool
    shape: RecordShape
    order: tuple[tuple[str, bool], ...] = ()  # (attribute, descending), for to-many children


@dataclass(frozen=True)
class RecordShape:
    """Which columns (alphabetical) and which associations a record of one model carries."""

    fields: tuple[str, ...]
    includes: tuple[IncludeShape, ...] = ()


@cache
def visible_columns(model: type[Base]) -> tuple[str, ...]:
    """Attribute names of the model's RMA-visible columns, in table order."""
    return tuple(
        prop.key
        for prop in inspect(model).column_attrs
        if not any(column.info.get("hidden") for column in prop.columns)
    )


def select_fields(
    model: type[Base],
    qualifiers: Iterable[str],
    only: tuple[str, ...],
    except_: tuple[str, ...],
    top: bool,
) -> tuple[str, ...]:
    """The model's visible columns after `only`/`except`, alphabetical.

    A name applies to this record if it is qualified with one of `qualifiers` (its table names
    and the association that reached it) or, for the top-level model, unqualified. When `only`
    names nothing of this record, every column is kept.
    """
    names = set(qualifiers)
    columns = visible_columns(model)

    def applicable(items: tuple[str, ...]) -> set[str]:
        found = set()
        for item in items:
            qualifier, _, attribute = item.rpartition(".")
            if (qualifier in names) if qualifier else top:
                found.add(attribute)
        return found

    kept = applicable(only) & set(columns) or set(columns)
    return tuple(sorted(kept - applicable(except_)))


def row_reader(
    model: type[Base], fields: tuple[str, ...]
) -> tuple[tuple[str, ...], Callable[[Sequence[Any]], dict[str, Any]]]:
    """For records of `model` without includes, read from plain rows rather than objects: the
    attributes to select (`fields`, then ``extra`` when its kept fields merge in) and the
    function making a row of them the record `to_record` would make of the object."""
    extra = _merges_extra(model, fields)
    converted = tuple(name for name in fields if _needs_json_value(model, name))
    width = len(fields)

    def record(row: Sequence[Any]) -> dict[str, Any]:
        found = dict(zip(fields, row, strict=False))  # stops before `extra`
        for name in converted:
            found[name] = json_value(found[name])
        if extra and row[width]:
            return _with_extra(found, row[width])
        return found

    return (*fields, "extra") if extra else fields, record


def to_record(row: Base, shape: RecordShape) -> dict[str, Any]:
    """One record dict for `row` (its included associations must already be loaded)."""
    record = {name: json_value(getattr(row, name)) for name in shape.fields}
    extra = getattr(row, "extra", None)
    if extra and _merges_extra(type(row), shape.fields):
        record = _with_extra(record, extra)
    for include in shape.includes:
        value = getattr(row, include.name)
        if not include.many:
            record[include.name] = None if value is None else to_record(value, include.shape)
            continue
        children = sort_rows(value, include.order)
        record[include.name] = [to_record(child, include.shape) for child in children]
    return record


def _merges_extra(model: type[Base], fields: tuple[str, ...]) -> bool:
    """Whether a record of `fields` carries its kept fields: when it is not narrowed."""
    return hasattr(model, "extra") and len(fields) == len(visible_columns(model))


def _with_extra(record: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The kept fields merged into `record`, all keys alphabetical; the model's own win."""
    return dict(sorted({**extra, **record}.items()))


def _needs_json_value(model: type[Base], name: str) -> bool:
    """Whether the column's values may need `json_value` (dates, or a type that does not say)."""
    try:
        kind = getattr(model, name).type.python_type
    except NotImplementedError:
        return True
    return issubclass(kind, dt.date)


def sort_rows(rows: Iterable[Base], order: tuple[tuple[str, bool], ...]) -> list[Base]:
    """`rows` sorted by several (attribute, descending) keys; nulls sort last."""
    result = list(rows)
    for attribute, descending in reversed(order):
        present = [row for row in result if getattr(row, attribute) is not None]
        missing = [row for row in result if getattr(row, attribute) is None]
        present.sort(key=lambda row: getattr(row, attribute), reverse=descending)
        result = present + missing
    return result


def json_value(value: object) -> Any:
    """A column value as JSON wants it (datetimes and dates as ISO text)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
