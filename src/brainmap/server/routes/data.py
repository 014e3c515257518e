"""The RMA data endpoints: `/api/v2/data/query.{fmt}` and the legacy per-model forms.

* `query.{fmt}?q=...` (or `criteria=`): a whole RMA query, form-decoded (``+`` is a space).
* `{Model}/query.{fmt}?criteria=&include=&only=&except=&order=&num_rows=&start_row=`.
* `{Model}/{id}.{fmt}?include=`: the envelope around a list of that one record (empty if the
  id does not exist).
* `enumerate.json`, `{Model}/describe.json` (the models, from the schema) and
  `structure_graph_download/{id}.json` (one ontology, nested).

Every body carries `Content-Disposition: attachment; filename="query.{fmt}"`; the `filename=`
parameter names it otherwise (characters outside ``[A-Za-z0-9._-]`` become ``_``).

Queries the engine cannot answer are HTTP 200 with `success: false` (docs/rules.md, "Errors").
Bodies are streamed in pieces of 256 KiB or more (a shorter body is sent whole, with its length);
parsing, SQL and serialisation run in the threadpool, one session per response.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from itertools import chain
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from brainmap.errors import RmaError
from brainmap.rma.ast import Filter, Literal, ModelStage, Options, Path, Query
from brainmap.rma.numbers import parse_int64
from brainmap.rma.parse import OPTION_NAMES, parse_options, parse_paths, parse_query
from brainmap.server.formats import FORMATS, Format
from brainmap.server.state import server_state
from brainmap.service import MAX_QUERY_STRING
from brainmap.store.catalog import describe_model, enumerate_models
from brainmap.store.folder import Store
from brainmap.store.ontology import structure_tree
from brainmap.store.query.result import QueryResult
from brainmap.store.query.run import run_query
from brainmap.store.query.sessions import reading
from brainmap.store.schema import model_classes

UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
PIECE_BYTES = 256 * 1024
"""Bodies go out in pieces of this many bytes or more; a shorter body goes out whole."""


class DigitsConvertor(Convertor[str]):
    """A path segment of decimal digits, kept as text: Starlette's ``int`` would raise on
    thousands of digits, and an id's range is checked where the id is used."""

    regex = "[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("digits", DigitsConvertor())


def data_routes() -> list[Route]:
    """Routes to mount under the API prefix (the store is the app's `server_state`)."""
    return [
        Route("/data/enumerate.{fmt}", enumerate_endpoint, methods=["GET"]),
        Route("/data/{model}/describe.{fmt}", describe_endpoint, methods=["GET"]),
        Route("/structure_graph_download/{id:digits}.{fmt}", graph_endpoint, methods=["GET"]),
        Route("/data/query.{fmt}", query_endpoint, methods=["GET"]),
        Route("/data/{model}/query.{fmt}", model_query_endpoint, methods=["GET"]),
        Route("/data/{model}/{id:digits}.{fmt}", record_endpoint, methods=["GET"]),
    ]


async def query_endpoint(request: Request) -> Response:
    """`q=` / `criteria=` (or `include=model::...`, a documented variant)."""
    params = request.query_params
    text = params.get("q") or params.get("criteria")
    if text is None and params.get("include", "").startswith("model::"):
        text = params["include"]
    return await _respond(request, lambda: parse_query(text or ""))


async def model_query_endpoint(request: Request) -> Response:
    """The legacy per-model query: each clause its own parameter."""
    model = request.path_params["model"]
    params = request.query_params

    def build() -> Query:
        criteria = parse_paths(params.get("criteria", ""))
        return (ModelStage(model, (), criteria, _include(params), _options(params)),)

    return await _respond(request, build)


async def record_endpoint(request: Request) -> Response:
    """One record by id, in the same envelope as a query."""
    model = request.path_params["model"]
    record_id = Filter("id", "$eq", (Literal(request.path_params["id"]),))
    params = request.query_params
    return await _respond(
        request, lambda: (ModelStage(model, (record_id,), (), _include(params), _options(params)),)
    )


async def enumerate_endpoint(request: Request) -> Response:
    """Every RMA model by name."""
    return await _respond_records(request, "Model", lambda _session: enumerate_models())


async def describe_endpoint(request: Request) -> Response:
    """One model's attributes and associations; an unknown model is `success: false`."""
    name = request.path_params["model"]

    def describe(_session: Session) -> list[dict[str, Any]]:
        model = model_classes().get(name)
        if model is None:
            raise RmaError(f"model::{name}", f"unknown model {name}")
        return [describe_model(model)]

    return await _respond_records(request, "Model", describe)


async def graph_endpoint(request: Request) -> Response:
    """The nested ontology of one structure graph."""
    text = request.path_params["id"]

    def tree(session: Session) -> list[dict[str, Any]]:
        try:
            graph_id = parse_int64(text)
        except ValueError as error:
            raise RmaError(f"structure_graph_download/{text}", f"graph id: {error}") from None
        return structure_tree(session, graph_id)

    return await _respond_records(request, "Structure", tree)


async def _respond_records(
    request: Request, model: str, records: Callable[[Session], list[dict[str, Any]]]
) -> Response:
    """A fixed list of records in the usual envelope."""

    def result(session: Session) -> QueryResult:
        found = records(session)
        return QueryResult(model, (), 0, len(found), len(found), iter(found))

    return await _stream(request, result)


def _include(params: QueryParams) -> tuple[Path, ...]:
    return parse_paths(params.get("include", ""))


def _options(params: QueryParams) -> Options:
    return parse_options([(name, params[name]) for name in OPTION_NAMES if name in params])


async def _respond(request: Request, build: Callable[[], Query]) -> Response:
    return await _stream(request, lambda session: run_query(session, build()))


async def _stream(request: Request, run: Callable[[Session], QueryResult]) -> Response:
    """Check the request, then stream `run`'s result in the requested format. The first chunk
    is made before the response starts, so that a store that cannot be read is an error
    response (see `state.install_state`) rather than a body cut short."""
    if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING:
        return PlainTextResponse("query string longer than 64 KiB", status_code=414)
    fmt = request.path_params["fmt"]
    form = FORMATS.get(fmt)
    if form is None:
        return PlainTextResponse("unknown format (use json, xml or csv)", status_code=404)
    chunks = _pieces(_body(server_state(request.app).store, run, form))
    first = await run_in_threadpool(next, chunks, b"")
    name = UNSAFE_FILENAME.sub("_", request.query_params.get("filename") or f"query.{fmt}")
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if len(first) < PIECE_BYTES:  # the whole body: no further trips to the threadpool
        chunks.close()
        return Response(first, media_type=form.media_type, headers=disposition)
    body = iterate_in_threadpool(chain((first,), chunks))
    return StreamingResponse(body, media_type=form.media_type, headers=disposition)


def _pieces(chunks: Generator[bytes, None, None]) -> Generator[bytes, None, None]:
    """`chunks` joined into pieces of at least `PIECE_BYTES` (the last one may be shorter), so
    that a body takes few trips to the threadpool and few writes; closing it closes `chunks`."""
    pending: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            pending.append(chunk)
            size += len(chunk)
            if size >= PIECE_BYTES:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)
    finally:
        chunks.close()


def _body(
    store: Store, run: Callable[[Session], QueryResult], form: Format
) -> Generator[bytes, None, None]:
    """Parse, run and write; an RmaError becomes the format's error body."""
    with reading(store) as session:
        try:
            result = run(session)
        except RmaError as error:
            yield form.error(error)
            return
        try:
            yield from form.write(result)
        finally:  # a client gone mid-stream: the rows' cursor closes before the session does
            if isinstance(result.records, Generator):
                result.records.close()
