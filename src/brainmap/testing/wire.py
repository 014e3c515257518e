"""GET requests to the server under test: one base URL, a timeout on every request, a bounded
number of requests, each URL fetched once (checks that need the same answer share it).

Only the standard library: the kit runs on a bare `pip install brainmap`.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Protocol
from urllib.parse import urlsplit

from brainmap.client._http.read_token import token_headers
from brainmap.testing.verdicts import Difference

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for any one answer."""
MAX_REQUESTS = 200
"""Requests one run may send; a full run against a server sends fewer than half as many."""
MAX_BODY = 64 * 1024 * 1024
"""Largest body read; the kit only asks for small images and short pages."""
API_PREFIX = "/api/v2"
USER_AGENT = "brainmap-conformance-kit"


class ServerUnreachable(Exception):
    """No HTTP answer: the connection failed or timed out."""


class RequestBudgetSpent(RuntimeError):
    """The run asked for more requests than `MAX_REQUESTS` (a guard against a runaway check)."""


def server_root(url: str) -> str:
    """The server root of `url`, given with or without ``/api/v2`` and a trailing slash.

    ValueError when it is not an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a server root takes no query or fragment: {url!r}")
    path = parts.path.rstrip("/")
    path = path.removesuffix(API_PREFIX).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass(frozen=True)
class Reply:
    """One answer: the final URL (after redirects), status, lower-cased headers and body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body as UTF-8 text; a Difference when it is not."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Difference(f"{self.url}: the body is not UTF-8 ({error})") from None

    def excerpt(self) -> str:
        """The start of the body, for messages."""
        return self.body[:200].decode("utf-8", "replace")


class Server:
    """The server under test, by its root URL."""

    def __init__(
        self, root: str, timeout: float = DEFAULT_TIMEOUT, max_requests: int = MAX_REQUESTS
    ) -> None:
        self.root = server_root(root)
        self.timeout = timeout
        self.max_requests = max_requests
        self.requests = 0
        self._replies: dict[str, Reply] = {}

    def get(self, path: str, query: str = "") -> Reply:
        """GET ``/api/v2`` + `path` with `query` sent as it is (the caller encodes it)."""
        url = f"{self.root}{API_PREFIX}{path}" + (f"?{query}" if query else "")
        reply = self._replies.get(url)
        if reply is None:
            reply = self._fetch(url)
            self._replies[url] = reply
        return reply

    def _fetch(self, url: str) -> Reply:
        if self.requests >= self.max_requests:
            raise RequestBudgetSpent(f"more than {self.max_requests} requests in one run")
        self.requests += 1
        try:
            return self._open(url)
        except (OSError, http.client.HTTPException) as error:
            raise ServerUnreachable(f"GET {url}: {error}") from None

    def _open(self, url: str) -> Reply:
        """The answer to one GET, redirects followed; an HTTP error status is an answer too."""
        headers = {"User-Agent": USER_AGENT, **token_headers()}
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _reply(response.geturl(), response.status, response.headers, response)
        except urllib.error.HTTPError as error:
            with error:
                return _reply(error.geturl(), error.code, error.headers, error)


class _Body(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _reply(url: str, status: int, headers: Message, stream: _Body) -> Reply:
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Difference(f"{url}: the body is larger than {MAX_BODY} bytes")
    lowered = {key.lower(): value for key, value in headers.items()}
    return Reply(url, status, lowered, body)
