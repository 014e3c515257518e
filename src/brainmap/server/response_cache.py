"""Encoded image responses kept for repeated requests, by ETag, bounded in bytes."""

from __future__ import annotations

from cachetools import LRUCache


class ResponseCache(LRUCache[str, bytes]):
    """Bodies by ETag, least recently used out first, at most `maxsize` bytes in all.

    Used from the event loop only, so it needs no lock. A body larger than an eighth of the
    capacity is not kept (one huge image must not flush everything else); a capacity of 0
    keeps nothing.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(maxsize=capacity, getsizeof=len)

    def keep(self, etag: str, body: bytes) -> None:
        """Keep `body` under `etag` unless it is too large for this cache."""
        if len(body) * 8 <= self.maxsize:
            self[etag] = body
