"""``brainmap serve``: the Allen-compatible API over a store."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from brainmap.cli.access import auth_summary
from brainmap.cli.options import store_options

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation

BAD_VALUE = 2
"""The exit code of a store that is not a store or an address that cannot be bound."""


@click.command()
@store_options("Store folder (brainmap.sqlite + pyramids/ unless --db, --pixels say otherwise).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65_535), help="TCP port."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes (each opens the store; one per CPU renders images in parallel).",
)
@click.option(
    "--access-log",
    "access_log",
    default="text",
    show_default=True,
    type=click.Choice(["json", "text", "off"]),
    help="One line a request on standard output: JSON, text, or none.",
)
@click.option(
    "--auth",
    is_flag=True,
    help="Without a read token (brainmap token add) only public data sets answer.",
)
def serve(
    store: StoreLocation,
    host: str,
    port: int,
    workers: int,
    access_log: str,
    auth: bool,
) -> None:
    """Serve the Allen-compatible API from a store until interrupted.

    The store is checked and the address bound before anything is announced; either failing
    is one line on stderr and exit code 2.
    """
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from brainmap.server.access_log import access_log_for
    from brainmap.server.app import (
        ACCESS_LOG_ENV,
        AUTH_ENV,
        DB_URL_ENV,
        PIXELS_ENV,
        STORE_ENV,
        configure_process,
        create_app,
    )
    from brainmap.server.background import CannotListen, listening_socket
    from brainmap.server.http_protocol import BoundedTargetProtocol
    from brainmap.server.metrics import NoMetricsFolder, check_metrics_folder
    from brainmap.store.folder import NotAStore

    try:
        check_metrics_folder()
        opened = store.open()
    except (NotAStore, NoMetricsFolder) as error:
        _refuse(error)
    try:
        listener = listening_socket(host, port)
    except CannotListen as error:
        opened.close()
        _refuse(error)
    where = f"[{host}]" if ":" in host else host
    click.echo(
        f"brainmap: serving {store} on http://{where}:{port}/api/v2/ "
        f"(IIIF under /iiif/3/, web viewer at http://{where}:{port}/)"
    )
    if auth:
        click.echo(f"brainmap: {auth_summary(opened)}")
    # brainmap's own access log (server/access_log.py) replaces uvicorn's
    options: dict[str, Any] = {
        "log_level": "info",
        "http": BoundedTargetProtocol,
        "access_log": False,
    }
    try:
        if workers == 1:
            configure_process()
            app = create_app(opened, access_log=access_log_for(access_log), auth=auth)
            config = uvicorn.Config(app, **options)
            uvicorn.Server(config).run(sockets=[listener])
            return
        # Python work of concurrent renders is serialised by the GIL within a process; several
        # processes share the listening socket, and each opens the store itself (SQLite WAL
        # allows concurrent readers across processes).
        opened.close()
        os.environ[STORE_ENV] = str(store.folder.resolve())
        os.environ[ACCESS_LOG_ENV] = access_log
        os.environ[AUTH_ENV] = "1" if auth else ""
        if store.db_url is not None:
            os.environ[DB_URL_ENV] = store.db_url
        if store.pixels is not None:
            os.environ[PIXELS_ENV] = store.pixels
        config = uvicorn.Config(
            "brainmap.server.app:app_from_environment", factory=True, workers=workers, **options
        )
        listener.set_inheritable(True)
        Multiprocess(config, sockets=[listener]).run()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a server is stopped


def _refuse(error: Exception) -> NoReturn:
    click.echo(f"brainmap: {error}", err=True)
    sys.exit(BAD_VALUE)
