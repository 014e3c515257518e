"""The ``brainmap`` command: thin glue over the modules that do the work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_STORE = Path("demo-store")
DEFAULT_OUTPUT = Path("demo-output")


def folder_option(flag: str, dest: str, help_text: str, **extra: object) -> Callable[[F], F]:
    """A ``--flag DIR`` option giving a Path."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option(flag, dest, type=folder, help=help_text, **extra)  # type: ignore[arg-type]


@click.group()
@click.version_option(package_name="brainmap")
def main() -> None:
    """Allen Brain Map image API: a drop-in client and a self-hosted server."""


@main.command()
@folder_option("--store", "store_dir", "Store folder (brainmap.sqlite + pyramids/).", required=True)
@click.option("--db", "db_url", default=None, help="SQLAlchemy URL overriding the store's SQLite.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
def serve(store_dir: Path, db_url: str | None, host: str, port: int) -> None:
    """Serve the Allen-compatible API from a store until interrupted."""
    import uvicorn

    from brainmap.server.app import create_app
    from brainmap.server.background import MAX_REQUEST_HEAD
    from brainmap.store.folder import Store

    try:
        store = Store.open(store_dir, db_url)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"brainmap: serving {store_dir} on http://{host}:{port}/api/v2/")
    uvicorn.run(
        create_app(store),
        host=host,
        port=port,
        log_level="info",
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
    )


@main.command("demo-store")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo_store(directory: Path) -> None:
    """Build the synthetic demo store in DIRECTORY (skipped when already complete)."""
    from brainmap.ingest.phantom import build_demo_store

    build_demo_store(directory, progress=click.echo)
    click.echo(f"demo store ready in {directory}")


@main.command()
@folder_option(
    "--store",
    "store_dir",
    "Where the demo store lives (built when missing).",
    default=DEFAULT_STORE,
    show_default=True,
)
@folder_option(
    "--out",
    "out_dir",
    "Where downloaded files and the contact sheet go.",
    default=DEFAULT_OUTPUT,
    show_default=True,
)
def demo(store_dir: Path, out_dir: Path) -> None:
    """The main job: demo store, local server, client workflows, files written, summary."""
    from brainmap.demo import run_demo

    run_demo(store_dir, out_dir)
