"""Progress of a bulk download: a rich bar (files, rate, bytes, ETA), a callback, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


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


class _Rate(ProgressColumn):
    """Files per second and megabytes fetched."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        rate = f"{speed:6.1f} files/s" if speed else "    -- files/s"
        megabytes = task.fields.get("bytes", 0) / 1e6
        return Text(f"{rate}  {megabytes:8.1f} MB", style="progress.data.speed")


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
        self._bar: Progress | None = None
        if not quiet:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                _Rate(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(label, total=total, completed=done, bytes=0)
        self._emit(None)

    def update(self, path: str, size: int, ok: bool) -> None:
        """One file finished: fetched and verified (`ok`) or failed."""
        self.done += 1
        self.bytes += size
        self.failed += 0 if ok else 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, bytes=self.bytes)
        self._emit(path)

    def close(self) -> None:
        """Stop the bar (leaving its final line)."""
        if self._bar is not None:
            self._bar.stop()

    def _emit(self, path: str | None) -> None:
        if self.callback is not None:
            self.callback(ProgressEvent(self.done, self.total, self.failed, self.bytes, path))
