"""The ``brainmap`` command: thin glue over the modules that do the work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brainmap.cli_options import folder_option, new_store_option

DEFAULT_STORE = Path("demo-store")
DEFAULT_OUTPUT = Path("demo-output")


@click.group()
@click.version_option(package_name="brainmap")
def main() -> None:
    """Allen Brain Map image API: a drop-in client and a self-hosted server."""


@main.command()
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


@main.command()
@new_store_option
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data-set", "data_set_id", type=int, required=True, help="SectionDataSet id.")
@click.option("--expression", multiple=True, type=Path, help="Expression mask, one per image.")
@click.option("--projection", multiple=True, type=Path, help="Projection mask, one per image.")
@click.option("--labels", multiple=True, type=Path, help="Label map (structure ids), per image.")
@click.option("--structures", type=Path, help="CSV: id,acronym,name,parent_structure_id,...")
@click.option("--range", "window", help="Equalization rl,ru,gl,gu,bl,bu (default: from data).")
def ingest(
    store_dir: Path,
    images: tuple[Path, ...],
    data_set_id: int,
    expression: tuple[Path, ...],
    projection: tuple[Path, ...],
    labels: tuple[Path, ...],
    structures: Path | None,
    window: str | None,
) -> None:
    """Add IMAGES (TIFF, BigTIFF, OME-TIFF, PNG, JPEG) to a store as one SectionDataSet."""
    from rich.progress import Progress

    from brainmap.ingest.images import IngestError, ingest_images
    from brainmap.store.folder import Store

    try:
        bounds = tuple(int(v) for v in window.split(",")) if window else None
    except ValueError:
        raise click.BadParameter("six integers rl,ru,gl,gu,bl,bu", param_hint="--range") from None
    store = Store.create(store_dir)
    with Progress() as progress:
        task = progress.add_task("ingesting", total=len(images))
        try:
            ids = ingest_images(
                store,
                list(images),
                data_set_id=data_set_id,
                expression=expression,
                projection=projection,
                labels=labels,
                structures=structures,
                window=bounds,
                on_file=lambda _path: progress.advance(task),
            )
        except IngestError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"data set {data_set_id}: {len(ids)} new section images in {store_dir}")


from brainmap.cli_download import add_commands  # noqa: E402 - registers download and query

add_commands(main)
from brainmap.cli_store import add_commands as add_store_commands  # noqa: E402 - import, mirror

add_store_commands(main)
