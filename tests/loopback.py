"""Requests to a real server on loopback, as a test sends them."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import simplejpeg


def call(base_url: str, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """One GET over TCP; `query` is sent byte for byte (http.client does not re-encode)."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=30)
    try:
        connection.request("GET", f"{path}?{query}" if query else path)
        response = connection.getresponse()
        headers = {key.lower(): value for key, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        connection.close()


def get_json(base_url: str, path: str, query: str = "") -> dict[str, Any]:
    status, headers, body = call(base_url, path, query)
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)  # type: ignore[no-any-return]


def get(url: str, method: str = "GET") -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def image(
    base: str, image_id: int, query: str = "", endpoint: str = "image_download"
) -> np.ndarray:
    status, body, content_type = get(f"{base}/api/v2/{endpoint}/{image_id}?{query}")
    assert status == 200, body
    assert content_type == "image/jpeg"
    return simplejpeg.decode_jpeg(body, colorspace="RGB")
