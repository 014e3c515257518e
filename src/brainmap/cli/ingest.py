"""``brainmap ingest``: a lab's own images into a store.

Everything is checked before anything is written; a failure is one line on stderr and an exit
code: 1 an input file cannot be ingested, 2 a bad option value, 5 an id that matches nothing,
130 interrupted (a rerun resumes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import new_store_option, user_errors
from brainmap.cli.serve import serve
from brainmap.cli.store_steps import EXIT_BAD_VALUE, fail, progress_steps, refuse
from brainmap.errors import BrainmapError

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation


def _window(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter("six integers rl,ru,gl,gu,bl,bu", param_hint="--range") from None


@contextmanager
def _progress(count: int) -> Iterator[tuple[Callable[[Path], None], Callable[[Path], None]]]:
    """A progress bar over checking then writing `count` images: (on checked, on written);
    each stops the work when Ctrl-C was pressed since the last step."""
    with progress_steps(2 * count, "checking") as step:
        yield (lambda path: step(f"checked {path.name}")), (lambda path: step(f"wrote {path.name}"))


def _viewer_url(image_id: int) -> str:
    """The viewer's link to an image, at the address `brainmap serve` listens on by default."""
    defaults = {param.name: param.default for param in serve.params}
    return f"http://{defaults['host']}:{defaults['port']}/#image={image_id}"


def _id_range(ids: list[int]) -> str:
    if not ids:
        return "all were ingested before"
    return f"id {ids[0]}" if len(ids) == 1 else f"ids {ids[0]}-{ids[-1]}"


@click.command()
@new_store_option
@click.argument("images", nargs=-1, required=True, type=Path)
@click.option(
    "--data-set", "data_set_id", type=click.IntRange(min=1), required=True, help="Data set id."
)
@click.option("--expression", multiple=True, type=Path, help="Expression mask, one per image.")
@click.option("--projection", multiple=True, type=Path, help="Projection mask, one per image.")
@click.option("--labels", multiple=True, type=Path, help="Label map (structure ids), per image.")
@click.option("--structures", type=Path, help="CSV: id,acronym,name,parent_structure_id,...")
@click.option(
    "--range", "window", help="Equalization rl,ru,gl,gu,bl,bu (default: from >8-bit data)."
)
@click.option("--resolution", type=float, help="Pixel size in µm (SectionImage.resolution).")
@click.option("--plane", help="Plane of section: coronal, sagittal, horizontal, ... or an id.")
@click.option(
    "--product", help='Product id or name listing the data set (default "lab", made once).'
)
def ingest(
    store: StoreLocation,
    images: tuple[Path, ...],
    data_set_id: int,
    expression: tuple[Path, ...],
    projection: tuple[Path, ...],
    labels: tuple[Path, ...],
    structures: Path | None,
    window: str | None,
    resolution: float | None,
    plane: str | None,
    product: str | None,
) -> None:
    """Add IMAGES (TIFF, BigTIFF, OME-TIFF, PNG, JPEG, slide-scanner files) to a store as one
    SectionDataSet. Every file is decoded and checked in full before anything is written."""
    from brainmap.ingest.errors import IngestError
    from brainmap.ingest.images import ingest_checked
    from brainmap.ingest.plan import Inputs, Options, plan
    from brainmap.service import EXPRESSION_MASK, PROJECTION_MASK

    inputs = Inputs(
        images, {EXPRESSION_MASK: expression, PROJECTION_MASK: projection}, labels, structures
    )
    options = Options(data_set_id, _window(window), resolution, plane, product)
    try:
        existing = store.existing()
    except BrainmapError as error:
        fail(str(error), EXIT_BAD_VALUE)
    opened = existing
    try:
        with user_errors(), _progress(len(images)) as (checked, written):
            ready = plan(existing, inputs, options, checked)
            try:
                opened = existing or store.create()
            except BrainmapError as error:  # NotAStore: one that cannot be made, say
                fail(str(error), EXIT_BAD_VALUE)
            result = ingest_checked(opened, ready, written)
    except IngestError as error:
        refuse(error)
    finally:
        if opened is not None:
            opened.close()
    click.echo(
        f"data set {result.data_set_id}: {len(result.image_ids)} new section images "
        f"({_id_range(result.image_ids)}), listed under product {result.product_id} "
        f'"{result.product_name}", in {store}'
    )
    if result.image_ids:
        click.echo(
            f"view them: brainmap serve {store.options()}  then open "
            f"{_viewer_url(result.image_ids[0])}"
        )
