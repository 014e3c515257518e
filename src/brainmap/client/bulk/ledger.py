"""Bulk outcomes reach the manifest in batches: the batch's files are made durable first, then
their rows change in one transaction, and only then are they reported done.

A killed run therefore never leaves a verified row ahead of its file on disk, and the files it
had written but not yet recorded are simply fetched again on resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

BATCH_FILES = 64
"""Outcomes that start a commit without waiting for the interval."""

BATCH_SECONDS = 0.25
"""Longest wait before pending outcomes are committed."""


class Ledger(Generic[T]):
    """Collects items with `add` and hands them, a batch at a time, to `commit` (on a worker
    thread, one batch at a time), then each to `report` (on the event loop). Use as an async
    context manager; leaving it commits what is pending, also after an error."""

    def __init__(
        self,
        commit: Callable[[list[T]], None],
        report: Callable[[T], None],
        *,
        size: int = BATCH_FILES,
        interval: float = BATCH_SECONDS,
    ) -> None:
        self.commit = commit
        self.report = report
        self.size = size
        self.interval = interval
        self._pending: list[T] = []
        self._full = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ledger[T]:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._full.set()
        if self._task is not None:
            await self._task

    def add(self, item: T) -> None:
        """Queue `item` for the next commit."""
        self._pending.append(item)
        if len(self._pending) >= self.size:
            self._full.set()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            self._full.clear()
            await self._flush()
        await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            await asyncio.to_thread(self.commit, batch)
            for item in batch:
                self.report(item)
