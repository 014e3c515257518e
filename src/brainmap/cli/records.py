"""``brainmap import``: Allen API records from files into a store.

Exit codes: 0 done, 1 a file could not be imported (nothing was written), 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brainmap.cli.options import new_store_option


@click.command("import")
@new_store_option
@click.option("--model", help="Model of the records (default: from the file and record shape).")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_command(store_dir: Path, model: str | None, paths: tuple[Path, ...]) -> None:
    """Load Allen API records (RMA JSON, XML or CSV; structure_graph_download JSON) from
    PATHS into a store, keeping ids and unknown fields; re-importing updates. All or nothing."""
    from brainmap.ingest.record_files import RecordFileError
    from brainmap.ingest.records import import_files
    from brainmap.store.folder import Store

    store = Store.create(store_dir)
    try:
        count = import_files(store, paths, model)
    except RecordFileError as error:
        click.echo(f"brainmap: {error} (nothing was imported)", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"{count} records from {len(paths)} files in {store_dir}")
