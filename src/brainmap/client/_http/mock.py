"""`MockTransport`: a `Transport` that hands every request to a function, for unit tests.

As httpx's ``MockTransport``: the handler sees the real `Request` (method, the URL exactly as it
would go on the wire, the payload of a POST) and returns the `Response` to give back. Nothing is
recorded or faked behind the test's back; a test that wants the URLs keeps them itself::

    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(request.url)
        return json_response(request, {"success": True, "msg": []})

    api = ImageDownloadApi(transport=MockTransport(handler))

A status of 400 or above raises as the network transport raises it (`ApiError`, or
`RetryableStatus` for the retryable ones); there are no retries and no timeouts. A body check
runs as on the network, and downloads are atomic.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable

from brainmap.client._http.errors import status_error
from brainmap.client._http.files import atomic_writer
from brainmap.client._http.transport import Check, Request, Response

Handler = Callable[[Request], Response]
"""Answers one request."""


class MockTransport:
    """Answers every request with `handler(request)`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.retries: Counter[str] = Counter()

    async def get(self, url: str, *, check: Check | None = None) -> Response:
        """The handler's answer to a GET; `check` runs on its body."""
        response = self._send(Request("GET", url))
        if check is not None:
            check(response.body)
        return response

    async def post(self, url: str, payload: object) -> Response:
        """The handler's answer to a POST of `payload`."""
        return self._send(Request("POST", url, payload))

    async def download(self, url: str, path: str | os.PathLike[str]) -> int:
        """Write the body of the handler's answer to a GET at `path`, atomically."""
        body = (await self.get(url)).body
        with atomic_writer(path) as handle:
            handle.write(body)
        return len(body)

    async def close(self) -> None:
        """Nothing to release."""

    def _send(self, request: Request) -> Response:
        response = self.handler(request)
        error = status_error(request.url, response.status, "", response.headers, response.body)
        if error is not None:
            raise error
        return response


def json_response(request: Request, data: object, status: int = 200) -> Response:
    """A JSON response to `request` (for handlers)."""
    body = json.dumps(data).encode("utf-8")
    return Response(request.url, status, {"Content-Type": "application/json"}, body)
