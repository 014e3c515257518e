"""``brainmap store copy``: a whole store copied into another database and pixel root
(`brainmap.store.copy`), resumable and verified.

Exit codes: 0 copied and verified, 1 a file or table that did not copy or verify (one line
each; run again once the cause is fixed), 2 a bad option, a source that is not a store or a
destination that is another store (nothing written), 130 interrupted (run again to resume).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import folder_option, store_options, user_errors
from brainmap.cli.store_steps import EXIT_BAD_INPUT, EXIT_BAD_VALUE, ctrl_c_between_steps, fail

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress as Bars

    from brainmap.store.copy_report import CopyReport
    from brainmap.store.folder import Store
    from brainmap.store.location import StoreLocation


@click.command("copy")
@store_options("Folder of the store to copy (nothing in it is written).")
@folder_option(
    "--to-store",
    "to_store",
    "Folder of the copy: its SQLite file unless --to-db is given, and files on their way to "
    "--to-pixels (created when missing).",
)
@click.option("--to-db", metavar="URL", help="Database of the copy (any SQLAlchemy URL).")
@click.option(
    "--to-pixels",
    metavar="URL",
    help="Pixel root of the copy: a folder or an fsspec URL such as s3://bucket/prefix "
    "(default: the --to-store folder).",
)
def copy(
    store: StoreLocation, to_store: Path | None, to_db: str | None, to_pixels: str | None
) -> None:
    """Copy a whole store: every record, with its id, and every pixel file the records name.

    The copy must be an empty store (made here when missing) or an earlier copy of the same
    store that stopped before its end: run the same command again after Ctrl-C or a failure
    and it goes on, skipping the files the copy holds with the same size and SHA-256. At the
    end every table's row count and digest are compared; each mismatch is one line, exit 1.
    """
    from brainmap.store.location import StoreLocation

    if to_store is None and to_db is None:
        fail("give --to-store DIR or --to-db URL: where the copy goes", EXIT_BAD_VALUE)
    if to_store is None and to_pixels is None:
        fail("give --to-pixels URL or --to-store DIR: where the copy's pixels go", EXIT_BAD_VALUE)
    with tempfile.TemporaryDirectory() as scratch:
        copy_between(store, StoreLocation(to_store or Path(scratch), to_db, to_pixels))


def copy_between(store: StoreLocation, target: StoreLocation) -> None:
    """Copy `store` into `target` with progress bars, then the summary; exits 1 when anything
    did not copy or verify, 2 when either store cannot be used, 130 on Ctrl-C."""
    from brainmap.store.copy import DestinationRefused, copy_store
    from brainmap.store.database_check import NotAStore

    with ExitStack() as stack:
        try:
            source = stack.enter_context(_closing(store.open))
            destination = stack.enter_context(_closing(target.create))
        except NotAStore as error:
            fail(str(error), EXIT_BAD_VALUE)
        with user_errors(), _bars() as progress:
            try:
                report = copy_store(source, destination, progress)
            except DestinationRefused as error:
                fail(f"{target}: {error}", EXIT_BAD_VALUE)
    _summary(report, store, target)
    for problem in report.problems:
        click.echo(f"brainmap: {problem}", err=True)
    if report.problems:
        fail(f"{len(report.problems)} problems; fix them and run again", EXIT_BAD_INPUT)


@contextmanager
def _closing(opened: Callable[[], Store]) -> Iterator[Store]:
    store = opened()
    try:
        yield store
    finally:
        store.close()


class _Bars:
    """Progress bars of a copy: rows by table, then files; Ctrl-C acted on between steps."""

    def __init__(self, bars: Bars, check: Callable[[], None]) -> None:
        self._bars = bars
        self._check = check
        self._rows = bars.add_task("records", total=None)
        self._files = bars.add_task("files", total=None, visible=False)
        self._bytes = 0

    def table(self, name: str, rows: int) -> None:
        self._bars.update(self._rows, advance=rows, description=f"records: {name}")
        self._check()

    def files(self, count: int) -> None:
        self._bars.update(self._rows, description="records", total=1, completed=1)
        self._bars.update(self._files, total=count, visible=True)

    def file(self, name: str, size: int) -> None:
        self._bytes += size
        described = f"files ({_size(self._bytes)})"
        self._bars.update(self._files, advance=1, description=described)
        self._check()


@contextmanager
def _bars() -> Iterator[_Bars]:
    from rich.progress import Progress

    with ctrl_c_between_steps() as check, Progress(transient=True) as bars:
        yield _Bars(bars, check)


def _summary(report: CopyReport, source: StoreLocation, target: StoreLocation) -> None:
    """Records by table, files and bytes copied and skipped, what was verified."""
    click.echo(f"brainmap: copied {source} into {target}")
    for table, copied in report.copied_rows.items():
        present = report.present_rows[table]
        if copied or present:
            click.echo(f"  {table}: {copied} rows copied, {present} already there")
    click.echo(
        f"  files: {report.files_copied} copied ({_size(report.bytes_copied)}), "
        f"{report.files_skipped} already there ({_size(report.bytes_skipped)})"
    )
    verdict = "verified" if not report.problems else "NOT verified"
    click.echo(f"  {verdict}: rows (count and digest of each table), files (size and SHA-256)")


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB"
