"""The rich progress bar of a bulk download (files, rate, bytes, ETA) on stderr; imported only
when a bar is shown."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    """Files per second of this run (`ProgressReporter.rate`) and megabytes fetched."""

    def render(self, task: Task) -> Text:
        speed = task.fields.get("rate")
        rate = f"{speed:6.1f} files/s" if speed else "    -- files/s"
        megabytes = task.fields.get("bytes", 0) / 1e6
        return Text(f"{rate}  {megabytes:8.1f} MB", style="progress.data.speed")


class _Remaining(ProgressColumn):
    """Time left at this run's rate."""

    def render(self, task: Task) -> Text:
        speed = task.fields.get("rate")
        left = task.remaining
        if not speed or left is None:
            return Text("-:--:--", style="progress.remaining")
        seconds = int(left / speed)
        text = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return Text(text, style="progress.remaining")


class ProgressBar:
    """A started bar for `total` files of which `done` are already there."""

    def __init__(self, label: str, total: int, done: int) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            _Rate(),
            TimeElapsedColumn(),
            _Remaining(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task: TaskID = self._progress.add_task(
            label, total=total, completed=done, bytes=0, rate=None
        )

    def advance(self, fetched_bytes: int, rate: float | None) -> None:
        """One more file finished; `fetched_bytes` fetched so far in all, at `rate` files per
        second."""
        self._progress.update(self._task, advance=1, bytes=fetched_bytes, rate=rate)

    def stop(self) -> None:
        """Stop refreshing, leaving the final line."""
        self._progress.stop()
