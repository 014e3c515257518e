"""A private event loop on a daemon thread, so synchronous code can drive async code.

This is zarr-python's pattern: blocking callers (scripts, Jupyter cells, where a loop may already
be running on the calling thread) submit coroutines to one background loop with
`asyncio.run_coroutine_threadsafe` and wait for the result. Objects bound to a loop (aiohttp
sessions) are created on that loop and stay there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared background loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="brainmap-io", daemon=True)
            thread.start()
            _loop, _thread = loop, thread
        return _loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on the background loop and block until it finishes.

    Safe to call from any thread, including one whose own loop is running (Jupyter). Calling it
    from the background loop's own thread would deadlock, so that raises RuntimeError.
    """
    loop = background_loop()
    if threading.current_thread() is _thread:
        coroutine.close()
        raise RuntimeError("brainmap's sync API cannot be called from its own I/O thread")
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()
