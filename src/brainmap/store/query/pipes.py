"""`pipe::list[var$is'field']...`: the previous stage's values of a field bound to a variable
that later filters name as ``$var``."""

from __future__ import annotations

from typing import Any

from brainmap.errors import RmaError
from brainmap.rma.ast import Literal, PipeStage
from brainmap.rma.build import render_stage
from brainmap.store.query.scope import Bindings


def pipe_bindings(stage: PipeStage, records: list[dict[str, Any]]) -> Bindings:
    """Each variable of `stage` bound to the `records`' values of its field (nulls left out)."""
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
