"""Typed exceptions shared by the client and the server."""

from __future__ import annotations


class BrainmapError(Exception):
    """Base of every error brainmap raises on purpose."""


class BadParameter(BrainmapError, ValueError):
    """An image-request parameter is malformed or out of range (HTTP 400 on the server)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class RmaError(BrainmapError, ValueError):
    """An RMA query the engine cannot answer; `stage` is the offending stage text."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"Error in query: {stage}, {reason}")
        self.stage = stage
        self.reason = reason


class ApiError(BrainmapError):
    """A request to an Allen-compatible API failed; carries the URL, status and server message."""

    def __init__(self, url: str, status: int | None, message: str) -> None:
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{where} for {url}: {message}")
        self.url = url
        self.status = status
        self.message = message


class QueryFailed(ApiError):
    """The server answered an RMA query with `success: false` (allensdk returned the string):
    a query error, reported with the server's message and never retried."""

    def __init__(self, url: str, status: int | None, message: str) -> None:
        super().__init__(url, status, message)
        said = message if message.startswith("Error in query") else f"query error: {message}"
        self.args = (f"{said} ({url})",)


class NotFound(BrainmapError, LookupError):
    """A record or image the request names does not exist (HTTP 404 on the server), or an id
    given to the client matches nothing."""
