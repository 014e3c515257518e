"""RMA query stages spelled byte for byte as allensdk's `RmaApi` builders spell them.

Pure functions: `RmaApi`'s builder methods are these, and the async core builds its own queries
with them. Nothing is URL-encoded here (see `brainmap.client.urls.wire_url`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL = "all"
"""``num_rows`` value asking for every row."""

Words = str | Sequence[str]
"""Criteria or include text: a string, or strings concatenated."""


def as_d(value: object) -> str:
    """`value` formatted as allensdk formats integers (``%d``): floats are truncated and a
    string raises TypeError."""
    # %d itself is the check (allensdk's callers pass anything), so mypy's check is off here
    return "%d" % (value,)  # type: ignore[str-format]  # noqa: UP031


@dataclass(frozen=True)
class StageOptions:
    """The ``rma::options`` of a model stage. `excluded` is RMA's ``except``; `num_rows` is a
    number or `ALL`; `debug` is a bool, ``'true'``/``'false'`` or ``'preview'``; `count` a bool
    or ``'true'``/``'false'``."""

    only: Sequence[str] | None = None
    excluded: Sequence[str] | None = None
    tabular: Sequence[str] | None = None
    num_rows: int | str | None = None
    start_row: int | None = None
    order: Sequence[str] | None = None
    debug: bool | str | None = None
    count: bool | str | None = None

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> StageOptions:
        """The options among allensdk's ``model_stage`` keyword arguments (others are ignored).
        ``excpt`` is an alternate spelling of ``except``; given both, ``except`` wins, with a
        warning pointing at the caller of the `RmaApi` method."""
        excluded, alternate = kwargs.get("except"), kwargs.get("excpt")
        if excluded is not None and alternate is not None:
            warnings.warn("excpt and except options should not be used together", stacklevel=3)
        return cls(
            only=kwargs.get("only"),
            excluded=alternate if excluded is None else excluded,
            tabular=kwargs.get("tabular"),
            num_rows=kwargs.get("num_rows"),
            start_row=kwargs.get("start_row"),
            order=kwargs.get("order"),
            debug=kwargs.get("debug"),
            count=kwargs.get("count"),
        )

    def render(self) -> str:
        """``rma::options`` with only, except, tabular, num_rows, start_row, order, debug and
        count, always in that order; empty if none is set."""
        params = [
            only_except_tabular_clause(name, values)
            for name, values in (
                ("only", self.only),
                ("except", self.excluded),
                ("tabular", self.tabular),
            )
            if values is not None
        ]
        if self.num_rows is not None:
            rows = "'all'" if self.num_rows == ALL else as_d(self.num_rows)
            params.append(f"[num_rows$eq{rows}]")
        if self.start_row is not None:
            params.append(f"[start_row$eq{as_d(self.start_row)}]")
        if self.order is not None:
            params.append(order_clause(self.order))
        if self.debug is not None:
            params.append(debug_clause(self.debug))
        if self.count is True or self.count == "true":
            params.append("[count$eqtrue]")
        elif self.count is False or self.count == "false":
            params.append("[count$eqfalse]")
        return "rma::options" + "".join(params) if params else ""


def model_stage(
    model: str,
    *,
    filters: Mapping[str, object] | None = None,
    criteria: Words | None = None,
    include: Words | None = None,
    options: StageOptions | None = None,
) -> str:
    """``model::<Model>`` with its filters, ``rma::criteria``, ``rma::include`` and
    ``rma::options``, each only when given."""
    clauses = ["model::" + model]
    if filters is not None:
        clauses.append(filters_clause(filters))
    for axis, words in (("rma::criteria", criteria), ("rma::include", include)):
        if words is not None:
            clauses.append("," + axis + "," + "".join(words))
    rendered = options.render() if options is not None else ""
    if rendered:
        clauses.append("," + rendered)
    return "".join(clauses)


def pipe_stage(name: str, parameters: Iterable[tuple[Any, ...]]) -> str:
    """``pipe::<name>`` followed by `tuple_filters(parameters)`."""
    return "pipe::" + name + tuple_filters(parameters)


def service_stage(name: str, parameters: Iterable[tuple[Any, ...]] | None = None) -> str:
    """``service::<name>`` followed by `tuple_filters(parameters)` if given."""
    stage = "service::" + name
    if parameters is not None:
        stage += tuple_filters(parameters)
    return stage


def only_except_tabular_clause(filter_type: str, attribute_list: Sequence[str] | None) -> str:
    """``[<filter_type>$eq<attributes joined by commas>]``; empty for None."""
    if attribute_list is None:
        return ""
    return f"[{filter_type}$eq{','.join(attribute_list)}]"


def order_clause(order_list: Sequence[str] | None = None) -> str:
    """``[order$eq<keys joined by commas>]``; keys may end in ``+asc`` or ``+desc``."""
    if order_list is None:
        return ""
    return f"[order$eq{','.join(order_list)}]"


def debug_clause(debug_value: bool | str | None = None) -> str:
    """``[debug$eqtrue]``, ``[debug$eqfalse]`` or ``[debug$eq'preview']``; else empty."""
    if debug_value is True or debug_value == "true":
        return "[debug$eqtrue]"
    if debug_value is False or debug_value == "false":
        return "[debug$eqfalse]"
    if debug_value == "preview":
        return "[debug$eq'preview']"
    return ""


def filters_clause(filters: Mapping[str, object]) -> str:
    """One `filter_clause` per item, in the mapping's order."""
    return "".join(filter_clause(key, value) for key, value in filters.items())


def filter_clause(key: str, value: object) -> str:
    """``[<key>$eq<value>]``."""
    return "[" + key + "$eq" + str(value) + "]"


def tuple_filters(filters: Iterable[tuple[Any, ...]]) -> str:
    """Filters from tuples, sorted: ``(key, value)`` -> ``[key$eqvalue]`` (lists comma-joined,
    bools ``true``/``false``, ints ``%d``; other value types are dropped) and ``(key, op, value)``
    -> ``[key<op>value]``. A tuple whose last item is None is skipped."""
    clauses = []
    for item in sorted(filters):
        if item[-1] is None:
            continue
        if len(item) == 3:
            clauses.append(f"[{item[0]}{item[1]}{item[2]}]")
        elif len(item) == 2:
            rhs = _tuple_rhs(item[1])
            if rhs is not None:
                clauses.append(f"[{item[0]}$eq{rhs}]")
    return "".join(clauses)


def quote_string(text: str) -> str:
    """`text` in single quotes."""
    return "'" + text + "'"


def _tuple_rhs(value: object) -> str | None:
    """allensdk's right-hand side of a ``(key, value)`` filter, by exact type (a bool is not
    an int here)."""
    if type(value) is list:
        return ",".join(str(item) for item in value)
    if type(value) is int:
        return as_d(value)
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is str:
        return value
    return None
