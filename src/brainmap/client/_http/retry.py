"""When and how long the network transport waits before trying a request again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from brainmap.client._http.errors import RetryableStatus

if TYPE_CHECKING:
    from tenacity import RetryCallState


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
        from tenacity import wait_exponential, wait_random

        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableStatus) and error.retry_after is not None:
            return min(error.retry_after, self.maximum)
        backoff = wait_exponential(multiplier=self.initial, max=self.maximum) + wait_random(
            0, self.jitter
        )
        return min(float(backoff(state)), self.maximum)
