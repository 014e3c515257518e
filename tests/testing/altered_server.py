"""A stdlib HTTP server on loopback that relays every request to a real server, except that it
answers an unknown image id (the path ends in /-1) with 200 instead of 404: a server that
differs from the API in exactly one documented fact."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELAYED_HEADERS = ("content-type", "content-disposition")


def _relay_handler(upstream: str) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0].endswith("/-1"):
                self._answer(200, {"content-type": "text/plain"}, b"no such image, yet 200")
                return
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=30) as response:
                    self._answer(response.status, response.headers, response.read())
            except urllib.error.HTTPError as error:
                with error:
                    self._answer(error.code, error.headers, error.read())

        def _answer(self, status: int, headers: Message | dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name in RELAYED_HEADERS:
                value = headers.get(name)
                if value is not None:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads the kit's output, not the relay's log."""

    return Relay


@contextmanager
def altered_server(upstream: str) -> Iterator[str]:
    """The relay's base URL while the block runs; stopped and closed after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _relay_handler(upstream))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
