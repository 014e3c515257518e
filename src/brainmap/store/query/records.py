"""A model stage as nested records: the model's rows meeting the conditions, a page of them in
order (`paging.read_page`). Without includes the records are made from plain rows of the
columns they show; with includes from objects whose included associations are loaded eagerly."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Select, func, inspect, select

from brainmap.store.query.criteria import path_condition, with_filters
from brainmap.store.query.includes import (
    include_shape,
    loader,
    order_column,
    resolve_include,
)
from brainmap.store.query.paging import Page, PageStatements
from brainmap.store.query.plan import StagePlan
from brainmap.store.query.scope import Condition, StageScope, table_names
from brainmap.store.schema import Base
from brainmap.store.serialize import (
    RecordShape,
    row_reader,
    select_fields,
    to_record,
    visible_columns,
)


def plan_records(scope: StageScope, model: type[Base], conditions: list[Condition]) -> StagePlan:
    """The plan of the page of `model` records meeting `conditions` and the include paths'
    filters."""
    stage = scope.stage
    options = stage.options
    restricting = (with_filters(path) for path in stage.include)
    conditions += [path_condition(scope, model, path) for path in restricting if path is not None]
    includes = [resolve_include(scope, model, path) for path in stage.include]
    order = [order_column(scope, model, includes, key, desc) for key, desc in options.order]
    order += list(inspect(model).primary_key)
    fields = select_fields(model, table_names(model), options.only, options.except_, top=True)
    _check_fields(scope, model)
    if includes:
        shape = RecordShape(fields, tuple(include_shape(scope, item) for item in includes))
        statement: Select[Any] = (
            select(model)
            .options(*(loader(model, item) for item in includes))
            .execution_options(populate_existing=True)
        )
        convert: Callable[[Any], dict[str, Any]] = partial(to_record, shape=shape)
    else:
        names, convert = row_reader(model, fields)
        columns = [getattr(model, name) for name in names] or list(inspect(model).primary_key)
        statement = select(*columns)
    statement = statement.where(*conditions).order_by(*(term for term in order if term is not None))
    page = Page.of(options)
    return StagePlan(
        model=stage.model,
        columns=tuple(name for name in visible_columns(model) if name in fields),
        page=page,
        statements=None if options.debug == "preview" else PageStatements.of(page, statement),
        counted=select(func.count()).select_from(select(model).where(*conditions).subquery()),
        objects=bool(includes),
        convert=convert,
    )


def _check_fields(scope: StageScope, model: type[Base]) -> None:
    """Unqualified `only`/`except` names must be attributes of the model."""
    known = set(visible_columns(model))
    for name in scope.stage.options.only + scope.stage.options.except_:
        if "." not in name and name not in known:
            raise scope.fail(f"unknown attribute {name} of {model.__name__}")
