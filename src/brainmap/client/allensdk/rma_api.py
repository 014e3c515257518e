"""`RmaApi`: builds RMA query strings exactly as allensdk does and runs them.

The builders are `brainmap.client.rma_stages`; `Api.retrieve_parsed_json_over_http` quotes the
finished URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from brainmap.client import rma_stages, urls
from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.api import Api
from brainmap.client.rma_stages import StageOptions


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
    ALL = rma_stages.ALL
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
        return urls.query_url(self.rma_endpoint, stage_clauses, fmt)

    def model_stage(self, model: str, **kwargs: Any) -> str:
        """``model::<Model>`` with optional ``filters`` (dict), ``criteria`` and ``include``
        (a string or a list of strings, concatenated) and the options of `options_clause`;
        other keywords are ignored."""
        return rma_stages.model_stage(
            model,
            filters=kwargs.get("filters"),
            criteria=kwargs.get("criteria"),
            include=kwargs.get("include"),
            options=StageOptions.from_kwargs(kwargs),
        )

    def pipe_stage(self, pipe_name: str, parameters: Iterable[tuple[Any, ...]]) -> str:
        """``pipe::<name>`` followed by `tuple_filters(parameters)`."""
        return rma_stages.pipe_stage(pipe_name, parameters)

    def service_stage(
        self, service_name: str, parameters: Iterable[tuple[Any, ...]] | None = None
    ) -> str:
        """``service::<name>`` followed by `tuple_filters(parameters)` if given."""
        return rma_stages.service_stage(service_name, parameters)

    def model_query(self, *args: Any, **kwargs: Any) -> Any:
        """Build a one-stage model query (arguments of `model_stage`) and return its rows."""
        return self.json_msg_query(self.build_query_url(self.model_stage(*args, **kwargs)))

    def service_query(self, *args: Any, **kwargs: Any) -> Any:
        """Build a one-stage service query (arguments of `service_stage`) and return its rows."""
        return self.json_msg_query(self.build_query_url(self.service_stage(*args, **kwargs)))

    def options_clause(self, **kwargs: Any) -> str:
        """``rma::options`` with only, except (or excpt), tabular, num_rows, start_row, order,
        debug and count, always in that order; empty if none is given."""
        return StageOptions.from_kwargs(kwargs).render()

    def only_except_tabular_clause(
        self, filter_type: str, attribute_list: Sequence[str] | None
    ) -> str:
        """``[<filter_type>$eq<attributes joined by commas>]``; empty for None."""
        return rma_stages.only_except_tabular_clause(filter_type, attribute_list)

    def order_clause(self, order_list: Sequence[str] | None = None) -> str:
        """``[order$eq<keys joined by commas>]``; keys may end in ``+asc`` or ``+desc``."""
        return rma_stages.order_clause(order_list)

    def debug_clause(self, debug_value: bool | str | None = None) -> str:
        """``[debug$eqtrue]``, ``[debug$eqfalse]`` or ``[debug$eq'preview']``; else empty."""
        return rma_stages.debug_clause(debug_value)

    def filters(self, filters: Mapping[str, Any]) -> str:
        """One `filter` per item, in the mapping's order."""
        return rma_stages.filters_clause(filters)

    def tuple_filters(self, filters: Iterable[tuple[Any, ...]]) -> str:
        """Filters from tuples, sorted (see `brainmap.client.rma_stages.tuple_filters`)."""
        return rma_stages.tuple_filters(filters)

    def quote_string(self, the_string: str) -> str:
        """`the_string` in single quotes."""
        return rma_stages.quote_string(the_string)

    def filter(self, key: str, value: Any) -> str:
        """``[<key>$eq<value>]``."""
        return rma_stages.filter_clause(key, value)

    def build_schema_query(self, clazz: str | None = None, fmt: str = "json") -> str:
        """URL of the schema of one class, or of all classes."""
        return urls.schema_url(self.rma_endpoint, clazz, fmt)

    def get_schema(self, clazz: str | None = None) -> Any:
        """Fetch the schema `build_schema_query` points at."""
        return self.do_query(self.build_schema_query, self.read_data, clazz)
