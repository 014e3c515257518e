"""``brainmap serve``: the Allen-compatible API over a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brainmap.cli.options import folder_option


@click.command()
@folder_option("--store", "store_dir", "Store folder (brainmap.sqlite + pyramids/).", required=True)
@click.option("--db", "db_url", default=None, help="SQLAlchemy URL overriding the store's SQLite.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes (each opens the store; one per CPU renders images in parallel).",
)
def serve(store_dir: Path, db_url: str | None, host: str, port: int, workers: int) -> None:
    """Serve the Allen-compatible API from a store until interrupted."""
    import os

    import uvicorn

    from brainmap.server.app import DB_URL_ENV, STORE_ENV, configure_process, create_app
    from brainmap.server.http_protocol import BoundedTargetProtocol
    from brainmap.store.folder import Store

    try:
        store = Store.open(store_dir, db_url)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"brainmap: serving {store_dir} on http://{host}:{port}/api/v2/ "
        f"(IIIF under /iiif/3/, web viewer at http://{host}:{port}/)"
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "http": BoundedTargetProtocol,
    }
    if workers == 1:
        configure_process()
        uvicorn.run(create_app(store), **options)
        return
    # Python work of concurrent renders is serialised by the GIL within a process; several
    # processes share the listening socket, and each opens the store itself (SQLite WAL
    # allows concurrent readers across processes).
    store.close()
    os.environ[STORE_ENV] = str(store_dir.resolve())
    if db_url is not None:
        os.environ[DB_URL_ENV] = db_url
    uvicorn.run(
        "brainmap.server.app:app_from_environment", factory=True, workers=workers, **options
    )
