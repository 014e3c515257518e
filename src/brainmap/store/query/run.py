"""Run an RMA query: its stages in order, pipes binding variables for the next stage; the last
model stage's result is the answer (with the normalised query when `debug` asks for it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from brainmap.errors import RmaError
from brainmap.rma.ast import ModelStage, PipeStage, Query, ServiceStage
from brainmap.rma.build import render_query, render_stage
from brainmap.store.query.criteria import filter_condition, path_condition
from brainmap.store.query.pipes import pipe_bindings
from brainmap.store.query.records import run_records
from brainmap.store.query.result import QueryResult
from brainmap.store.query.scope import Bindings, StageScope
from brainmap.store.query.tabular import run_tabular


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
            bindings.update(pipe_bindings(stage, list(result.records)))
            result = None
            if is_last:
                raise RmaError(render_stage(stage), "a query must end with a model stage")
            continue
        scope = StageScope(stage, bindings, session.get_bind().dialect.name)
        result = run_stage(session, scope)
    assert result is not None  # the loop ends on a model stage
    if isinstance(query[-1], ModelStage) and query[-1].options.debug in ("true", "preview"):
        result.debug = render_query(query)
    return result


def run_stage(session: Session, scope: StageScope) -> QueryResult:
    """One model stage: its own filters and criteria, then records or tabular rows."""
    model = scope.model()
    stage = scope.stage
    conditions = [filter_condition(scope, model, item) for item in stage.filters]
    conditions += [path_condition(scope, model, path) for path in stage.criteria]
    if stage.options.tabular:
        return run_tabular(session, scope, model, conditions)
    return run_records(session, scope, model, conditions)
