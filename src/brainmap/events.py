"""What brainmap's caches, object-store reads, renders and database statements report as they
work, for whoever listens in the same process (the server's Prometheus metrics).

The module imports nothing of brainmap and no metrics library, so the pyramid readers report
without knowing of a server. Listeners are held weakly: an app that is gone stops listening
without saying so. Reporting costs a call per listener (a few microseconds for the metrics), next
to nothing with none.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CacheLookups:
    """Lookups in one of the process's caches: `hits` found, `misses` not."""

    cache: str
    hits: int
    misses: int


@dataclass(frozen=True)
class ObjectRead:
    """One read call to the object store (`requests` requests, in flight together, which
    brought `size` bytes in `seconds`); `kind` says what for: tiles, index, stream or info."""

    kind: str
    requests: int
    size: int
    seconds: float


@dataclass(frozen=True)
class Rendered:
    """An image body of `media_type` produced (pixels decoded, drawn, encoded) in `seconds`."""

    media_type: str
    seconds: float


@dataclass(frozen=True)
class Statement:
    """One database statement, executed in `seconds`; `kind` is its first keyword."""

    kind: str
    seconds: float


Event = CacheLookups | ObjectRead | Rendered | Statement


class Listener(Protocol):
    """Whoever wants to hear the events."""

    def heard(self, event: Event) -> None: ...


_LISTENERS: tuple[weakref.ref[Listener], ...] = ()
"""Replaced whole under `_LOCK`, read without it: reporting takes no lock."""
_LOCK = threading.Lock()


def listen(listener: Listener) -> None:
    """Tell `listener` every event from now on, while it lives (the listeners gone are
    dropped here)."""
    global _LISTENERS
    with _LOCK:
        living = tuple(reference for reference in _LISTENERS if reference() is not None)
        _LISTENERS = (*living, weakref.ref(listener))


def tell(event: Event) -> None:
    """Hand `event` to every listener."""
    for reference in _LISTENERS:
        if (listener := reference()) is not None:
            listener.heard(event)


def lookups(cache: str, hits: int, misses: int) -> None:
    """Report lookups in `cache`."""
    tell(CacheLookups(cache, hits, misses))


@contextmanager
def rendering(media_type: str) -> Iterator[None]:
    """Report the time the block takes to produce a body of `media_type`, if it does (a render
    that fails is not one)."""
    started = time.perf_counter()
    yield
    tell(Rendered(media_type, time.perf_counter() - started))
