"""`Query` AST -> canonical RMA text; `parse_query(render_query(q)) == q` for every valid AST.

Canonical choices: quoted values keep their quotes (a quote inside is doubled), option lists are
quoted (``[only$eq'a,b']``, RmaTemplate style) and options come in allensdk's fixed order.
"""

from __future__ import annotations

from collections.abc import Iterator

from brainmap.rma.ast import (
    Filter,
    Literal,
    ModelStage,
    Options,
    Path,
    PipeStage,
    Query,
    Stage,
    Value,
)


def render_query(query: Query) -> str:
    """The whole query: stages joined by commas."""
    return ",".join(render_stage(stage) for stage in query)


def render_stage(stage: Stage) -> str:
    """One stage, e.g. for error messages naming it."""
    if isinstance(stage, ModelStage):
        parts = [f"model::{stage.model}{render_filters(stage.filters)}"]
        if stage.criteria:
            parts += ["rma::criteria", render_paths(stage.criteria)]
        if stage.include:
            parts += ["rma::include", render_paths(stage.include)]
        options = "".join(_render_options(stage.options))
        if options:
            parts.append(f"rma::options{options}")
        return ",".join(parts)
    axis = "pipe" if isinstance(stage, PipeStage) else "service"
    return f"{axis}::{stage.name}{render_filters(stage.params)}"


def render_paths(paths: tuple[Path, ...]) -> str:
    """A comma-separated path list (criteria, include, or a nested list)."""
    return ",".join(_render_path(path) for path in paths)


def _render_path(path: Path) -> str:
    children = f"({render_paths(path.children)})" if path.children else ""
    return f"{path.association or ''}{render_filters(path.filters)}{children}"


def render_filters(filters: tuple[Filter, ...]) -> str:
    """`[lhs$opvalue,...]...`."""
    return "".join(_render_filter(item) for item in filters)


def _render_filter(item: Filter) -> str:
    if item.op is None:
        return f"[{item.lhs}]"
    return f"[{item.lhs}{item.op}{','.join(_render_value(value) for value in item.rhs)}]"


def _render_value(value: Value) -> str:
    if isinstance(value, Literal):
        return _quote(value.text) if value.quoted else value.text
    return f"${value.name}"


def _quote(text: str) -> str:
    escaped = text.replace("'", "''")
    return f"'{escaped}'"


def _render_options(options: Options) -> Iterator[str]:
    for name, items in (
        ("only", options.only),
        ("except", options.except_),
        ("tabular", options.tabular),
    ):
        if items:
            yield f"[{name}$eq{_quote(','.join(items))}]"
    if options.num_rows == "all":
        yield "[num_rows$eq'all']"
    elif options.num_rows is not None:
        yield f"[num_rows$eq{options.num_rows}]"
    if options.start_row is not None:
        yield f"[start_row$eq{options.start_row}]"
    if options.order:
        keys = ",".join(f"{key}$desc" if descending else key for key, descending in options.order)
        yield f"[order$eq{_quote(keys)}]"
    if options.debug is not None:
        yield f"[debug$eq{options.debug}]"
    if options.count is not None:
        yield f"[count$eq{'true' if options.count else 'false'}]"
