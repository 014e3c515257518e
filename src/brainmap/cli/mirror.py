"""``brainmap mirror``: records and pictures of an Allen-compatible API into a store.

Exit codes: 0 done, 1 some pictures failed to download (rerun to resume), 2 bad usage or a
store that cannot be made or opened (nothing written), 3 the API failed, 5 the selection matched
nothing (no store created), 6 the server reported a query error, 130 interrupted (rerun to
resume).
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import new_store_option, user_errors
from brainmap.cli.store_steps import EXIT_BAD_VALUE, fail
from brainmap.client.bulk.destination import check_folder
from brainmap.errors import BrainmapError

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation


def _numbers(text: str, option: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("comma-separated integers", param_hint=option) from None


@click.command()
@click.option(
    "--from", "api_url", required=True, help="API base URL, e.g. http://api.brain-map.org."
)
@new_store_option
@click.option("--product", "products", multiple=True, type=int, help="Product id (repeatable).")
@click.option("--data-set", "data_sets", multiple=True, type=int, help="SectionDataSet id.")
@click.option("--gene", "genes", multiple=True, help="Gene id or acronym.")
@click.option("--plane", "planes", multiple=True, help="Plane of section id or name.")
@click.option("--atlas", "atlases", multiple=True, type=int, help="Atlas id: plates, annotation.")
@click.option(
    "--downsample",
    "downsample_text",
    default="4",
    show_default=True,
    help="Levels to copy, e.g. 2,4.",
)
@click.option("--concurrency", default=4, show_default=True, help="Downloads in flight.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def mirror(
    api_url: str,
    store: StoreLocation,
    products: tuple[int, ...],
    data_sets: tuple[int, ...],
    genes: tuple[str, ...],
    planes: tuple[str, ...],
    atlases: tuple[int, ...],
    downsample_text: str,
    concurrency: int,
    quiet: bool,
) -> None:
    """Copy records (through RMA) and pictures (through the download service, at each
    --downsample) of the selected data sets and atlases into a store. Rerun to resume."""
    from brainmap.mirror.metadata import Selection
    from brainmap.mirror.run import mirror as run_mirror
    from brainmap.store.folder import NotAStore

    downsamples = _numbers(downsample_text, "--downsample")
    selection = Selection(products, data_sets, genes, planes, atlases)
    if not downsamples or (selection.data_set_criteria() is None and not atlases):
        raise click.UsageError("give --downsample levels and at least one selector")
    try:
        with user_errors():
            check_folder(store.folder.absolute(), "store")
            report = asyncio.run(
                run_mirror(
                    api_url,
                    store,
                    selection,
                    downsamples,
                    concurrency=concurrency,
                    quiet=quiet,
                    say=(lambda _message: None) if quiet else click.echo,
                )
            )
    except NotAStore as error:
        fail(str(error), EXIT_BAD_VALUE)
    except BrainmapError as error:
        fail(str(error), 1)
    click.echo(
        f"{report.records} records; pictures: {report.fetched} fetched, "
        f"{report.skipped} already held, {len(report.failures)} failed"
    )
    for path, reason in report.failures.items():
        click.echo(f"failed: {path}: {reason}", err=True)
    if not report.ok:
        sys.exit(1)
