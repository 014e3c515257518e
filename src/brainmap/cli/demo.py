"""``brainmap demo`` (the main job) and ``brainmap demo-store``."""

from __future__ import annotations

from pathlib import Path

import click

from brainmap.cli.options import folder_option

DEFAULT_STORE = Path("demo-store")
DEFAULT_OUTPUT = Path("demo-output")


@click.command("demo-store")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo_store(directory: Path) -> None:
    """Build the synthetic demo store in DIRECTORY (skipped when already complete)."""
    from brainmap.demo.phantom import build_demo_store

    build_demo_store(directory, progress=click.echo)
    click.echo(f"demo store ready in {directory}")


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
