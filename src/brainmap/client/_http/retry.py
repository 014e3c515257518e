"""When and how long the transport waits before trying a GET again."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

import aiohttp
from tenacity import RetryCallState, wait_exponential, wait_random

from brainmap.errors import ApiError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another try: overload and gateway trouble, not client mistakes."""


class CorruptBody(ApiError):
    """A complete-looking response whose body failed verification (short, undecodable, wrong
    size); another attempt may get a good copy."""


class RetryableStatus(ApiError):
    """An HTTP status in `RETRY_STATUSES`; `retry_after` is the server's hint in seconds."""

    def __init__(self, url: str, status: int, message: str, retry_after: float | None) -> None:
        super().__init__(url, status, message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    `attempts` counts the first try (1 disables retries). Waits grow from `initial` seconds,
    doubling, plus up to `jitter` seconds of randomness, never above `maximum`; a
    ``Retry-After`` header replaces the computed wait (still capped at `maximum`).
    """

    attempts: int = 3
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.5

    def wait(self, state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt (tenacity's ``wait`` callback)."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableStatus) and error.retry_after is not None:
            return min(error.retry_after, self.maximum)
        backoff = wait_exponential(multiplier=self.initial, max=self.maximum) + wait_random(
            0, self.jitter
        )
        return min(float(backoff(state)), self.maximum)


def is_transient(error: BaseException) -> bool:
    """True for failures another attempt may cure: lost or refused connections, socket
    timeouts, truncated or corrupt bodies, and the statuses in `RETRY_STATUSES`.

    A total-time timeout (a bare `asyncio.TimeoutError`) is the caller's limit and is not
    retried.
    """
    if isinstance(error, (RetryableStatus, CorruptBody)):
        return True
    return isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError))


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
