"""Options and exit codes shared by the ``brainmap`` subcommands.

Exit codes: 0 ok, 1 some files or records failed, 2 usage or a bad value, 3 API or server error,
4 incomplete result, 5 nothing matched the ids given, 6 the server reported an error in a query,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

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


def store_options(store_help: str) -> Callable[[F], F]:
    """``--store DIR`` (required, described by `store_help`), ``--db URL`` and ``--pixels URL``,
    given to the command as one `StoreLocation` argument named ``store``."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_store(
            *args: Any, store_dir: Path, db_url: str | None, pixels: str | None, **kwargs: Any
        ) -> Any:
            from brainmap.store.location import StoreLocation

            return command(*args, store=StoreLocation(store_dir, db_url, pixels), **kwargs)

        options = (
            folder_option("--store", "store_dir", store_help, required=True),
            click.option("--db", "db_url", metavar="URL", help=DB_HELP),
            click.option("--pixels", "pixels", metavar="URL", help=PIXELS_HELP),
        )
        for option in reversed(options):
            with_store = option(with_store)
        return cast(F, with_store)

    return decorate


DB_HELP = "Database of the records (any SQLAlchemy URL), instead of the folder's SQLite file."
PIXELS_HELP = (
    "Pixel root: a folder or an fsspec URL (s3://bucket/prefix; endpoint and keys from the "
    "AWS_* environment variables), instead of the store folder."
)
new_store_option = store_options("Store folder (created when missing).")
"""``--store DIR`` (+ ``--db``, ``--pixels``) for the commands that write into a store,
creating it when missing."""


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
