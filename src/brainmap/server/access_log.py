"""The access log: one line a request, as JSON or as text, written when its answer goes out."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from brainmap.server.metrics import Answered

FORMATS = ("json", "text", "off")
"""What ``serve --access-log`` takes; off writes nothing."""


def access_log_for(form: str | None) -> AccessLog | None:
    """The access log in `form` (one of `FORMATS`), None for off or nothing."""
    if form is None or form == "off":
        return None
    if form not in FORMATS:
        raise ValueError(f"access log format {form!r} is not one of {', '.join(FORMATS)}")
    return AccessLog(form == "json")


class AccessLog:
    """Writes one line a request to `stream` (standard output by default): JSON if `as_json`,
    else space-separated text."""

    def __init__(self, as_json: bool, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, answered: Answered) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        target = f"{answered.path}?{answered.query}" if answered.query else answered.path
        if self.as_json:
            line = json.dumps(
                {
                    "time": stamp,
                    "client": answered.client,
                    "method": answered.method,
                    "target": target,
                    "status": answered.status,
                    "bytes": answered.body_bytes,
                    "seconds": round(answered.seconds, 6),
                    "family": answered.family,
                },
                ensure_ascii=True,
            )
        else:
            line = (
                f"{stamp} {answered.client or '-'} {answered.method} {target!r} {answered.status}"
                f" {answered.body_bytes} {answered.seconds:.6f}s {answered.family}"
            )
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()
