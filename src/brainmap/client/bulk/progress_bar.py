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
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    """Files per second and megabytes fetched."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        rate = f"{speed:6.1f} files/s" if speed else "    -- files/s"
        megabytes = task.fields.get("bytes", 0) / 1e6
        return Text(f"{rate}  {megabytes:8.1f} MB", style="progress.data.speed")


class ProgressBar:
    """A started bar for `total` files of which `done` are already there."""

    def __init__(self, label: str, total: int, done: int) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            _Rate(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task: TaskID = self._progress.add_task(label, total=total, completed=done, bytes=0)

    def advance(self, fetched_bytes: int) -> None:
        """One more file finished; `fetched_bytes` fetched so far in all."""
        self._progress.update(self._task, advance=1, bytes=fetched_bytes)

    def stop(self) -> None:
        """Stop refreshing, leaving the final line."""
        self._progress.stop()
