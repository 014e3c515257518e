"""`rma::include` -> eager loads, record shapes, and `order` keys that sort included children.

Each include path becomes a `selectinload` of its association; its filters restrict the loaded
children (the parents are restricted by `criteria.with_filters` on the stage). An order key
qualified by an included association or its table sorts those children, shallowest first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import RelationshipProperty, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from brainmap.rma.ast import Path
from brainmap.store.query.criteria import filter_condition, path_condition, with_filters
from brainmap.store.query.dialect import comparable, ordered
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.schema import Base
from brainmap.store.serialize import IncludeShape, RecordShape, select_fields, visible_columns


@dataclass
class Include:
    """An include path resolved against the models, before it becomes a loader and a shape."""

    name: str
    relationship: RelationshipProperty[Any]
    target: type[Base]
    conditions: list[Condition]
    children: list[Include]
    order: list[tuple[str, bool]] = field(default_factory=list)


def resolve_include(scope: StageScope, model: type[Base], path: Path) -> Include:
    """The include `path` from `model`, with the conditions its filters put on the children."""
    if path.association is None:
        raise scope.fail("an include path must start with an association name")
    relation = scope.relationship(model, path.association)
    target = relation.mapper.class_
    filtered = (with_filters(child) for child in path.children)
    conditions = [filter_condition(scope, target, item) for item in path.filters]
    conditions += [path_condition(scope, target, child) for child in filtered if child is not None]
    children = [resolve_include(scope, target, child) for child in path.children]
    return Include(path.association, relation, target, conditions, children)


def loader(parent: type[Base], item: Include) -> _AbstractLoad:
    """The eager load of `item` (and its children) from `parent`."""
    attribute = getattr(parent, item.name)
    load = selectinload(attribute.and_(*item.conditions) if item.conditions else attribute)
    return load.options(*(loader(item.target, child) for child in item.children))


def include_shape(scope: StageScope, item: Include) -> IncludeShape:
    """The fields and children an included record carries, after `only`/`except`."""
    qualifiers = [item.name, *table_names(item.target)]
    options = scope.stage.options
    fields = select_fields(item.target, qualifiers, options.only, options.except_, top=False)
    children = tuple(include_shape(scope, child) for child in item.children)
    many = bool(item.relationship.uselist)
    return IncludeShape(item.name, many, RecordShape(fields, children), tuple(item.order))


def order_column(
    scope: StageScope,
    model: type[Base],
    includes: Sequence[Include],
    key: str,
    descending: bool,
) -> ColumnElement[Any] | None:
    """An ORDER BY term for an own attribute, or None after ordering included children."""
    qualifier, _, name = key.rpartition(".")
    if not qualifier or qualifier in table_names(model):
        if name not in visible_columns(model):
            raise scope.fail(f"cannot order by {key}: unknown attribute of {model.__name__}")
        column: ColumnElement[Any] = getattr(model, name)
        return ordered(comparable(column, scope.dialect), descending, scope.dialect)
    for item in _breadth_first(includes):
        if qualifier in (*table_names(item.target), item.name):
            if name not in visible_columns(item.target):
                raise scope.fail(f"cannot order by {key}: unknown attribute")
            item.order.append((name, descending))
            return None
    raise scope.fail(f"cannot order by {key}: {qualifier} is neither this model nor included")


def _breadth_first(includes: Sequence[Include]) -> Iterator[Include]:
    """Includes breadth-first, so the shallowest match of a table name wins."""
    queue = list(includes)
    while queue:
        item = queue.pop(0)
        yield item
        queue += item.children
