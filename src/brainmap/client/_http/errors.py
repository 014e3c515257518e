"""How an HTTP exchange fails, as typed errors: statuses worth another try, bodies that failed
verification, and the `ApiError` a status stands for."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping

from brainmap.errors import ApiError, QueryFailed

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another try: overload and gateway trouble, not client mistakes."""

MESSAGE_LIMIT = 1000
"""Characters of an error body kept in `ApiError.message`."""


class CorruptBody(ApiError):
    """A complete-looking response whose body failed verification (short, undecodable, wrong
    size); another attempt may get a good copy."""


class ServiceBusy(CorruptBody):
    """An RMA answer ``success: false`` saying a service failed for now ("Informatics service
    request failed"): the real API says so at times, and asking again cures it."""


TRANSIENT_MESSAGE = "service request failed"
"""What the real API's transient service failures say (`ServiceBusy`)."""


def refuse_busy_service(url: str) -> Callable[[bytes], None]:
    """A body check raising `ServiceBusy` (retried) for an envelope whose message says a
    service failed for now; other bodies are only scanned for those words."""

    def check(body: bytes) -> None:
        if TRANSIENT_MESSAGE.encode() not in body:
            return
        message = _envelope_message(body)
        if message is not None and TRANSIENT_MESSAGE in message:
            raise ServiceBusy(url, 200, message)

    return check


class RetryableStatus(ApiError):
    """An HTTP status in `RETRY_STATUSES`; `retry_after` is the server's hint in seconds."""

    def __init__(self, url: str, status: int, message: str, retry_after: float | None) -> None:
        super().__init__(url, status, message)
        self.retry_after = retry_after


def status_error(
    url: str, status: int, reason: str, headers: Mapping[str, str], body: bytes
) -> ApiError | None:
    """The error a status of 400 or above stands for (None below): `QueryFailed` (never
    retried) when the body is an RMA envelope saying "Error in query", `RetryableStatus` with the
    ``Retry-After`` hint for the statuses in `RETRY_STATUSES`, else `ApiError`. The message is
    the start of the body, or `reason` when the body is empty."""
    if status < 400:
        return None
    query_error = _query_error(body)
    if query_error is not None:
        return QueryFailed(url, status, query_error)
    message = body.decode("utf-8", errors="replace")[:MESSAGE_LIMIT] or reason
    if status in RETRY_STATUSES:
        delay = parse_retry_after(headers.get("Retry-After"))
        return RetryableStatus(url, status, message, delay)
    return ApiError(url, status, message)


def _query_error(body: bytes) -> str | None:
    """The message of an RMA envelope ``{"success": false, "msg": "Error in query..."}``."""
    message = _envelope_message(body)
    return message if message is not None and message.startswith("Error in query") else None


def _envelope_message(body: bytes) -> str | None:
    """The ``msg`` of a JSON envelope with ``success: false``, else None."""
    if not body.startswith(b"{"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get("success") is not False:
        return None
    message = parsed.get("msg")
    return message if isinstance(message, str) else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
