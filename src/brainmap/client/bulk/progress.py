"""Progress of a bulk download: a rich bar, a callback, or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brainmap.client.bulk.progress_bar import ProgressBar


@dataclass(frozen=True)
class ProgressEvent:
    """Sent after each file: counts so far (`done` includes files skipped as already verified),
    bytes fetched in this run, and the file just finished (None for the initial event)."""

    done: int
    total: int
    failed: int
    bytes: int
    path: str | None


ProgressCallback = Callable[[ProgressEvent], None]


def files_per_second(finished: int, seconds: float) -> float | None:
    """The rate of a run: files it finished (fetched or failed; not those already there when
    it started) over the seconds since it started; None before it has one to show."""
    if finished <= 0 or seconds <= 0:
        return None
    return finished / seconds


class ProgressReporter:
    """What the bulk runner drives: `update` per file, `close` at the end.

    Shows a rich bar on stderr unless `quiet`; calls `callback` (notebooks, GUIs) either way.
    `clock` gives the seconds the rate is measured in.
    """

    def __init__(
        self,
        total: int,
        done: int,
        *,
        quiet: bool = False,
        callback: ProgressCallback | None = None,
        label: str = "download",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.done, self.failed, self.bytes = total, done, 0, 0
        self.already_there = done
        self.callback = callback
        self.clock = clock
        self.started = clock()
        self._bar: ProgressBar | None = None
        if not quiet:
            from brainmap.client.bulk.progress_bar import ProgressBar

            self._bar = ProgressBar(label, total, done)
        self._emit(None)

    def update(self, path: str, size: int, ok: bool) -> None:
        """One file finished: fetched and verified (`ok`) or failed."""
        self.done += 1
        self.bytes += size
        self.failed += 0 if ok else 1
        if self._bar is not None:
            self._bar.advance(self.bytes, self.rate())
        self._emit(path)

    def rate(self) -> float | None:
        """Files per second finished by this run (see `files_per_second`)."""
        return files_per_second(self.done - self.already_there, self.clock() - self.started)

    def close(self) -> None:
        """Stop the bar (leaving its final line)."""
        if self._bar is not None:
            self._bar.stop()

    def _emit(self, path: str | None) -> None:
        if self.callback is not None:
            self.callback(ProgressEvent(self.done, self.total, self.failed, self.bytes, path))
