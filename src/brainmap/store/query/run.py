"""Run an RMA query: its stages in order, pipes binding variables for the next stage; the last
model stage's result is the answer (with the normalised query when `debug` asks for it)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import fields
from threading import Lock

from sqlalchemy.orm import Session

from brainmap.errors import RmaError
from brainmap.rma.ast import ModelStage, PipeStage, Query, ServiceStage
from brainmap.rma.build import render_query, render_stage
from brainmap.store.query.criteria import filter_condition, path_condition
from brainmap.store.query.pipes import pipe_bindings
from brainmap.store.query.plan import StagePlan
from brainmap.store.query.records import plan_records
from brainmap.store.query.result import QueryResult
from brainmap.store.query.scope import Bindings, StageScope
from brainmap.store.query.tabular import plan_tabular

CACHED_PLANS = 256
"""Stage plans kept, the least recently used dropped first."""
CACHED_VALUES = 1_000
"""The most pipe values a kept plan binds."""
_PLANS: OrderedDict[Hashable, StagePlan] = OrderedDict()
_PLANS_LOCK = Lock()


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
    """One model stage, from its plan."""
    return stage_plan(scope).run(session)


def stage_plan(scope: StageScope) -> StagePlan:
    """The stage's plan, kept for the next stage with an equal scope: the scope is all a plan
    depends on. Scopes binding many pipe values are planned anew (their plans are large)."""
    try:
        key = tuple(_frozen(getattr(scope, item.name)) for item in fields(scope))
    except TypeError:  # a field that cannot be part of a key
        return plan_stage(scope)
    if sum(len(values) for values in scope.bindings.values()) > CACHED_VALUES:
        return plan_stage(scope)
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is not None:
            _PLANS.move_to_end(key)
            return plan
    plan = plan_stage(scope)
    with _PLANS_LOCK:
        _PLANS[key] = plan
        if len(_PLANS) > CACHED_PLANS:
            _PLANS.popitem(last=False)
    return plan


def _frozen(value: object) -> Hashable:
    """`value` as part of a cache key (a dict as its sorted items); TypeError if it cannot be."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if not isinstance(value, Hashable):
        raise TypeError(f"{type(value).__name__} cannot be part of a key")
    hash(value)  # a tuple holding something unhashable
    return value


def plan_stage(scope: StageScope) -> StagePlan:
    """One model stage: its own filters and criteria, then records or tabular rows."""
    model = scope.model()
    stage = scope.stage
    conditions = [filter_condition(scope, model, item) for item in stage.filters]
    conditions += [path_condition(scope, model, path) for path in stage.criteria]
    if stage.options.tabular:
        return plan_tabular(scope, model, conditions)
    return plan_records(scope, model, conditions)
