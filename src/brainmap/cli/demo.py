"""``brainmap demo`` (the main job) and ``brainmap demo-store``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from brainmap.cli.options import DB_HELP, PIXELS_HELP, folder_option
from brainmap.cli.store_steps import EXIT_BAD_VALUE, fail

DEFAULT_STORE = Path("demo-store")
DEFAULT_OUTPUT = Path("demo-output")


@click.command("demo-store")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--db", "db_url", metavar="URL", help=DB_HELP)
@click.option("--pixels", metavar="URL", help=PIXELS_HELP)
def demo_store(directory: Path, db_url: str | None, pixels: str | None) -> None:
    """Build the synthetic demo store in DIRECTORY (skipped when already complete). With --db
    or --pixels it is built in a temporary folder, then copied there (`brainmap store copy`:
    resumable, verified), DIRECTORY keeping what the store keeps in its folder."""
    from brainmap.cli.store_copy import copy_between
    from brainmap.demo.phantom import build_demo_store
    from brainmap.store.folder import NotAStore
    from brainmap.store.location import StoreLocation

    target = StoreLocation(directory, db_url, pixels)
    try:
        if db_url is None and pixels is None:
            build_demo_store(directory, progress=click.echo).close()
            click.echo(f"demo store ready in {directory}")
            return
        target.create().close()  # a target that cannot be made is refused before the build
    except NotAStore as error:
        fail(str(error), EXIT_BAD_VALUE)
    with tempfile.TemporaryDirectory(prefix="brainmap-demo-") as scratch:
        built = Path(scratch, "demo-store")
        build_demo_store(built, progress=click.echo).close()
        copy_between(StoreLocation(built), target)
    click.echo(f"demo store ready in {target}")


@click.command()
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
    from brainmap.demo.job import run_demo

    run_demo(store_dir, out_dir)
