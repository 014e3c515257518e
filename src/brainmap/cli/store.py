"""``brainmap store``: commands on a whole store. ``upgrade`` brings a store made by an older
brainmap to this brainmap's schema revision, in place (docs/databases.md, "Schema changes").

Exit codes: 0 upgraded or already up to date, 2 not a store (or one made by a newer brainmap),
a backup already there, or an upgrade the database refused (nothing is changed then), 130
interrupted (nothing is changed then either).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import store_options, user_errors
from brainmap.cli.store_copy import copy
from brainmap.cli.store_steps import EXIT_BAD_VALUE, fail

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation

BACKUP_PAGES = 1024
"""SQLite pages copied between two updates of the backup's progress bar."""


@click.group("store")
def store() -> None:
    """Commands on a whole store: its database and its pixels."""


store.add_command(copy)


@store.command("upgrade")
@store_options("Store folder (brainmap.sqlite + pyramids/ unless --db, --pixels say otherwise).")
def upgrade(store: StoreLocation) -> None:
    """Upgrade the schema of a store made by an older brainmap to this brainmap's, in place and
    all at once. A SQLite database is first copied beside itself
    (``brainmap.sqlite.before-REVISION``). Run it once, before starting the servers of the
    store; a store already up to date is left as it is."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from brainmap.store import revisions
    from brainmap.store.database_check import (
        NotAStore,
        StoreOutdated,
        first_line,
        sqlite_file,
    )
    from brainmap.store.folder import DATABASE_FILE

    try:
        store.open().close()
    except StoreOutdated as error:
        outdated = error
    except NotAStore as error:
        fail(str(error), EXIT_BAD_VALUE)
    else:
        click.echo(f"brainmap: {store} is already up to date (revision {revisions.head()})")
        return
    url = make_url(store.db_url or f"sqlite:///{store.folder / DATABASE_FILE}")
    database = sqlite_file(url)
    backup = None if database is None else _backup(database, outdated.revision)
    try:
        with user_errors():
            revisions.upgrade(url, outdated.revision, outdated.recorded)
    except (DBAPIError, revisions.RevisionChanged, SystemExit) as error:
        if backup is not None:
            backup.unlink()
        if isinstance(error, SystemExit):
            raise
        reason = first_line(error.orig) if isinstance(error, DBAPIError) else str(error)
        fail(f"{outdated.database}: not upgraded, nothing changed ({reason})", EXIT_BAD_VALUE)
    kept = "" if backup is None else f"; as it was before: {backup}"
    click.echo(
        f"brainmap: upgraded {outdated.database} from revision {outdated.revision} "
        f"to {revisions.head()}{kept}"
    )


def _backup(database: Path, revision: str) -> Path:
    """A copy of the SQLite `database` beside it, ``<name>.before-<revision>``, made through
    SQLite (so that it holds what is still in the write-ahead log) with a progress bar; an
    existing copy is never replaced (exit 2)."""
    from rich.console import Console
    from rich.progress import Progress

    backup = database.with_name(f"{database.name}.before-{revision}")
    if backup.exists():
        fail(f"{backup} exists (from an earlier upgrade); move it away first", EXIT_BAD_VALUE)
    partial = backup.with_name(f"{backup.name}.partial")
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        with Progress(transient=True, console=Console(stderr=True)) as progress:
            task = progress.add_task(f"copying {database.name}", total=None)

            def copied(_status: int, remaining: int, total: int) -> None:
                progress.update(task, completed=total - remaining, total=total)

            with user_errors():
                source.backup(target, pages=BACKUP_PAGES, progress=copied)
    except BaseException:
        target.close()
        partial.unlink()
        raise
    finally:
        source.close()
    target.close()
    partial.replace(backup)
    return backup
