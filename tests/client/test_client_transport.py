"""The aiohttp transport against a real aiohttp server on 127.0.0.1: retries, typed errors,
timeouts, atomic downloads, and the blocking allensdk shell inside a running event loop.

Tests drive the transport on brainmap's I/O thread (`loop.run`), where the allensdk classes run
it too."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from brainmap.client import (
    AiohttpTransport,
    AsyncClient,
    ImageDownloadApi,
    RetryPolicy,
    Timeouts,
    paging,
)
from brainmap.client._http import aiohttp_transport, loop
from brainmap.client._http.errors import parse_retry_after
from brainmap.errors import ApiError, QueryFailed

IMAGE = bytes(range(256)) * 64
ENVELOPE = {"success": True, "id": 0, "start_row": 0, "num_rows": 1, "total_rows": 1}
STALL = 3.0


def make_app(hits: Counter[str]) -> web.Application:
    async def count(request: web.Request) -> None:
        hits[request.path] += 1

    async def envelope(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response({**ENVELOPE, "msg": [{"raw": request.raw_path}]})

    async def failed(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response({"success": False, "msg": "Error in query: model::Nope, bad"})

    async def refused(request: web.Request) -> web.Response:
        await count(request)
        body = {"success": False, "msg": "Error in query: model::Atlas[id$eq1e99], too large"}
        return web.json_response(body, status=500)

    async def service_down(request: web.Request) -> web.Response:
        await count(request)
        if hits[request.path] == 1:
            message = "Error in query: service::x[id$eq1], Informatics service request failed."
            return web.json_response({"success": False, "msg": message})
        return web.json_response({**ENVELOPE, "msg": [{"id": 1}]})

    async def missing(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(status=404, text="no image 42 " + "x" * 5000)

    async def flaky(request: web.Request) -> web.Response:
        await count(request)
        if hits[request.path] == 1:
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        return web.Response(body=IMAGE, content_type="image/jpeg")

    async def busy(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(status=503, text="still busy", headers={"Retry-After": "0"})

    async def image(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(body=IMAGE, content_type="image/jpeg")

    async def echo_post(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response({**ENVELOPE, "msg": await request.json()})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/image")

    async def stall(request: web.Request) -> web.StreamResponse:
        await count(request)
        response = web.StreamResponse(headers={"Content-Length": str(len(IMAGE))})
        await response.prepare(request)
        await response.write(IMAGE[:100])
        await asyncio.sleep(STALL)
        return response

    async def short(request: web.Request) -> web.StreamResponse:
        await count(request)
        response = web.StreamResponse(headers={"Content-Length": str(len(IMAGE))})
        await response.prepare(request)
        await response.write(IMAGE[:100])
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/api/v2/data/query.json", envelope)
    app.router.add_get("/envelope", envelope)
    app.router.add_get("/failed", failed)
    app.router.add_get("/refused", refused)
    app.router.add_get("/service-down", service_down)
    app.router.add_get("/missing", missing)
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/busy", busy)
    app.router.add_get("/image", image)
    app.router.add_get("/api/v2/section_image_download/{id}", image)
    app.router.add_get("/redirect", redirect)
    app.router.add_post("/post", echo_post)
    app.router.add_get("/stall", stall)
    app.router.add_get("/short", short)
    return app


class Server:
    """An aiohttp server on its own thread and loop, on a free loopback port."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.runner = web.AppRunner(make_app(self.hits), shutdown_timeout=0.1)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(5)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def transport() -> Iterator[AiohttpTransport]:
    quick = AiohttpTransport(
        Timeouts(connect=2, read=0.5),
        RetryPolicy(attempts=3, initial=0.01, maximum=2, jitter=0),
    )
    yield quick
    loop.run(quick.close())


def test_get_json(server: Server, transport: AiohttpTransport) -> None:
    response = loop.run(transport.get(server.url + "/envelope?q=model::A,rma::options%5Bx%5D"))
    parsed = response.json()
    assert parsed["success"] is True
    assert parsed["msg"] == [{"raw": "/envelope?q=model::A,rma::options%5Bx%5D"}]


def test_http_error_carries_url_status_and_truncated_message(
    server: Server, transport: AiohttpTransport
) -> None:
    url = server.url + "/missing"
    with pytest.raises(ApiError) as error:
        loop.run(transport.get(url))
    assert (error.value.url, error.value.status) == (url, 404)
    assert error.value.message.startswith("no image 42")
    assert len(error.value.message) <= 1000
    assert server.hits["/missing"] == 1  # a 404 is not retried


def test_503_then_200_honours_retry_after(server: Server, transport: AiohttpTransport) -> None:
    started = time.monotonic()
    assert loop.run(transport.get(server.url + "/flaky")).body == IMAGE
    assert time.monotonic() - started >= 0.9
    assert server.hits["/flaky"] == 2


def test_retries_are_bounded(server: Server, transport: AiohttpTransport) -> None:
    with pytest.raises(ApiError) as error:
        loop.run(transport.get(server.url + "/busy"))
    assert error.value.status == 503
    assert error.value.message == "still busy"
    assert server.hits["/busy"] == 3


def test_read_timeout_is_a_typed_error(server: Server) -> None:
    async def stalled() -> None:
        async with AiohttpTransport(
            Timeouts(connect=2, read=0.3), RetryPolicy(attempts=1)
        ) as patient_once:
            await patient_once.get(server.url + "/stall")

    started = time.monotonic()
    with pytest.raises(ApiError) as error:
        asyncio.run(stalled())
    assert time.monotonic() - started < STALL
    assert error.value.status is None
    assert isinstance(error.value.__cause__, TimeoutError)


def test_connection_refused_is_retried_then_typed() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    async def refused() -> None:
        async with AiohttpTransport(retry=RetryPolicy(attempts=2, initial=0.01, jitter=0)) as t:
            await t.get(f"http://127.0.0.1:{port}/x")

    with pytest.raises(ApiError) as error:
        asyncio.run(refused())
    assert error.value.status is None


def test_download_is_atomic(server: Server, transport: AiohttpTransport, tmp_path: Path) -> None:
    target = tmp_path / "image.jpg"
    assert loop.run(transport.download(server.url + "/redirect", target)) == len(IMAGE)
    assert target.read_bytes() == IMAGE
    assert [p.name for p in tmp_path.iterdir()] == ["image.jpg"]


@pytest.mark.parametrize("path", ["/short", "/stall", "/missing"])
def test_failed_download_keeps_the_old_file_and_leaves_nothing(
    server: Server, transport: AiohttpTransport, tmp_path: Path, path: str
) -> None:
    kept, fresh = tmp_path / "kept.jpg", tmp_path / "fresh.jpg"
    kept.write_bytes(b"old")
    for target in (kept, fresh):
        with pytest.raises(ApiError):
            loop.run(transport.download(server.url + path, target))
    assert kept.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.jpg"]


def test_sync_facade_inside_a_running_loop(server: Server, transport: AiohttpTransport) -> None:
    api = ImageDownloadApi(server.url, transport=transport)

    async def notebook_cell() -> object:
        return api.retrieve_parsed_json_over_http(server.url + "/envelope")["success"]

    assert asyncio.run(notebook_cell()) is True


def test_async_core(server: Server) -> None:
    async def main() -> int:
        async with AiohttpTransport(limit=2) as core:
            bodies = await asyncio.gather(*(core.get(server.url + "/image") for _ in range(4)))
            return sum(len(body.body) for body in bodies)

    assert asyncio.run(main()) == 4 * len(IMAGE)


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# --- the allensdk surface over the wire ----------------------------------------------------


def test_image_download_api_end_to_end(
    server: Server, transport: AiohttpTransport, tmp_path: Path
) -> None:
    api = ImageDownloadApi(server.url, transport=transport)
    rows = api.section_image_query(70813257)
    assert rows == [
        {
            "raw": "/api/v2/data/query.json?q=model::SectionImage,rma::criteria,"
            "%5Bdata_set_id$eq70813257%5D,rma::options%5Bnum_rows$eq%27all%27%5D"
            "%5Bcount$eqfalse%5D"
        }
    ]
    target = tmp_path / "5.jpg"
    assert api.download_section_image(5, str(target), downsample=2) is None
    assert target.read_bytes() == IMAGE


def test_success_false_raises_query_failed(server: Server, transport: AiohttpTransport) -> None:
    api = ImageDownloadApi(server.url, transport=transport)
    with pytest.raises(QueryFailed) as error:
        api.json_msg_query(server.url + "/failed")
    assert error.value.url == server.url + "/failed"
    assert error.value.message == "Error in query: model::Nope, bad"


@pytest.mark.parametrize("path", ["/failed", "/refused"])
def test_a_query_error_is_reported_once_with_the_servers_message(
    server: Server, transport: AiohttpTransport, path: str
) -> None:
    """success:false "Error in query" (HTTP 200, or 500 from a server that errs) is the query's
    fault: not retried, and said as the server said it; a 503 stays a retried server error."""
    before = server.hits[path]
    with pytest.raises(QueryFailed) as error:
        loop.run(paging.query_rows(transport, server.url + path))
    assert server.hits[path] - before == 1
    assert str(error.value).startswith("Error in query: model::")
    assert "HTTP" not in str(error.value)
    before = server.hits["/busy"]
    with pytest.raises(ApiError) as busy:
        loop.run(paging.query_rows(transport, server.url + "/busy"))
    assert server.hits["/busy"] - before == 3 and busy.value.status == 503


def test_a_service_failing_for_now_is_asked_again(
    server: Server, transport: AiohttpTransport
) -> None:
    rows = loop.run(paging.query_rows(transport, server.url + "/service-down"))
    assert rows == [{"id": 1}] and server.hits["/service-down"] == 2
    assert transport.retries["ServiceBusy"] == 1


def test_cacheable_json_strategies(
    server: Server, transport: AiohttpTransport, tmp_path: Path
) -> None:
    api = ImageDownloadApi(server.url, transport=transport)
    path = tmp_path / "cache" / "images.json"
    created = api.section_image_query(1, path=str(path), strategy="create")
    assert json.loads(path.read_text()) == created
    path.write_text(json.dumps([{"cached": True}]))
    before = server.hits["/api/v2/data/query.json"]
    assert api.section_image_query(1, path=str(path)) == [{"cached": True}]  # lazy: file wins
    assert api.section_image_query(1, path=str(path), strategy="file") == [{"cached": True}]
    assert api.section_image_query(1, path=str(path), post=len) == 1
    assert server.hits["/api/v2/data/query.json"] == before
    with pytest.raises(ValueError, match="Unknown query strategy"):
        api.section_image_query(1, path=str(path), strategy="sometimes")


def test_sync_call_from_the_io_thread_is_refused(
    server: Server, transport: AiohttpTransport
) -> None:
    api = ImageDownloadApi(server.url, transport=transport)

    async def inside_the_io_loop() -> object:
        return api.retrieve_parsed_json_over_http(server.url + "/envelope")

    with pytest.raises(RuntimeError, match="own I/O thread"):
        loop.run(inside_the_io_loop())


def test_post_sends_the_query_as_json(server: Server, transport: AiohttpTransport) -> None:
    api = ImageDownloadApi(server.url, transport=transport)
    parsed = api.retrieve_parsed_json_over_http(server.url + "/post?a=1&b=x", post=True)
    assert parsed["msg"] == {"a": "1", "b": "x"}


def test_small_bodies_are_checked_on_the_loop_and_large_ones_on_a_thread(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []

    def check(body: bytes) -> None:
        threads.append(threading.current_thread())

    async def main() -> None:
        async with AiohttpTransport() as core:
            await core.get(server.url + "/image", check=check)
            monkeypatch.setattr(aiohttp_transport, "INLINE_CHECK_BYTES", len(IMAGE) - 1)
            await core.get(server.url + "/image", check=check)

    asyncio.run(main())
    assert threads[0] is threading.main_thread()
    assert threads[1] is not threading.main_thread()


@pytest.mark.parametrize(("concurrency", "limit"), [(3, 16), (40, 40)])
def test_a_client_bounds_its_requests_to_the_host(concurrency: int, limit: int) -> None:
    transport = AsyncClient("http://example.org", concurrency=concurrency).transport
    assert isinstance(transport, AiohttpTransport)
    assert (transport.per_host, transport.limit) == (concurrency, limit)
    assert not transport.is_open  # no session before the first request
