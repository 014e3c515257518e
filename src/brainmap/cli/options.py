"""Options and exit codes shared by the ``brainmap`` subcommands.

Exit codes: 0 ok, 1 some files or records failed, 2 usage or a bad value, 3 API or server error,
4 incomplete result, 5 nothing matched the ids given, 6 the server reported an error in a query,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from brainmap.client.extras import MissingExtra
from brainmap.client.paging import IncompleteResult
from brainmap.errors import ApiError, BadParameter, NotFound, QueryFailed

F = TypeVar("F", bound=Callable[..., Any])

EXIT_API = 3
EXIT_INCOMPLETE = 4
EXIT_NOT_FOUND = 5
EXIT_QUERY = 6
EXIT_INTERRUPTED = 130


def folder_option(flag: str, dest: str, help_text: str, **extra: object) -> Callable[[F], F]:
    """A ``--flag DIR`` option giving a Path."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option(flag, dest, type=folder, help=help_text, **extra)  # type: ignore[arg-type]


new_store_option = folder_option(
    "--store", "store_dir", "Store folder (created when missing).", required=True
)
"""``--store DIR`` for the commands that write into a store, creating it when missing."""


class user_errors:
    """Turn API errors, the user's mistakes (bad values, unknown ids, a missing extra) and
    Ctrl-C into one line on stderr and an exit code; anything else is a bug and keeps its
    traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        if isinstance(error, (BadParameter, MissingExtra)):
            raise click.UsageError(str(error)) from error
        for caught, code in _EXIT_CODES:
            if isinstance(error, caught):
                click.echo(f"brainmap: {_message(error)}", err=True)
                sys.exit(code)


def _message(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted; run the same command again to resume"
    return str(error)


_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (KeyboardInterrupt, EXIT_INTERRUPTED),
    (NotFound, EXIT_NOT_FOUND),
    (QueryFailed, EXIT_QUERY),
    (IncompleteResult, EXIT_INCOMPLETE),
    (ApiError, EXIT_API),
)
"""Exit code by error, the first that matches (subclasses before their base)."""
