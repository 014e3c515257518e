"""Encoded image responses kept for repeated requests, by ETag, bounded in bytes."""

from __future__ import annotations

from typing import TypeVar, overload

from cachetools import LRUCache

from brainmap import events

T = TypeVar("T")


class ResponseCache(LRUCache[str, bytes]):
    """Bodies by ETag, least recently used out first, at most `maxsize` bytes in all.

    Used from the event loop only, so it needs no lock. A body larger than an eighth of the
    capacity is not kept (one huge image must not flush everything else); a capacity of 0
    keeps nothing. Each `get` is reported to `brainmap.events` as a hit or a miss.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(maxsize=capacity, getsizeof=len)

    @overload
    def get(self, key: str, default: None = None) -> bytes | None: ...
    @overload
    def get(self, key: str, default: bytes | T) -> bytes | T: ...
    def get(self, key: str, default: object = None) -> object:
        """The body kept under `key`, else `default`."""
        hit = key in self
        events.lookups("responses", int(hit), int(not hit))
        return self[key] if hit else default

    def keep(self, etag: str, body: bytes) -> None:
        """Keep `body` under `etag` unless it is too large for this cache."""
        if len(body) * 8 <= self.maxsize:
            self[etag] = body
