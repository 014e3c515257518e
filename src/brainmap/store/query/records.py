"""A model stage as nested records: the model's rows meeting the conditions, a page of them in
order (`paging.read_page`). Without includes the records are made from plain rows of the
columns they show; with includes from objects whose included associations are loaded eagerly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

from brainmap.store.query.criteria import path_condition, with_filters
from brainmap.store.query.includes import (
    Include,
    include_shape,
    loader,
    order_column,
    resolve_include,
)
from brainmap.store.query.paging import Page, read_page
from brainmap.store.query.result import QueryResult, Rows
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.schema import Base
from brainmap.store.serialize import (
    RecordShape,
    row_reader,
    select_fields,
    to_record,
    visible_columns,
)


def run_records(
    session: Session, scope: StageScope, model: type[Base], conditions: list[Condition]
) -> QueryResult:
    """The page of `model` records meeting `conditions` and the include paths' filters."""
    stage = scope.stage
    options = stage.options
    restricting = (with_filters(path) for path in stage.include)
    conditions += [path_condition(scope, model, path) for path in restricting if path is not None]
    includes = [resolve_include(scope, model, path) for path in stage.include]
    order = [order_column(scope, model, includes, key, desc) for key, desc in options.order]
    order += list(inspect(model).primary_key)
    fields = select_fields(model, table_names(model), options.only, options.except_, top=True)
    _check_fields(scope, model)
    page = Page.of(options)
    total = 0
    records: Iterator[dict[str, Any]] = iter(())
    if options.debug != "preview":
        read = (
            _objects(session, model, fields, includes, scope)
            if includes
            else _rows(session, model, fields)
        )
        statement = read.statement.where(*conditions).order_by(
            *(term for term in order if term is not None)
        )
        counted = select(func.count()).select_from(select(model).where(*conditions).subquery())
        total, records = read_page(
            page, statement, read.execute, lambda: session.scalar(counted) or 0, read.convert
        )
    return QueryResult(
        model=stage.model,
        columns=tuple(name for name in visible_columns(model) if name in fields),
        start_row=page.start,
        num_rows=page.rows(total),
        total_rows=total,
        records=records,
    )


@dataclass(frozen=True)
class _Reader:
    """How a stage's records are read: the statement (before its conditions), how to run it,
    and a row's record."""

    statement: Select[Any]
    execute: Callable[[Select[Any]], Rows[Any]]
    convert: Callable[[Any], dict[str, Any]]


def _rows(session: Session, model: type[Base], fields: tuple[str, ...]) -> _Reader:
    """Without includes: plain rows of the columns the records show."""
    names, convert = row_reader(model, fields)
    columns = [getattr(model, name) for name in names] or list(inspect(model).primary_key)
    return _Reader(select(*columns), session.execute, convert)


def _objects(
    session: Session,
    model: type[Base],
    fields: tuple[str, ...],
    includes: list[Include],
    scope: StageScope,
) -> _Reader:
    """With includes: the model's objects, their included associations loaded eagerly."""
    shape = RecordShape(fields, tuple(include_shape(scope, item) for item in includes))
    statement = (
        select(model)
        .options(*(loader(model, item) for item in includes))
        .execution_options(populate_existing=True)
    )
    return _Reader(statement, session.scalars, lambda row: to_record(row, shape))


def _check_fields(scope: StageScope, model: type[Base]) -> None:
    """Unqualified `only`/`except` names must be attributes of the model."""
    known = set(visible_columns(model))
    for name in scope.stage.options.only + scope.stage.options.except_:
        if "." not in name and name not in known:
            raise scope.fail(f"unknown attribute {name} of {model.__name__}")
