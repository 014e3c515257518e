"""What the commands writing into a local store share (``ingest``, ``reference``): Ctrl-C acted
on between steps, and refusals as one line with their exit code."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from brainmap.cli.options import EXIT_NOT_FOUND

if TYPE_CHECKING:
    from brainmap.ingest.errors import IngestError

EXIT_BAD_INPUT = 1
EXIT_BAD_VALUE = 2


def fail(message: str, code: int) -> NoReturn:
    """One line on stderr, then exit with `code`."""
    click.echo(f"brainmap: {message}", err=True)
    sys.exit(code)


def refuse(error: IngestError) -> NoReturn:
    """Exit on a refused input: 5 for an id that matches nothing, 2 for a bad option, else 1."""
    from brainmap.ingest.errors import IngestNotFound, IngestUsageError

    if isinstance(error, IngestNotFound):
        code = EXIT_NOT_FOUND
    elif isinstance(error, IngestUsageError):
        code = EXIT_BAD_VALUE
    else:
        code = EXIT_BAD_INPUT
    fail(f"{error} (nothing was written)", code)


@contextmanager
def ctrl_c_between_steps() -> Iterator[Callable[[], None]]:
    """Ctrl-C is noted, then acted on at the next step (a check that raises
    KeyboardInterrupt): raised at once, it can land in one of libvips' callbacks, where it is
    printed and lost. A second Ctrl-C acts at once."""
    pressed: list[int] = []

    def note(signal_number: int, _frame: object) -> None:
        pressed.append(signal_number)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, note)

    def check() -> None:
        if pressed:
            raise KeyboardInterrupt

    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def progress_steps(total: int, what: str) -> Iterator[Callable[[str], None]]:
    """A progress bar of `total` steps; the callback advances it and stops the work when
    Ctrl-C was pressed since the last step."""
    from rich.progress import Progress

    with ctrl_c_between_steps() as stop_if_pressed, Progress() as progress:
        task = progress.add_task(what, total=total or None)

        def step(description: str) -> None:
            progress.update(task, advance=1, description=description)
            stop_if_pressed()

        yield step
