"""The RMA data endpoints: `/api/v2/data/query.{fmt}` and the legacy per-model forms.

* `query.{fmt}?q=...` (or `criteria=`): a whole RMA query, form-decoded (``+`` is a space).
* `{Model}/query.{fmt}?criteria=&include=&only=&except=&order=&num_rows=&start_row=`.
* `{Model}/{id}.{fmt}?include=`: the envelope around a list of that one record (empty if the
  id does not exist).

Queries the engine cannot answer are HTTP 200 with `success: false` (DECISIONS.md). Bodies are
streamed; parsing, SQL and serialisation run in the threadpool, one session per response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from starlette.concurrency import iterate_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from brainmap.errors import RmaError
from brainmap.rma.ast import Filter, Literal, ModelStage, Options, Path, Query
from brainmap.rma.parse import OPTION_NAMES, parse_options, parse_paths, parse_query
from brainmap.server.formats import FORMATS, Format
from brainmap.store.folder import Store
from brainmap.store.sql import run_query

MAX_QUERY_STRING = 64 * 1024


def data_routes() -> list[Route]:
    """Routes to mount in the server app (the store is `app.state.store`)."""
    return [
        Route("/api/v2/data/query.{fmt}", query_endpoint, methods=["GET"]),
        Route("/api/v2/data/{model}/query.{fmt}", model_query_endpoint, methods=["GET"]),
        Route("/api/v2/data/{model}/{id:int}.{fmt}", record_endpoint, methods=["GET"]),
    ]


async def query_endpoint(request: Request) -> Response:
    """`q=` / `criteria=` (or `include=model::...`, a documented variant)."""
    params = request.query_params
    text = params.get("q") or params.get("criteria")
    if text is None and params.get("include", "").startswith("model::"):
        text = params["include"]
    return _respond(request, lambda: parse_query(text or ""))


async def model_query_endpoint(request: Request) -> Response:
    """The legacy per-model query: each clause its own parameter."""
    model = request.path_params["model"]
    params = request.query_params

    def build() -> Query:
        criteria = parse_paths(params.get("criteria", ""))
        return (ModelStage(model, (), criteria, _include(params), _options(params)),)

    return _respond(request, build)


async def record_endpoint(request: Request) -> Response:
    """One record by id, in the same envelope as a query."""
    model = request.path_params["model"]
    record_id = Filter("id", "$eq", (Literal(str(request.path_params["id"])),))
    params = request.query_params
    return _respond(
        request, lambda: (ModelStage(model, (record_id,), (), _include(params), _options(params)),)
    )


def _include(params: QueryParams) -> tuple[Path, ...]:
    return parse_paths(params.get("include", ""))


def _options(params: QueryParams) -> Options:
    return parse_options([(name, params[name]) for name in OPTION_NAMES if name in params])


def _respond(request: Request, build: Callable[[], Query]) -> Response:
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING:
        return PlainTextResponse("query string longer than 64 KiB", status_code=414)
    form = FORMATS.get(request.path_params["fmt"])
    if form is None:
        return PlainTextResponse("unknown format (use json, xml or csv)", status_code=404)
    store: Store = request.app.state.store
    body = iterate_in_threadpool(_body(store, build, form))
    return StreamingResponse(body, media_type=form.media_type)


def _body(store: Store, build: Callable[[], Query], form: Format) -> Iterator[bytes]:
    """Parse, run and write; an RmaError becomes the format's error body."""
    with store.session() as session:
        try:
            result = run_query(session, build())
        except RmaError as error:
            yield form.error(error)
            return
        yield from form.write(result)
