"""``brainmap reference``: reference volumes into a store, and atlases of plates cut from them.

Everything is checked before anything is written; a failure is one line on stderr and an exit
code: 1 an input file cannot be used, 2 a bad option value, 5 an id that matches nothing, 130
interrupted (the store is left as it was; a rerun of ``plates`` reuses the plates written).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brainmap.cli.options import new_store_option, store_options, user_errors
from brainmap.cli.store_steps import (
    EXIT_BAD_INPUT,
    EXIT_BAD_VALUE,
    fail,
    progress_steps,
    refuse,
)
from brainmap.errors import BrainmapError

if TYPE_CHECKING:
    from brainmap.store.location import StoreLocation

store_option = store_options("Store folder.")


def _resolution(text: str | None) -> float | tuple[float, ...] | None:
    """``25`` or ``25,25,50`` (p,i,r) µm."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(
            "µm per voxel: one number or three (p,i,r)", param_hint="--resolution"
        ) from None
    return values[0] if len(values) == 1 else values


@contextmanager
def _failures() -> Iterator[None]:
    """Refusals as one line and their exit code; Ctrl-C and API errors as `user_errors` says."""
    from brainmap.ingest.errors import IngestError
    from brainmap.reference.volume_files import VolumeFileError

    try:
        with user_errors():
            yield
    except IngestError as error:
        refuse(error)
    except VolumeFileError as error:
        fail(f"{error} (nothing was written)", EXIT_BAD_INPUT)


@click.group()
def reference() -> None:
    """Reference volumes (3-D annotation and template) and the plates cut from them."""


@reference.command()
@new_store_option
@click.option("--id", "space_id", type=click.IntRange(min=1), required=True, help="Its id.")
@click.option("--name", required=True, help='Its name, such as "P56 Brain".')
@click.option(
    "--annotation",
    type=Path,
    required=True,
    help="3-D label volume of structure ids: NRRD (.nrrd, .nhdr), NIfTI (.nii, .nii.gz), TIFF.",
)
@click.option("--template", type=Path, help="3-D intensity volume of the same shape.")
@click.option(
    "--structure-graph", "graph_id", type=click.IntRange(min=1), help="Ontology of the labels."
)
@click.option("--resolution", help="µm per voxel, one or p,i,r (default: the file's header).")
def add(
    store: StoreLocation,
    space_id: int,
    name: str,
    annotation: Path,
    template: Path | None,
    graph_id: int | None,
    resolution: str | None,
) -> None:
    """Add a reference space: its annotation volume (and template), checked in full, stored
    chunked in the store under reference/ID/."""
    from brainmap.ingest.reference_volume import (
        SpaceRequest,
        add_reference_space,
        plan_reference,
        slab_count,
    )

    request = SpaceRequest(space_id, name, annotation, template, graph_id, _resolution(resolution))
    steps = slab_count(request) + 2  # the slabs checked, the volume written, then recorded
    with (
        _open(store, create=False) as existing,
        _failures(),
        progress_steps(steps, "checking the volume") as step,
    ):
        checked = plan_reference(existing, request, lambda: step("checking the volume"))
        # Ctrl-C while zarr writes is acted on once it has written (interrupting it would
        # leave its writes in flight), then the new volume is removed.
        step("writing the chunked volume")
        with _open(store, create=True) if existing is None else nullcontext(existing) as opened:
            added = add_reference_space(opened, checked, lambda: step("written"))
    shape = " x ".join(str(n) for n in added.shape)
    size = ", ".join(f"{v:g}" for v in added.resolution_um)
    graph = f" of structure graph {added.structure_graph_id}" if added.structure_graph_id else ""
    click.echo(
        f"reference space {added.space_id}: {shape} voxels of {size} µm (p, i, r), "
        f"{added.labels} labels{graph}, in {store}: {added.path}"
    )


@contextmanager
def _open(store: StoreLocation, create: bool) -> Iterator[Any]:
    """The store (made when `create` and missing; None when not and missing), closed at the
    end."""
    try:
        opened = store.create() if create else store.existing()
    except BrainmapError as error:  # NotAStore: one that cannot be made, say
        fail(str(error), EXIT_BAD_VALUE)
    try:
        yield opened
    finally:
        if opened is not None:
            opened.close()


@reference.command()
@store_option
@click.option(
    "--reference-space", "space_id", type=click.IntRange(min=1), required=True, help="Its id."
)
@click.option("--atlas", "atlas_id", type=click.IntRange(min=1), required=True, help="New id.")
@click.option(
    "--plane", type=click.Choice(["coronal", "sagittal", "horizontal"]), default="coronal"
)
@click.option("--every", "every_um", type=float, required=True, help="µm between plates.")
@click.option(
    "--pixels-per-voxel", type=click.IntRange(1, 64), default=1, help="Plate pixels per voxel."
)
def plates(
    store: StoreLocation,
    space_id: int,
    atlas_id: int,
    plane: str,
    every_um: float,
    pixels_per_voxel: int,
) -> None:
    """Cut an atlas of annotated plates from a reference space's volume, one every EVERY µm
    along the plane's normal."""
    from brainmap.ingest.plates import PlateRequest, cut_plates, plan_plates, record_plates

    request = PlateRequest(space_id, atlas_id, plane, every_um, pixels_per_voxel)
    with _open(store, create=False) as opened, _failures():
        if opened is None:
            fail(f"{store}: no store here ({store.missing()})", EXIT_BAD_VALUE)
        plan = plan_plates(opened, request)
        with progress_steps(len(plan.indices), "cutting plates") as step:
            cut = cut_plates(opened, plan, lambda index: step(f"cut plate {index}"))
        result = record_plates(opened, plan, cut)
    first = f" (ids {result.image_ids[0]}-{result.image_ids[-1]})" if result.image_ids else ""
    click.echo(
        f"atlas {result.atlas_id}: {len(result.image_ids)} {plane} plates{first} in atlas data "
        f"set {result.data_set_id}, cut from reference space {space_id}, in {store}"
    )
