"""The tests' one way to talk HTTP to a real server on loopback: `request` sends the target
byte for byte (http.client does not re-encode it) and follows no redirect; the rest are
shorthands over it."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import simplejpeg


@dataclass(frozen=True)
class Reply:
    """A response: status, headers with lower-cased names, body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 30
) -> Reply:
    """One request for `url` (``http://host:port/target``), the target sent as written."""
    netloc = urlsplit(url).netloc
    target = url.split(netloc, 1)[1] or "/"
    connection = http.client.HTTPConnection(netloc, timeout=timeout)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        names = {key.lower(): value for key, value in response.getheaders()}
        return Reply(response.status, names, response.read())
    finally:
        connection.close()


def call(base_url: str, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """GET `path` with `query` on the server at `base_url`: status, headers, body."""
    reply = request(f"{base_url}{path}?{query}" if query else f"{base_url}{path}")
    return reply.status, reply.headers, reply.body


def get_json(base_url: str, path: str, query: str = "") -> dict[str, Any]:
    """The JSON body of a GET that must succeed."""
    status, headers, body = call(base_url, path, query)
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)  # type: ignore[no-any-return]


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers of one request."""
    reply = request(url, method, headers)
    return reply.status, reply.body, reply.headers


def match(etag: str) -> dict[str, str]:
    """The header of a conditional request for `etag`."""
    return {"If-None-Match": etag}


def jpeg(url: str) -> np.ndarray:
    """The RGB pixels of a JPEG answer that must succeed."""
    reply = request(url)
    assert reply.status == 200, reply.body
    assert reply.content_type == "image/jpeg"
    return simplejpeg.decode_jpeg(reply.body, colorspace="RGB")


def image(
    base: str, image_id: int, query: str = "", endpoint: str = "image_download"
) -> np.ndarray:
    """The pixels of an image endpoint's answer."""
    return jpeg(f"{base}/api/v2/{endpoint}/{image_id}?{query}")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now, for a server started next."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_answer(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> Reply:
    """The answer to a GET of `url` once the server `process` runs answers at all (asked every
    0.2 s); AssertionError when the process ends or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return request(url, timeout=5)
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the server did not answer {url} within {seconds:g} s")
        time.sleep(0.2)
