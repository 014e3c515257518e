"""The ``tabular`` option: flat rows of chosen columns instead of nested records.

``rma::options[tabular$eq'distinct+specimens.name+as+specimen_name,data_sets.id']`` (``+`` is a
space once the URL is form-decoded) selects columns by ``attr``, ``table.attr`` or
``association.attr``; ``as`` renames one; a leading ``distinct`` drops repeated rows. Tables
reached through ``rma::include`` are joined like an inner join, so a parent without a
matching child disappears (the API's documented behaviour); their filters restrict the join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from brainmap.rma.ast import Path
from brainmap.store.query.criteria import filter_condition
from brainmap.store.query.dialect import comparable, ordered
from brainmap.store.query.paging import Page, PageStatements
from brainmap.store.query.plan import StagePlan
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.schema import Base
from brainmap.store.serialize import json_value, visible_columns

SEPARATORS = re.compile(r"[+\s]+")


@dataclass(frozen=True)
class TabularColumn:
    """One output column: where it comes from and what it is called."""

    qualifier: str  # "" for the stage's own model
    name: str
    alias: str


@dataclass(frozen=True)
class TabularSpec:
    """The parsed option: its columns, and whether repeated rows are dropped."""

    distinct: bool
    columns: tuple[TabularColumn, ...]

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(column.alias for column in self.columns)


def parse_tabular(items: tuple[str, ...]) -> TabularSpec:
    """Read the option's items; ValueError explains a malformed one."""
    distinct = False
    columns: list[TabularColumn] = []
    for position, item in enumerate(items):
        words = [word for word in SEPARATORS.split(item.strip()) if word]
        if position == 0 and words and words[0].lower() == "distinct":
            distinct, words = True, words[1:]
        if len(words) == 3 and words[1].lower() == "as":
            source, alias = words[0], words[2]
        elif len(words) == 1:
            source = words[0]
            alias = source.rpartition(".")[2]
        else:
            raise ValueError(f"tabular column {item!r} is not 'name' or 'name as alias'")
        qualifier, _, name = source.rpartition(".")
        if not name or "." in qualifier:
            raise ValueError(f"tabular column {source!r} is not attr or table.attr")
        columns.append(TabularColumn(qualifier, name, alias))
    aliases = [column.alias for column in columns]
    if len(set(aliases)) != len(aliases):
        raise ValueError("tabular columns need distinct names (use 'as')")
    return TabularSpec(distinct, tuple(columns))


def plan_tabular(scope: StageScope, model: type[Base], conditions: list[Condition]) -> StagePlan:
    """The plan of flat rows of the `tabular` columns over the model joined with its includes."""
    options = scope.stage.options
    try:
        spec = parse_tabular(options.tabular)
    except ValueError as error:
        raise scope.fail(str(error)) from None
    sources: dict[str, type[Base]] = dict.fromkeys(table_names(model), model)
    joins: list[InstrumentedAttribute[Any]] = []
    for path in scope.stage.include:
        conditions += _join_include(scope, model, path, sources, joins)
    selected: list[ColumnElement[Any]] = [
        comparable(
            getattr(_source(scope, model, column, sources), column.name), scope.dialect
        ).label(column.alias)
        for column in spec.columns
    ]
    statement = select(*selected).select_from(model)
    for attribute in joins:
        statement = statement.join(attribute)
    statement = statement.where(*conditions)
    if spec.distinct:
        statement = statement.distinct()
    counted = select(func.count()).select_from(statement.subquery())
    by_name: dict[str, ColumnElement[Any]] = {}
    for column, term in zip(spec.columns, selected, strict=True):
        source = f"{column.qualifier}.{column.name}" if column.qualifier else column.name
        by_name.update({column.alias: term, source: term})
    order = [_order_term(scope, key, desc, by_name) for key, desc in options.order]
    order += [ordered(term, False, scope.dialect) for term in selected]
    page = Page.of(options)
    return StagePlan(
        model=scope.stage.model,
        columns=spec.aliases,
        page=page,
        statements=PageStatements.of(page, statement.order_by(*order)),
        counted=counted,
        objects=False,
        convert=lambda row: {
            alias: json_value(value) for alias, value in zip(spec.aliases, row, strict=True)
        },
    )


def _join_include(
    scope: StageScope,
    parent: type[Base],
    path: Path,
    sources: dict[str, type[Base]],
    joins: list[InstrumentedAttribute[Any]],
) -> list[Condition]:
    """Join an include path; return the conditions its filters put on it."""
    if path.association is None:
        raise scope.fail("an include path must start with an association name")
    target = scope.relationship(parent, path.association).mapper.class_
    names = [path.association, *table_names(target)]
    if any(sources.get(name) is not None for name in names[1:]):
        raise scope.fail(f"tabular cannot join {names[1]} twice")
    sources.update(dict.fromkeys(names, target))
    joins.append(getattr(parent, path.association))
    conditions = [filter_condition(scope, target, item) for item in path.filters]
    for child in path.children:
        conditions += _join_include(scope, target, child, sources, joins)
    return conditions


def _source(
    scope: StageScope, model: type[Base], column: TabularColumn, sources: dict[str, type[Base]]
) -> type[Base]:
    """The model a tabular column reads from: the stage's own, or an included one."""
    owner = sources.get(column.qualifier) if column.qualifier else model
    if owner is None:
        raise scope.fail(f"tabular: {column.qualifier} is neither this model nor included")
    if column.name not in visible_columns(owner):
        raise scope.fail(f"tabular: unknown attribute {column.name} of {owner.__name__}")
    return owner


def _order_term(
    scope: StageScope, key: str, descending: bool, by_name: dict[str, ColumnElement[Any]]
) -> ColumnElement[Any]:
    """Tabular rows sort by output columns, named by alias or by their source."""
    term = by_name.get(key)
    if term is None:
        raise scope.fail(f"cannot order by {key}: not one of the tabular columns")
    return ordered(term, descending, scope.dialect)
