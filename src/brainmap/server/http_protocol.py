"""uvicorn's httptools protocol, answering 414 for over-long request targets.

httptools (with uvloop, both server dependencies) serves about 1.5-2x the requests/s of h11 on
the image endpoints (benchmarks/render.py), but its URL parser refuses targets above 65,535
bytes and uvicorn then answers a bare 400. The rules ask for 414 above a 64 KiB query string,
so `BoundedTargetProtocol` refuses such targets itself, with 414, as soon as their length is
known and without buffering the rest of the request.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_TARGET_BYTES = 65_535
"""Longest request target httptools can parse; a query string over 64 KiB is always longer."""
REFUSAL = b"request target longer than 64 KiB; send long RMA queries in parts"


class BoundedTargetProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that answers ``414 URI Too Long`` and closes the connection for a
    request target over `MAX_TARGET_BYTES`; the application never sees that request."""

    _refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refused = False

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            self._refused = True
            self._send_414()

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if not self._refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _send_414(self) -> None:
        head = (
            b"HTTP/1.1 414 URI Too Long\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(REFUSAL)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + REFUSAL)
        self.transport.close()
