"""Options shared by the ``brainmap`` subcommands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def folder_option(flag: str, dest: str, help_text: str, **extra: object) -> Callable[[F], F]:
    """A ``--flag DIR`` option giving a Path."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option(flag, dest, type=folder, help=help_text, **extra)  # type: ignore[arg-type]


new_store_option = folder_option(
    "--store", "store_dir", "Store folder (created when missing).", required=True
)
"""``--store DIR`` for the commands that write into a store, creating it when missing."""
