"""Compile an RMA `Query` against the SQLAlchemy models and run it.

* Model names resolve through `schema.model_classes()`, associations through mapper
  relationships, attributes through visible columns (hidden ones do not exist for RMA).
* Criteria paths are semi-joins (`EXISTS`, via `relationship.any()/has()`) restricting the top
  model; a path without an association filters the model itself.
* Includes are eager loads (`selectinload`); filters inside an include restrict the included
  children and, like the real API's inner join, the parents (a parent with no matching child
  disappears). An include without filters never removes parents.
* Every value is a bound parameter, typed by its column.
* Options: `num_rows` defaults to 50, `'all'` streams every row, numbers are clamped to 25,000.
  Without `order` rows come in primary-key order; the key is always the last tie-breaker.
  An order key naming an included association (`sub_images.section_number`) sorts those children.
* `tabular` returns flat rows of chosen columns instead (see `brainmap.store.query.tabular`).
* Pipes: `pipe::list[var$is'field']` binds the previous stage's `field` values to `$var`.
  Services are not available. Only the last stage's result is returned.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import eq
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    and_,
    cast,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty, Session, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad
from sqlalchemy.sql.elements import BinaryExpression

from brainmap.errors import RmaError
from brainmap.rma.ast import (
    Filter,
    Literal,
    ModelStage,
    Path,
    PipeStage,
    Query,
    ServiceStage,
    Variable,
)
from brainmap.rma.build import render_query, render_stage
from brainmap.store.query.tabular import TabularColumn, parse_tabular
from brainmap.store.schema import Base, model_classes
from brainmap.store.serialize import (
    IncludeShape,
    RecordShape,
    json_value,
    select_fields,
    to_record,
    visible_columns,
)

DEFAULT_ROWS = 50
MAX_ROWS = 25_000
BATCH_ROWS = 500
MAX_PATTERN = 10_000  # SQLite refuses LIKE/GLOB patterns over 50,000 bytes
INTEGER = re.compile(r"[+-]?[0-9]+")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
TRUE_WORDS = ("true", "t")
FALSE_WORDS = ("false", "f")
INT64 = 2**63

Condition = ColumnElement[bool]
Bindings = dict[str, tuple[str, ...]]


@dataclass
class QueryResult:
    """One page of records, with the envelope numbers; `records` may be a lazy stream."""

    model: str
    columns: tuple[str, ...]  # the top-level fields in table order (CSV header)
    start_row: int
    num_rows: int
    total_rows: int
    records: Iterator[dict[str, Any]] = field(repr=False)
    debug: str | None = None  # the normalised query, when `debug` asked for it


def run_query(session: Session, query: Query) -> QueryResult:
    """Run every stage in order and return the last one's result."""
    bindings: Bindings = {}
    result: QueryResult | None = None
    for index, stage in enumerate(query):
        is_last = index == len(query) - 1
        if isinstance(stage, ServiceStage):
            raise RmaError(
                render_stage(stage), f"service {stage.name} is not available on this server"
            )
        if isinstance(stage, PipeStage):
            if result is None:
                raise RmaError(render_stage(stage), "a pipe needs a model stage before it")
            bindings.update(_pipe(stage, list(result.records)))
            result = None
            if is_last:
                raise RmaError(render_stage(stage), "a query must end with a model stage")
            continue
        result = _Compiler(stage, bindings, session.get_bind().dialect.name).run(session)
    assert result is not None  # the loop ends on a model stage
    if isinstance(query[-1], ModelStage) and query[-1].options.debug in ("true", "preview"):
        result.debug = render_query(query)
    return result


def _pipe(stage: PipeStage, records: list[dict[str, Any]]) -> Bindings:
    """`pipe::list[var$is'field']...`: each var bound to the previous rows' field values."""
    if stage.name != "list":
        raise RmaError(render_stage(stage), f"pipe::{stage.name} is not supported (use pipe::list)")
    bindings: Bindings = {}
    for param in stage.params:
        if param.op != "$is" or len(param.rhs) != 1 or not isinstance(param.rhs[0], Literal):
            raise RmaError(render_stage(stage), "pipe::list takes [variable$is'field'] parameters")
        name = param.rhs[0].text
        if records and not any(name in record for record in records):
            raise RmaError(render_stage(stage), f"the previous stage's rows have no field {name}")
        values = (record.get(name) for record in records)
        bindings[param.lhs] = tuple(_text(value) for value in values if value is not None)
    return bindings


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class _Include:
    """An include path resolved against the models, before it becomes a loader and a shape."""

    name: str
    relationship: RelationshipProperty[Any]
    target: type[Base]
    conditions: list[Condition]
    children: list[_Include]
    order: list[tuple[str, bool]] = field(default_factory=list)


class _Compiler:
    """Compiles one model stage; every error names that stage."""

    def __init__(self, stage: ModelStage, bindings: Bindings, dialect: str) -> None:
        self.stage = stage
        self.bindings = bindings
        self.dialect = dialect
        self.text = render_stage(stage)

    def fail(self, reason: str) -> RmaError:
        return RmaError(self.text, reason)

    # -- entry point -------------------------------------------------------------------

    def run(self, session: Session) -> QueryResult:
        model = model_classes().get(self.stage.model)
        if model is None:
            raise self.fail(f"unknown model {self.stage.model}")
        options = self.stage.options
        conditions = [self.filter(model, item) for item in self.stage.filters]
        conditions += [self.path(model, path) for path in self.stage.criteria]
        if options.tabular:
            return self.run_tabular(session, model, conditions)
        restricting = (_with_filters(path) for path in self.stage.include)
        conditions += [self.path(model, path) for path in restricting if path is not None]
        includes = [self.include(model, path) for path in self.stage.include]
        order = [self.order_column(model, includes, key, desc) for key, desc in options.order]
        order += list(inspect(model).primary_key)
        statement = select(model).where(*conditions)
        preview = options.debug == "preview"
        counted = select(func.count()).select_from(statement.subquery())
        total = 0 if preview else session.scalar(counted) or 0
        start = options.start_row or 0
        limit = _limit(options.num_rows)
        statement = (
            statement.order_by(*(term for term in order if term is not None))
            .offset(start)
            .limit(limit)
            .options(*(self.loader(model, item) for item in includes))
        )
        qualifiers = [table.name for table in inspect(model).tables]
        fields = select_fields(model, qualifiers, options.only, options.except_, top=True)
        self.check_fields(model, fields)
        shape = RecordShape(fields, tuple(self.shape(item) for item in includes))
        rows = (
            ()
            if preview
            else session.scalars(
                statement.execution_options(yield_per=BATCH_ROWS, populate_existing=True)
            )
        )
        remaining = max(0, total - start)
        return QueryResult(
            model=self.stage.model,
            columns=tuple(name for name in visible_columns(model) if name in fields),
            start_row=start,
            num_rows=remaining if limit is None else min(limit, remaining),
            total_rows=total,
            records=(to_record(row, shape) for row in rows),
        )

    def run_tabular(
        self, session: Session, model: type[Base], conditions: list[Condition]
    ) -> QueryResult:
        """Flat rows of the `tabular` columns over the model joined with its includes."""
        try:
            spec = parse_tabular(self.stage.options.tabular)
        except ValueError as error:
            raise self.fail(str(error)) from None
        sources: dict[str, type[Base]] = {table.name: model for table in inspect(model).tables}
        joins: list[InstrumentedAttribute[Any]] = []
        for path in self.stage.include:
            conditions += self.join_include(model, path, sources, joins)
        selected = [
            getattr(self.tabular_source(model, column, sources), column.name).label(column.alias)
            for column in spec.columns
        ]
        statement = select(*selected).select_from(model)
        for attribute in joins:
            statement = statement.join(attribute)
        statement = statement.where(*conditions)
        if spec.distinct:
            statement = statement.distinct()
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        by_name: dict[str, ColumnElement[Any]] = {}
        for column, term in zip(spec.columns, selected, strict=True):
            source = f"{column.qualifier}.{column.name}" if column.qualifier else column.name
            by_name.update({column.alias: term, source: term})
        order = [self.tabular_order(key, desc, by_name) for key, desc in self.stage.options.order]
        start = self.stage.options.start_row or 0
        limit = _limit(self.stage.options.num_rows)
        statement = statement.order_by(*order, *selected).offset(start).limit(limit)
        rows = session.execute(statement.execution_options(yield_per=BATCH_ROWS))
        remaining = max(0, total - start)
        return QueryResult(
            model=self.stage.model,
            columns=spec.aliases,
            start_row=start,
            num_rows=remaining if limit is None else min(limit, remaining),
            total_rows=total,
            records=(
                {alias: json_value(value) for alias, value in zip(spec.aliases, row, strict=True)}
                for row in rows
            ),
        )

    def join_include(
        self,
        parent: type[Base],
        path: Path,
        sources: dict[str, type[Base]],
        joins: list[InstrumentedAttribute[Any]],
    ) -> list[Condition]:
        """Join an include path for `tabular`; return the conditions its filters put on it."""
        if path.association is None:
            raise self.fail("an include path must start with an association name")
        target = self.relationship(parent, path.association).mapper.class_
        names = [path.association, *(table.name for table in inspect(target).tables)]
        if any(sources.get(name) is not None for name in names[1:]):
            raise self.fail(f"tabular cannot join {names[1]} twice")
        sources.update(dict.fromkeys(names, target))
        joins.append(getattr(parent, path.association))
        conditions = [self.filter(target, item) for item in path.filters]
        for child in path.children:
            conditions += self.join_include(target, child, sources, joins)
        return conditions

    def tabular_source(
        self, model: type[Base], column: TabularColumn, sources: dict[str, type[Base]]
    ) -> type[Base]:
        owner = sources.get(column.qualifier) if column.qualifier else model
        if owner is None:
            raise self.fail(f"tabular: {column.qualifier} is neither this model nor included")
        if column.name not in visible_columns(owner):
            raise self.fail(f"tabular: unknown attribute {column.name} of {owner.__name__}")
        return owner

    def tabular_order(
        self, key: str, descending: bool, by_name: dict[str, ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """Tabular rows sort by output columns, named by alias or by their source."""
        term = by_name.get(key)
        if term is None:
            raise self.fail(f"cannot order by {key}: not one of the tabular columns")
        return term.desc() if descending else term.asc()

    def check_fields(self, model: type[Base], fields: tuple[str, ...]) -> None:
        """Unqualified `only`/`except` names must be attributes of the model."""
        known = set(visible_columns(model))
        for name in self.stage.options.only + self.stage.options.except_:
            if "." not in name and name not in known:
                raise self.fail(f"unknown attribute {name} of {model.__name__}")

    # -- names -------------------------------------------------------------------------

    def relationship(self, model: type[Base], name: str) -> RelationshipProperty[Any]:
        found = inspect(model).relationships.get(name)
        if found is None:
            raise self.fail(f"unknown association {name} of {model.__name__}")
        return found

    def attribute(self, model: type[Base], dotted: str) -> tuple[list[str], type[Base], str]:
        """Resolve `attr`, `table.attr` or `assoc(.assoc)*.attr` from `model`.

        Returns the associations to cross, the model owning the column and the column name.
        """
        qualifier, _, rest = dotted.partition(".")
        if not rest:
            if qualifier not in visible_columns(model):
                raise self.fail(f"unknown attribute {qualifier} of {model.__name__}")
            return [], model, qualifier
        if qualifier in {table.name for table in inspect(model).tables} and "." not in rest:
            return self.attribute(model, rest)
        target = self.relationship(model, qualifier).mapper.class_
        hops, owner, column = self.attribute(target, rest)
        return [qualifier, *hops], owner, column

    # -- conditions --------------------------------------------------------------------

    def path(self, model: type[Base], path: Path) -> Condition:
        """A criteria path as a condition on `model`."""
        if path.association is None:
            return _all(self.inner(model, path))
        relation = self.relationship(model, path.association)
        return _through(model, path.association, relation, self.inner(relation.mapper.class_, path))

    def inner(self, target: type[Base], path: Path) -> list[Condition]:
        """The conditions a path puts on its target model: its filters and its children."""
        found = [self.filter(target, item) for item in path.filters]
        return found + [self.path(target, child) for child in path.children]

    def filter(self, model: type[Base], item: Filter) -> Condition:
        hops, owner, name = self.attribute(model, item.lhs)
        condition = self.comparison(owner, getattr(owner, name), item)
        for depth in reversed(range(len(hops))):
            source = self.hop_source(model, hops[:depth])
            relation = self.relationship(source, hops[depth])
            condition = _through(source, hops[depth], relation, [condition])
        return condition

    def hop_source(self, model: type[Base], hops: list[str]) -> type[Base]:
        for hop in hops:
            model = self.relationship(model, hop).mapper.class_
        return model

    def comparison(
        self, owner: type[Base], column: InstrumentedAttribute[Any], item: Filter
    ) -> Condition:
        if item.op is None:
            return column.is_not(None)
        if item.op == "$is":
            raise self.fail("$is is only valid in pipe:: parameters")
        other = self.column_reference(owner, item)
        if other is not None:
            return _COLUMN_COMPARISONS[item.op](column, other)
        values = [self.typed(column, text, item) for text in self.texts(item)]
        if item.op in ("$eq", "$in"):
            return column == values[0] if len(values) == 1 else column.in_(values)
        if item.op in ("$ne", "$nin"):
            return column != values[0] if len(values) == 1 else column.not_in(values)
        if len(values) != 1:
            raise self.fail(f"{item.op} takes exactly one value in [{item.lhs}{item.op}...]")
        value = values[0]
        if item.op in ("$li", "$il"):
            if len(str(value)) > MAX_PATTERN:
                raise self.fail(f"{item.op} pattern longer than {MAX_PATTERN} characters")
            text: SQLColumnExpression[Any] = column
            if _python_type(column) is not str:
                text = cast(column, String)
            return _like(text, str(value), item.op == "$li", self.dialect)
        compare: dict[str, Callable[[Any], Condition]] = {
            "$lt": column.__lt__,
            "$gt": column.__gt__,
            "$le": column.__le__,
            "$ge": column.__ge__,
        }
        return compare[item.op](value)

    def column_reference(
        self, model: type[Base], item: Filter
    ) -> InstrumentedAttribute[Any] | None:
        """The attribute a bare `table.attr` right-hand side names (same record), if it does."""
        if item.op not in _COLUMN_COMPARISONS or len(item.rhs) != 1:
            return None
        value = item.rhs[0]
        if not isinstance(value, Literal) or value.quoted:
            return None
        table, _, name = value.text.partition(".")
        if table not in {each.name for each in inspect(model).tables}:
            return None
        if name not in visible_columns(model):
            raise self.fail(f"unknown attribute {value.text} on the right of {item.lhs}")
        return getattr(model, name)

    def texts(self, item: Filter) -> list[str]:
        texts: list[str] = []
        for value in item.rhs:
            if isinstance(value, Variable):
                if value.name not in self.bindings:
                    raise self.fail(f"variable ${value.name} is not bound by an earlier pipe")
                texts += self.bindings[value.name]
            else:
                texts.append(value.text)
        if not texts and item.op not in ("$in", "$nin", "$eq", "$ne"):
            raise self.fail(f"no value for [{item.lhs}{item.op}...]")
        return texts

    def typed(self, column: InstrumentedAttribute[Any], text: str, item: Filter) -> object:
        """`text` converted to the column's Python type (strings stay strings for LIKE)."""
        kind = str if item.op in ("$li", "$il") else _python_type(column)
        try:
            return _CONVERTERS.get(kind, _to_text)(text)
        except ValueError as error:
            raise self.fail(f"invalid value {text!r} for {item.lhs}: {error}") from None

    # -- includes and order ------------------------------------------------------------

    def include(self, model: type[Base], path: Path) -> _Include:
        if path.association is None:
            raise self.fail("an include path must start with an association name")
        relation = self.relationship(model, path.association)
        target = relation.mapper.class_
        restricting = (_with_filters(child) for child in path.children)
        conditions = [self.filter(target, item) for item in path.filters]
        conditions += [self.path(target, child) for child in restricting if child is not None]
        children = [self.include(target, child) for child in path.children]
        return _Include(path.association, relation, target, conditions, children)

    def loader(self, parent: type[Base], item: _Include) -> _AbstractLoad:
        attribute = getattr(parent, item.name)
        load = selectinload(attribute.and_(*item.conditions) if item.conditions else attribute)
        return load.options(*(self.loader(item.target, child) for child in item.children))

    def shape(self, item: _Include) -> IncludeShape:
        qualifiers = [item.name, *(table.name for table in inspect(item.target).tables)]
        options = self.stage.options
        fields = select_fields(item.target, qualifiers, options.only, options.except_, top=False)
        children = tuple(self.shape(child) for child in item.children)
        many = bool(item.relationship.uselist)
        return IncludeShape(item.name, many, RecordShape(fields, children), tuple(item.order))

    def order_column(
        self, model: type[Base], includes: Sequence[_Include], key: str, descending: bool
    ) -> ColumnElement[Any] | None:
        """An ORDER BY term for an own attribute, or None after ordering included children."""
        qualifier, _, name = key.rpartition(".")
        own = {table.name for table in inspect(model).tables}
        if not qualifier or qualifier in own:
            if name not in visible_columns(model):
                raise self.fail(f"cannot order by {key}: unknown attribute of {model.__name__}")
            column = getattr(model, name)
            return column.desc() if descending else column.asc()
        for item in _walk(includes):
            tables = {table.name for table in inspect(item.target).tables}
            if qualifier in tables | {item.name}:
                if name not in visible_columns(item.target):
                    raise self.fail(f"cannot order by {key}: unknown attribute")
                item.order.append((name, descending))
                return None
        raise self.fail(f"cannot order by {key}: {qualifier} is neither this model nor included")


def _walk(includes: Sequence[_Include]) -> Iterator[_Include]:
    """Includes breadth-first, so the shallowest match of a table name wins."""
    queue = list(includes)
    while queue:
        item = queue.pop(0)
        yield item
        queue += item.children


def _with_filters(path: Path) -> Path | None:
    """The part of an include path that carries filters (None if it has none)."""
    children = tuple(kept for kept in map(_with_filters, path.children) if kept is not None)
    if not path.filters and not children:
        return None
    return Path(path.association, path.filters, children)


def _all(conditions: list[Condition]) -> Condition:
    return and_(*conditions) if conditions else true()


def _through(
    model: type[Base], name: str, relation: RelationshipProperty[Any], inner: list[Condition]
) -> Condition:
    """Records of `model` with an associated record meeting `inner`, as a semi-join.

    A plain foreign-key association becomes `key IN (SELECT ...)`, which lets the database use
    the key's index; any other join condition falls back to `EXISTS` (`any()` / `has()`).
    """
    target = relation.mapper.class_
    criterion = _all(inner)
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
    attribute = getattr(model, name)
    return attribute.any(criterion) if relation.uselist else attribute.has(criterion)


def _attribute(model: type[Base], column: ColumnElement[Any]) -> InstrumentedAttribute[Any]:
    """The mapped attribute of `model` over `column` (it carries the subclass's type filter)."""
    return getattr(model, inspect(model).get_property_by_column(column).key)


def _is_equality(relation: RelationshipProperty[Any]) -> bool:
    """Whether the association's join is a single `a = b` comparison."""
    join = relation.primaryjoin
    return isinstance(join, BinaryExpression) and join.operator is eq


def _limit(num_rows: int | str | None) -> int | None:
    if num_rows == "all":
        return None
    if num_rows is None:
        return DEFAULT_ROWS
    return min(int(num_rows), MAX_ROWS)


def _python_type(column: InstrumentedAttribute[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def _like(
    column: SQLColumnExpression[Any], pattern: str, case_sensitive: bool, dialect: str
) -> Condition:
    """RMA `*` wildcards, every other character literal. SQLite's LIKE ignores case: GLOB there."""
    if case_sensitive and dialect == "sqlite":
        glob = "".join(f"[{char}]" if char in "?[" else char for char in pattern)
        return column.op("GLOB", is_comparison=True)(glob)
    escaped = re.sub(r"([\\%_])", r"\\\1", pattern).replace("*", "%")
    if case_sensitive:
        return column.like(escaped, escape="\\")
    return column.ilike(escaped, escape="\\")


def _to_int(text: str) -> int:
    if not INTEGER.fullmatch(text):
        raise ValueError("not an integer")
    value = int(text)
    if not -INT64 <= value < INT64:
        raise ValueError("integer out of range")
    return value


def _to_float(text: str) -> float:
    if not NUMBER.fullmatch(text):
        raise ValueError("not a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _to_bool(text: str) -> bool:
    word = text.lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError("not a boolean (true, false, t or f)")
    return word in TRUE_WORDS


def _to_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _to_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid unicode text") from None
    return text


_COLUMN_COMPARISONS: dict[str, Callable[[Any, Any], Condition]] = {
    "$eq": lambda left, right: left == right,
    "$ne": lambda left, right: left != right,
    "$lt": lambda left, right: left < right,
    "$gt": lambda left, right: left > right,
    "$le": lambda left, right: left <= right,
    "$ge": lambda left, right: left >= right,
}

_CONVERTERS: dict[type, Callable[[str], object]] = {
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    dt.datetime: _to_datetime,
    str: _to_text,
}
