"""`MockTransport`: the handler sees each request as it goes on the wire, and the answers behave
as the network transport's do (typed errors, body checks, atomic downloads)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from brainmap.client import ImageDownloadApi, MockTransport, Request, Response, json_response
from brainmap.client._http.errors import CorruptBody, RetryableStatus
from brainmap.errors import ApiError

URL = "http://example.org/api/v2/data/query.json?q=model::Gene,rma::options%5Bnum_rows$eq5%5D"


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> MockTransport:
    return MockTransport(lambda request: Response(request.url, status, headers or {}, body))


def test_the_handler_sees_the_request_as_sent() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return json_response(request, {"ok": True})

    transport = MockTransport(handler)
    assert asyncio.run(transport.get(URL)).json() == {"ok": True}
    asyncio.run(transport.post("http://example.org/post", {"a": "1"}))
    assert seen == [
        Request("GET", URL),
        Request("POST", "http://example.org/post", {"a": "1"}),
    ]
    assert transport.retries == {}


def test_statuses_raise_as_on_the_network() -> None:
    with pytest.raises(ApiError) as missing:
        asyncio.run(answer(404, b"no image 42").get(URL))
    assert (missing.value.url, missing.value.status, missing.value.message) == (
        URL,
        404,
        "no image 42",
    )
    with pytest.raises(RetryableStatus) as busy:
        asyncio.run(answer(503, b"busy", {"Retry-After": "2"}).get(URL))
    assert busy.value.retry_after == 2.0


def test_a_body_check_runs_on_the_answer() -> None:
    def refuse(body: bytes) -> None:
        raise CorruptBody(URL, 200, f"{len(body)} bytes")

    with pytest.raises(CorruptBody, match="3 bytes"):
        asyncio.run(answer(200, b"abc").get(URL, check=refuse))


def test_downloads_are_atomic(tmp_path: Path) -> None:
    kept = tmp_path / "kept.jpg"
    kept.write_bytes(b"old")
    with pytest.raises(ApiError):
        asyncio.run(answer(500, b"broken").download(URL, kept))
    assert kept.read_bytes() == b"old"
    assert asyncio.run(answer(200, b"new").download(URL, kept)) == 3
    assert kept.read_bytes() == b"new"
    assert [path.name for path in tmp_path.iterdir()] == ["kept.jpg"]


def test_an_allensdk_post_reaches_the_handler_as_json() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return json_response(request, {"success": True, "msg": request.payload})

    api = ImageDownloadApi("http://example.org", transport=MockTransport(handler))
    parsed = api.retrieve_parsed_json_over_http("http://example.org/post?a=1&b=x", post=True)
    assert parsed["msg"] == {"a": "1", "b": "x"}
    assert seen == [Request("POST", "http://example.org/post", {"a": "1", "b": "x"})]
