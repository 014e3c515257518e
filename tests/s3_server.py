"""An S3-compatible server for tests: moto's S3 in server mode on 127.0.0.1 (a free port), the
application `ThreadedMotoServer` runs, with each request it answers written down (method, key,
Range) and ranged reads optionally held until several have come, so tests can count the
requests a reader makes and see them overlap. `latency` delays every answer (benchmarks use it
to stand in for a distant object store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

HOLD_SECONDS = 10.0
"""Longest a held ranged read waits for the others (then it goes on, and the overlap is less)."""


@dataclass(frozen=True)
class Seen:
    """A request the server answered."""

    method: str
    path: str
    range: str | None


class S3Server:
    """moto's S3 on loopback; `url` is its endpoint. `requests` lists what it answered.
    Each request waits `latency` seconds before it is answered (changeable while serving)."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[Seen] = []
        self.most_in_flight = 0
        self._in_flight = 0
        self._hold = 0
        self._arrived = 0
        self._changed = threading.Condition()
        backend = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1",
            0,
            self._observed(backend),
            threaded=True,
            request_handler=MotoRequestHandler,
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def gets(self, path: str) -> list[Seen]:
        """The GET requests answered for `path` (``/bucket/key``)."""
        return [seen for seen in self.requests if seen.method == "GET" and seen.path == path]

    @contextmanager
    def holding(self, count: int) -> Iterator[None]:
        """Within: each ranged GET waits until `count` have come (or `HOLD_SECONDS`), so a
        reader that sends them one at a time never has two in flight; `most_in_flight` counts
        afresh."""
        with self._changed:
            self._hold, self._arrived, self.most_in_flight = count, 0, 0
        try:
            yield
        finally:
            with self._changed:
                self._hold = 0
                self._changed.notify_all()

    def _observed(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def observe(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            ranged = environ.get("HTTP_RANGE")
            with self._changed:
                self.requests.append(Seen(environ["REQUEST_METHOD"], environ["PATH_INFO"], ranged))
                self._in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self._in_flight)
                self._changed.notify_all()
                if ranged and self._hold:
                    self._arrived += 1
                    self._changed.notify_all()
                    self._changed.wait_for(lambda: self._arrived >= self._hold, HOLD_SECONDS)
            if self.latency:
                time.sleep(self.latency)
            try:
                return list(app(environ, start_response))
            finally:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

        return observe


def s3_environment(server: S3Server) -> dict[str, str]:
    """The standard AWS variables that send fsspec (and so brainmap) to `server`."""
    return {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": "brainmap-tests",
        "AWS_SECRET_ACCESS_KEY": "brainmap-tests",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
