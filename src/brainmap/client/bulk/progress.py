"""Progress of a bulk download: a rich bar, a callback, or nothing."""

from __future__ import annotations

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


class ProgressReporter:
    """What the bulk runner drives: `update` per file, `close` at the end.

    Shows a rich bar on stderr unless `quiet`; calls `callback` (notebooks, GUIs) either way.
    """

    def __init__(
        self,
        total: int,
        done: int,
        *,
        quiet: bool = False,
        callback: ProgressCallback | None = None,
        label: str = "download",
    ) -> None:
        self.total, self.done, self.failed, self.bytes = total, done, 0, 0
        self.callback = callback
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
            self._bar.advance(self.bytes)
        self._emit(path)

    def close(self) -> None:
        """Stop the bar (leaving its final line)."""
        if self._bar is not None:
            self._bar.stop()

    def _emit(self, path: str | None) -> None:
        if self.callback is not None:
            self.callback(ProgressEvent(self.done, self.total, self.failed, self.bytes, path))
