"""A private event loop on a daemon thread, so synchronous code can drive async code.

This is zarr-python's pattern: blocking callers (scripts, Jupyter cells, where a loop may already
be running on the calling thread) submit coroutines to one background loop with
`asyncio.run_coroutine_threadsafe` and wait for the result. Objects bound to a loop (aiohttp
sessions) are created on that loop and stay there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

CANCEL_GRACE = 10.0
"""Seconds an interrupted call waits for its coroutine to unwind."""

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
    from the background loop's own thread would deadlock, so that raises RuntimeError. When the
    wait is interrupted (Ctrl-C raises KeyboardInterrupt here), the coroutine is cancelled and
    given up to `CANCEL_GRACE` seconds to unwind (its ``finally`` blocks run, nothing is left
    pending), then the interruption goes on.
    """
    loop = background_loop()
    if threading.current_thread() is _thread:
        coroutine.close()
        raise RuntimeError("brainmap's sync API cannot be called from its own I/O thread")
    outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
    tasks: list[asyncio.Task[T]] = []

    def start() -> None:
        task = loop.create_task(coroutine)
        task.add_done_callback(functools.partial(_copy_outcome, outcome))
        tasks.append(task)

    loop.call_soon_threadsafe(start)
    try:
        return outcome.result()
    except BaseException:
        if not outcome.done():  # interrupted while waiting: end the coroutine too
            loop.call_soon_threadsafe(_cancel, tasks)
            with contextlib.suppress(BaseException):
                outcome.exception(timeout=CANCEL_GRACE)
        raise


def run_or_schedule(coroutine: Coroutine[Any, Any, None]) -> None:
    """`run` `coroutine`, or on the I/O thread itself (a finalizer may run there) start it as a
    task of the loop instead."""
    if threading.current_thread() is _thread:
        background_loop().create_task(coroutine)
    else:
        run(coroutine)


def _cancel(tasks: list[asyncio.Task[T]]) -> None:
    for task in tasks:
        task.cancel()


def _copy_outcome(outcome: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if task.cancelled():
        outcome.cancel()
    elif (error := task.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(task.result())
