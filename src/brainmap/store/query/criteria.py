"""RMA filters and criteria paths -> SQL conditions on a model.

A filter compares one attribute (`attr`, `table.attr`, or through associations
`assoc.attr`) with typed, bound values, another attribute of the same record, or a pipe
variable's values. A criteria path keeps the records with an associated record meeting its
filters and children: a semi-join (`IN (SELECT ...)` on a plain foreign key, else `EXISTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import eq
from typing import Any

from sqlalchemy import ColumnElement, and_, inspect, select, true
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty
from sqlalchemy.sql.elements import BinaryExpression

from brainmap.rma.ast import Filter, Literal, Path, Variable
from brainmap.store.query.dialect import as_text, comparable, not_one_of, one_of, python_type
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.query.values import MAX_PATTERN, like, typed_value
from brainmap.store.schema import Base
from brainmap.store.serialize import visible_columns

LIKE_OPERATORS = ("$li", "$il")
VALUE_LIST_OPERATORS = ("$in", "$nin", "$eq", "$ne")

_COLUMN_COMPARISONS: dict[str, Callable[[Any, Any], Condition]] = {
    "$eq": lambda left, right: left == right,
    "$ne": lambda left, right: left != right,
    "$lt": lambda left, right: left < right,
    "$gt": lambda left, right: left > right,
    "$le": lambda left, right: left <= right,
    "$ge": lambda left, right: left >= right,
}


def path_condition(scope: StageScope, model: type[Base], path: Path) -> Condition:
    """A criteria path as a condition on `model`."""
    if path.association is None:
        return all_of(path_conditions(scope, model, path))
    relation = scope.relationship(model, path.association)
    inner = path_conditions(scope, relation.mapper.class_, path)
    return semi_join(model, path.association, relation, inner)


def path_conditions(scope: StageScope, target: type[Base], path: Path) -> list[Condition]:
    """The conditions a path puts on its target model: its filters and its children."""
    found = [filter_condition(scope, target, item) for item in path.filters]
    return found + [path_condition(scope, target, child) for child in path.children]


def filter_condition(scope: StageScope, model: type[Base], item: Filter) -> Condition:
    """One filter as a condition on `model`, crossing the associations its name goes through."""
    hops, owner, name = scope.attribute(model, item.lhs)
    condition = _comparison(scope, owner, getattr(owner, name), item)
    for depth in reversed(range(len(hops))):
        source = model
        for hop in hops[:depth]:
            source = scope.relationship(source, hop).mapper.class_
        relation = scope.relationship(source, hops[depth])
        condition = semi_join(source, hops[depth], relation, [condition])
    return condition


def with_filters(path: Path) -> Path | None:
    """The part of an include path that carries filters (None if it has none)."""
    children = tuple(kept for kept in map(with_filters, path.children) if kept is not None)
    if not path.filters and not children:
        return None
    return Path(path.association, path.filters, children)


def all_of(conditions: list[Condition]) -> Condition:
    return and_(*conditions) if conditions else true()


def semi_join(
    model: type[Base], name: str, relation: RelationshipProperty[Any], inner: list[Condition]
) -> Condition:
    """Records of `model` with an associated record meeting `inner`, as a semi-join.

    A plain foreign-key association becomes `key IN (SELECT ...)`, which lets the database use
    the key's index; any other join condition falls back to `EXISTS` (`any()` / `has()`).
    """
    target = relation.mapper.class_
    criterion = all_of(inner)
    pairs = relation.local_remote_pairs or []
    if relation.secondary is not None and len(pairs) == 2:
        (own, own_link), (far, far_link) = pairs
        linked = (
            select(own_link)
            .select_from(relation.secondary)
            .join(target, _attribute(target, far) == far_link)
        )
        return _attribute(model, own).in_(linked.where(criterion).correlate(None))
    if relation.secondary is None and len(pairs) == 1 and _is_equality(relation):
        local, remote = pairs[0]
        matching = select(_attribute(target, remote)).where(criterion).correlate(None)
        return _attribute(model, local).in_(matching)
    attribute: InstrumentedAttribute[Any] = getattr(model, name)
    return attribute.any(criterion) if relation.uselist else attribute.has(criterion)


def _attribute(model: type[Base], column: ColumnElement[Any]) -> InstrumentedAttribute[Any]:
    """The mapped attribute of `model` over `column` (it carries the subclass's type filter)."""
    attribute: InstrumentedAttribute[Any] = getattr(
        model, inspect(model).get_property_by_column(column).key
    )
    return attribute


def _is_equality(relation: RelationshipProperty[Any]) -> bool:
    """Whether the association's join is a single `a = b` comparison."""
    join = relation.primaryjoin
    return isinstance(join, BinaryExpression) and join.operator is eq


def _comparison(
    scope: StageScope, owner: type[Base], column: InstrumentedAttribute[Any], item: Filter
) -> Condition:
    if item.op is None:
        return column.is_not(None)
    if item.op == "$is":
        raise scope.fail("$is is only valid in pipe:: parameters")
    other = _column_reference(scope, owner, item)
    if other is not None:
        kinds = {python_type(column), python_type(other)}
        if len(kinds) > 1 and not kinds <= {int, float}:
            names = " and ".join(sorted(kind.__name__ for kind in kinds))
            raise scope.fail(f"cannot compare {item.lhs} with {other.key} ({names})")
        terms = (comparable(column, scope.dialect), comparable(other, scope.dialect))
        return _COLUMN_COMPARISONS[item.op](*terms)
    values = _typed(scope, column, _texts(scope, item), item)
    if item.op in ("$eq", "$in"):
        return column == values[0] if len(values) == 1 else one_of(column, values, scope.dialect)
    if item.op in ("$ne", "$nin"):
        if len(values) == 1:
            return column != values[0]
        return not_one_of(column, values, scope.dialect)
    if len(values) != 1:
        raise scope.fail(f"{item.op} takes exactly one value in [{item.lhs}{item.op}...]")
    value = values[0]
    if item.op in LIKE_OPERATORS:
        if len(str(value)) > MAX_PATTERN:
            raise scope.fail(f"{item.op} pattern longer than {MAX_PATTERN} characters")
        try:
            text = as_text(column, scope.dialect)
        except ValueError as error:
            raise scope.fail(f"{item.op} matches text and {item.lhs} {error}") from None
        return like(text, str(value), item.op == "$li", scope.dialect)
    term = comparable(column, scope.dialect)
    compare: dict[str, Callable[[Any], Condition]] = {
        "$lt": term.__lt__,
        "$gt": term.__gt__,
        "$le": term.__le__,
        "$ge": term.__ge__,
    }
    return compare[item.op](value)


def _column_reference(
    scope: StageScope, model: type[Base], item: Filter
) -> InstrumentedAttribute[Any] | None:
    """The attribute a bare `table.attr` right-hand side names (same record), if it does."""
    if item.op not in _COLUMN_COMPARISONS or len(item.rhs) != 1:
        return None
    value = item.rhs[0]
    if not isinstance(value, Literal) or value.quoted:
        return None
    table, _, name = value.text.partition(".")
    if table not in table_names(model):
        return None
    if name not in visible_columns(model):
        raise scope.fail(f"unknown attribute {value.text} on the right of {item.lhs}")
    attribute: InstrumentedAttribute[Any] = getattr(model, name)
    return attribute


def _texts(scope: StageScope, item: Filter) -> list[str]:
    """The filter's values as text, pipe variables expanded."""
    texts: list[str] = []
    for value in item.rhs:
        if isinstance(value, Variable):
            if value.name not in scope.bindings:
                raise scope.fail(f"variable ${value.name} is not bound by an earlier pipe")
            texts += scope.bindings[value.name]
        else:
            texts.append(value.text)
    if not texts and item.op not in VALUE_LIST_OPERATORS:
        raise scope.fail(f"no value for [{item.lhs}{item.op}...]")
    return texts


def _typed(
    scope: StageScope, column: InstrumentedAttribute[Any], texts: list[str], item: Filter
) -> list[object]:
    """`texts` converted to the column's Python type (strings stay strings for LIKE)."""
    kind = str if item.op in LIKE_OPERATORS else python_type(column)
    values = []
    for text in texts:
        try:
            values.append(typed_value(kind, text))
        except ValueError as error:
            raise scope.fail(f"invalid value {text!r} for {item.lhs}: {error}") from None
    return values
