"""An Allen record checked against the schema before anything is written: its model, its known
fields typed, its unknown fields, and its nested includes planned the same way.

A nested record is tied to its owner by ids: where the include's join pairs a column of one
with a column of the other (``section_images`` -> ``data_set_id``, ``alignment2d`` ->
``section_image_id``, ``specimen`` -> ``specimen_id``) a missing id is taken from the other
side, and two different ids are an error. A pixel path that could reach outside the store's
pyramids folder is refused (`brainmap.store.pixel_paths`). No database here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, RelationshipDirection, RelationshipProperty

from brainmap.store.pixel_paths import check_record_path
from brainmap.store.schema import (
    AlternateImage,
    AtlasDataSet,
    AtlasImage,
    Base,
    DataSet,
    SectionDataSet,
    SectionImage,
    SubImage,
    model_classes,
)
from brainmap.store.serialize import visible_columns

PREFERRED = ("SectionImage", "SectionDataSet")
"""Tie-breaks of shape detection: a SubImage or DataSet record is a section one by default."""
RECORD_TRUE = frozenset({"t", "true", "1"})
RECORD_FALSE = frozenset({"f", "false", "0"})
"""How Allen's XML and CSV records spell a boolean, lower-cased; any other text in a boolean
column is an error (the query parameters' ``yes``/``no`` are not record values)."""
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The integers every store database holds (SQLite's INTEGER, PostgreSQL's BIGINT)."""
SHOWN_TIES = 4
"""How many of the models a record fits alike an error names."""
KINDS: dict[type[Base], tuple[type[Base], ...]] = {
    DataSet: (SectionDataSet, AtlasDataSet),
    SubImage: (SectionImage, AtlasImage),
}
"""The kinds a record of a polymorphic base model is imported as."""
PIXEL_PATHS = (SubImage, AlternateImage)
"""Models whose ``path`` names pixels: a relative one must lie in the pyramids folder."""


class RecordError(ValueError):
    """A record, or a value in it, that does not fit the schema."""


@dataclass
class Planned:
    """One record ready to write: typed column values (with its id), unknown fields, and the
    planned records of each include."""

    model: type[Base]
    values: dict[str, Any]
    extra: dict[str, Any]
    links: list[tuple[RelationshipProperty[Any], list[Planned]]] = field(default_factory=list)


def detect_model(record: Mapping[str, Any], among: tuple[type[Base], ...] | None = None) -> str:
    """The model (of `among`, default all) whose columns and associations cover most of the
    record's keys; a tie between models of different tables is an error, not a guess."""
    keys = set(record)
    models = model_classes()
    names = [name for name in models if among is None or models[name] in among]

    scores = {name: len(keys & _known_keys(models[name])) for name in names}
    best = max(scores.values())
    tied = [name for name, count in scores.items() if count == best]
    if "id" not in keys:
        raise RecordError("has no id")
    if best < 2:
        raise RecordError("matches no model; name one with --model")
    if len({inspect(models[name]).base_mapper for name in tied}) > 1:
        shown = ", ".join(sorted(tied)[:SHOWN_TIES])
        more = f" and {len(tied) - SHOWN_TIES} more" if len(tied) > SHOWN_TIES else ""
        raise RecordError(f"fits {shown}{more} alike; name one with --model")
    return max(tied, key=lambda name: (name in PREFERRED, name))


@cache
def _known_keys(model: type[Base]) -> frozenset[str]:
    """A model's record fields and association names."""
    return frozenset(visible_columns(model)) | frozenset(inspect(model).relationships.keys())


def model_of(name: str | None, record: Mapping[str, Any]) -> type[Base]:
    """The model a record is imported as: the one named (a polymorphic base by the record's
    shape among its kinds), else the one its shape fits best."""
    models = model_classes()
    if name is None:
        return models[detect_model(record)]
    if name not in models:
        raise RecordError(f"unknown model {name!r}")
    kinds = KINDS.get(models[name])
    return models[detect_model(record, kinds)] if kinds else models[name]


def typed(column_type: type, value: Any, textual: bool) -> Any:
    """`value` as the column's Python type; text from XML/CSV is parsed."""
    if value is None:
        return None
    if column_type is bool:
        if isinstance(value, bool):
            return value
        if textual and str(value).lower() in RECORD_TRUE | RECORD_FALSE:
            return str(value).lower() in RECORD_TRUE
    elif column_type is dt.datetime:
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return parsed
    elif column_type is int:
        if textual and isinstance(value, str):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise RecordError(f"{value} is out of a 64-bit integer's range")
            return value
    elif column_type is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if textual and isinstance(value, str):
            return float(value)
    elif column_type is str and not isinstance(value, dict | list):
        return value if isinstance(value, str) else str(value)
    raise RecordError(f"expected {column_type.__name__}, got {value!r}")


def plan(
    model: type[Base],
    record: Mapping[str, Any],
    textual: bool,
    given: Mapping[str, Any] | None = None,
) -> Planned:
    """`record` checked and typed as a `model` row; `given` are ids its owner implies."""
    mapper: Mapper[Any] = inspect(model)
    columns = {prop.key: prop for prop in mapper.column_attrs}
    visible = set(visible_columns(model))
    planned = Planned(model, {}, {})
    nested = {}
    for key, value in record.items():
        if key in visible:
            column_type = columns[key].columns[0].type.python_type
            try:
                planned.values[key] = typed(column_type, value, textual)
            except (RecordError, ValueError) as error:
                raise RecordError(f"field {key}: {error}") from None
        elif key in mapper.relationships:
            nested[key] = value
        else:
            planned.extra[key] = value
    if issubclass(model, PIXEL_PATHS) and isinstance(planned.values.get("path"), str):
        try:
            check_record_path(planned.values["path"])
        except ValueError as error:
            raise RecordError(str(error)) from None
    for key, value in (given or {}).items():
        _agree(planned.values, key, value, "its owner's")
    if planned.values.get("id") is None:
        raise RecordError("has no id")
    for key, value in nested.items():
        relation = mapper.relationships[key]
        planned.links.append((relation, _children(planned, relation, value, textual)))
    return planned


def _children(
    owner: Planned, relation: RelationshipProperty[Any], value: Any, textual: bool
) -> list[Planned]:
    """An include's records planned, tied to `owner` by the columns its join pairs."""
    if value in (None, ""):
        return []
    items = value if relation.uselist else [value]
    if not isinstance(items, list):
        raise RecordError(f"{relation.key}: expected a list")
    pairs = [] if relation.secondary is not None else relation.local_remote_pairs or []
    many_to_one = relation.direction is RelationshipDirection.MANYTOONE
    target = _concrete(relation.mapper.class_, owner.model)
    children = []
    for item in items:
        if not isinstance(item, Mapping):
            raise RecordError(f"{relation.key}: expected a record, got {item!r}")
        implied = [] if many_to_one else pairs
        given = {str(remote.key): owner.values.get(str(local.key)) for local, remote in implied}
        try:
            child = plan(target, item, textual, given)
            for local, remote in pairs if many_to_one else []:
                child_id = child.values.get(str(remote.key))
                _agree(owner.values, str(local.key), child_id, f"its {relation.key}'s")
        except RecordError as error:
            raise RecordError(f"{relation.key} {item.get('id')}: {error}") from None
        children.append(child)
    return children


def _agree(values: dict[str, Any], key: str, implied: Any, source: str) -> None:
    """Set `key` to the id `implied` by a related record, unless it names another one."""
    if implied is None:
        return
    if values.get(key) is None:
        values[key] = implied
    elif values[key] != implied:
        raise RecordError(f"{key} {values[key]} is not {source} id {implied}")


def _concrete(target: type[Base], owner: type[Base]) -> type[Base]:
    """A polymorphic base reached through an association, as the owner's kind implies."""
    atlas = issubclass(owner, AtlasImage | AtlasDataSet)
    if target is SubImage:
        return AtlasImage if atlas else SectionImage
    if target is DataSet:
        return AtlasDataSet if atlas else SectionDataSet
    return target
