"""A model stage as nested records: the model's rows meeting the conditions, a page of them in
order, each with its included associations loaded eagerly, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from brainmap.store.query.criteria import path_condition, with_filters
from brainmap.store.query.includes import include_shape, loader, order_column, resolve_include
from brainmap.store.query.paging import BATCH_ROWS, Page
from brainmap.store.query.result import QueryResult, stream
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.schema import Base
from brainmap.store.serialize import RecordShape, select_fields, to_record, visible_columns


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
    statement = select(model).where(*conditions)
    preview = options.debug == "preview"
    counted = select(func.count()).select_from(statement.subquery())
    total = 0 if preview else session.scalar(counted) or 0
    page = Page.of(options)
    statement = (
        statement.order_by(*(term for term in order if term is not None))
        .offset(page.start)
        .limit(page.limit)
        .options(*(loader(model, item) for item in includes))
    )
    fields = select_fields(model, table_names(model), options.only, options.except_, top=True)
    _check_fields(scope, model)
    shape = RecordShape(fields, tuple(include_shape(scope, item) for item in includes))
    records: Iterator[dict[str, Any]] = iter(())
    if not preview:
        streamed = statement.execution_options(yield_per=BATCH_ROWS, populate_existing=True)
        records = stream(session.scalars(streamed), lambda row: to_record(row, shape))
    return QueryResult(
        model=stage.model,
        columns=tuple(name for name in visible_columns(model) if name in fields),
        start_row=page.start,
        num_rows=page.rows(total),
        total_rows=total,
        records=records,
    )


def _check_fields(scope: StageScope, model: type[Base]) -> None:
    """Unqualified `only`/`except` names must be attributes of the model."""
    known = set(visible_columns(model))
    for name in scope.stage.options.only + scope.stage.options.except_:
        if "." not in name and name not in known:
            raise scope.fail(f"unknown attribute {name} of {model.__name__}")
