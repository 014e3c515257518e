"""``brainmap import``: Allen API records from files into a store.

Every file is read and checked before the store is opened; then all records are written in one
transaction. Exit codes: 0 done, 1 a file or record could not be imported (nothing was written),
2 bad usage (an unknown ``--model``, a missing file, a store that cannot be opened).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import new_store_option

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation


def _known_model(_context: click.Context, _param: click.Parameter, name: str | None) -> str | None:
    from brainmap.store.schema import model_classes

    if name is not None and name not in model_classes():
        raise click.BadParameter(f"no model {name!r}; for example SectionDataSet or SectionImage")
    return name


@click.command("import")
@new_store_option
@click.option(
    "--model",
    callback=_known_model,
    help="Model of the records (default: from the file and record shape).",
)
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_command(store: StoreLocation, model: str | None, paths: tuple[Path, ...]) -> None:
    """Load Allen API records from PATHS into a store, keeping ids and unknown fields;
    re-importing updates. Reads RMA JSON (the envelope, a bare list or record), XML (the
    Response envelope or one bare record), RMA CSV and structure_graph_download JSON.
    All or nothing: a file without records, or a bad record, imports nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    from brainmap.errors import BrainmapError
    from brainmap.ingest.record_files import RecordFileError
    from brainmap.ingest.records import read_files, write_files

    try:
        files = read_files(paths, model)
        try:
            # An existing database is opened as it is: no pyramids folder added to a non-store.
            opened = store.existing() or store.create()
        except (OSError, SQLAlchemyError, BrainmapError) as error:
            message = f"cannot open a store there: {error}".splitlines()[0]
            raise click.BadParameter(message, param_hint="--store") from None
        try:
            count = write_files(opened, files)
        finally:
            opened.close()
    except RecordFileError as error:
        click.echo(f"brainmap: {error} (nothing was imported)", err=True)
        sys.exit(1)
    click.echo(f"{count} records from {len(paths)} files in {store}")
