"""`RmaApi`: builds RMA query strings exactly as allensdk does and runs them.

The builders never URL-encode; `Api.retrieve_parsed_json_over_http` quotes the finished URL.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.api import Api


class RmaApi(Api):
    """RESTful Model Access: stage builders (`model_stage`, `pipe_stage`, `service_stage`),
    their options, and `model_query` / `service_query` that fetch the result rows."""

    MODEL = "model::"
    PIPE = "pipe::"
    SERVICE = "service::"
    CRITERIA = "rma::criteria"
    INCLUDE = "rma::include"
    OPTIONS = "rma::options"
    ORDER = "order"
    NUM_ROWS = "num_rows"
    ALL = "all"
    START_ROW = "start_row"
    COUNT = "count"
    ONLY = "only"
    EXCEPT = "except"
    EXCPT = "excpt"
    TABULAR = "tabular"
    DEBUG = "debug"
    PREVIEW = "preview"
    TRUE = "true"
    FALSE = "false"
    IS = "$is"
    EQ = "$eq"

    def __init__(self, base_uri: str | None = None, *, transport: Transport | None = None) -> None:
        super().__init__(base_uri, transport=transport)

    def build_query_url(self, stage_clauses: str | Sequence[str], fmt: str = "json") -> str:
        """``<rma_endpoint>/query.<fmt>?q=<stages joined by commas>``."""
        stages = [stage_clauses] if isinstance(stage_clauses, str) else list(stage_clauses)
        return f"{self.rma_endpoint}/query.{fmt}?q={','.join(stages)}"

    def model_stage(self, model: str, **kwargs: Any) -> str:
        """``model::<Model>`` with optional ``filters`` (dict), ``criteria`` and ``include``
        (a string or a list of strings, concatenated) and the options of `options_clause`."""
        clauses = [RmaApi.MODEL + model]
        if kwargs.get("filters") is not None:
            clauses.append(self.filters(kwargs["filters"]))
        for key, axis in (("criteria", RmaApi.CRITERIA), ("include", RmaApi.INCLUDE)):
            if kwargs.get(key) is not None:
                clauses.append("," + axis + "," + "".join(kwargs[key]))
        options = self.options_clause(**kwargs)
        if options:
            clauses.append("," + options)
        return "".join(clauses)

    def pipe_stage(self, pipe_name: str, parameters: Iterable[tuple[Any, ...]]) -> str:
        """``pipe::<name>`` followed by `tuple_filters(parameters)`."""
        return RmaApi.PIPE + pipe_name + self.tuple_filters(parameters)

    def service_stage(
        self, service_name: str, parameters: Iterable[tuple[Any, ...]] | None = None
    ) -> str:
        """``service::<name>`` followed by `tuple_filters(parameters)` if given."""
        stage = RmaApi.SERVICE + service_name
        if parameters is not None:
            stage += self.tuple_filters(parameters)
        return stage

    def model_query(self, *args: Any, **kwargs: Any) -> Any:
        """Build a one-stage model query (arguments of `model_stage`) and return its rows."""
        return self.json_msg_query(self.build_query_url(self.model_stage(*args, **kwargs)))

    def service_query(self, *args: Any, **kwargs: Any) -> Any:
        """Build a one-stage service query (arguments of `service_stage`) and return its rows."""
        return self.json_msg_query(self.build_query_url(self.service_stage(*args, **kwargs)))

    def options_clause(self, **kwargs: Any) -> str:
        """``rma::options`` with only, except (or excpt), tabular, num_rows, start_row, order,
        debug and count, always in that order; empty if none is given."""
        params = []
        attribute_lists = {
            RmaApi.ONLY: kwargs.get(RmaApi.ONLY),
            RmaApi.EXCEPT: self._except_values(kwargs),
            RmaApi.TABULAR: kwargs.get(RmaApi.TABULAR),
        }
        for key, values in attribute_lists.items():
            if values is not None:
                params.append(self.only_except_tabular_clause(key, values))
        num_rows = kwargs.get(RmaApi.NUM_ROWS)
        if num_rows is not None:
            params.append(
                "[num_rows$eq'all']" if num_rows == RmaApi.ALL else f"[num_rows$eq{as_d(num_rows)}]"
            )
        if kwargs.get(RmaApi.START_ROW) is not None:
            params.append(f"[start_row$eq{as_d(kwargs[RmaApi.START_ROW])}]")
        if kwargs.get(RmaApi.ORDER) is not None:
            params.append(self.order_clause(kwargs[RmaApi.ORDER]))
        if kwargs.get(RmaApi.DEBUG) is not None:
            params.append(self.debug_clause(kwargs[RmaApi.DEBUG]))
        count = kwargs.get(RmaApi.COUNT)
        if count is True or count == RmaApi.TRUE:
            params.append("[count$eqtrue]")
        elif count is False or count == RmaApi.FALSE:
            params.append("[count$eqfalse]")
        return RmaApi.OPTIONS + "".join(params) if params else ""

    @staticmethod
    def _except_values(kwargs: Mapping[str, Any]) -> Any:
        spelled, alternate = kwargs.get(RmaApi.EXCEPT), kwargs.get(RmaApi.EXCPT)
        if spelled is not None and alternate is not None:
            warnings.warn("excpt and except options should not be used together", stacklevel=3)
            return spelled
        return alternate if spelled is None else spelled

    def only_except_tabular_clause(
        self, filter_type: str, attribute_list: Sequence[str] | None
    ) -> str:
        """``[<filter_type>$eq<attributes joined by commas>]``; empty for None."""
        if attribute_list is None:
            return ""
        return f"[{filter_type}$eq{','.join(attribute_list)}]"

    def order_clause(self, order_list: Sequence[str] | None = None) -> str:
        """``[order$eq<keys joined by commas>]``; keys may end in ``+asc`` or ``+desc``."""
        if order_list is None:
            return ""
        return f"[order$eq{','.join(order_list)}]"

    def debug_clause(self, debug_value: bool | str | None = None) -> str:
        """``[debug$eqtrue]``, ``[debug$eqfalse]`` or ``[debug$eq'preview']``; else empty."""
        if debug_value is True or debug_value == RmaApi.TRUE:
            return "[debug$eqtrue]"
        if debug_value is False or debug_value == RmaApi.FALSE:
            return "[debug$eqfalse]"
        if debug_value == RmaApi.PREVIEW:
            return "[debug$eq'preview']"
        return ""

    def filters(self, filters: Mapping[str, Any]) -> str:
        """One `filter` per item, in the mapping's order."""
        return "".join(self.filter(key, value) for key, value in filters.items())

    def tuple_filters(self, filters: Iterable[tuple[Any, ...]]) -> str:
        """Filters from tuples, sorted: ``(key, value)`` → ``[key$eqvalue]`` (lists
        comma-joined, bools ``true``/``false``, ints ``%d``; other value types are dropped) and
        ``(key, op, value)`` → ``[key<op>value]``. A tuple whose last item is None is skipped."""
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

    def quote_string(self, the_string: str) -> str:
        """`the_string` in single quotes."""
        return "'" + the_string + "'"

    def filter(self, key: str, value: Any) -> str:
        """``[<key>$eq<value>]``."""
        return "[" + key + RmaApi.EQ + str(value) + "]"

    def build_schema_query(self, clazz: str | None = None, fmt: str = "json") -> str:
        """URL of the schema of one class, or of all classes."""
        class_part = "/" + clazz if clazz is not None else ""
        return self.rma_endpoint + class_part + "." + fmt

    def get_schema(self, clazz: str | None = None) -> Any:
        """Fetch the schema `build_schema_query` points at."""
        return self.do_query(self.build_schema_query, self.read_data, clazz)


def as_d(value: Any) -> str:
    """`value` formatted as allensdk formats integers (``%d``): floats are truncated and a
    string raises TypeError."""
    return "%d" % value  # noqa: UP031 - the coercion is the point


def _tuple_rhs(value: Any) -> str | None:
    kind = type(value)
    if kind is list:
        return ",".join(str(item) for item in value)
    if kind is int:
        return as_d(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is str:
        return str(value)
    return None
