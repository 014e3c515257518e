"""``brainmap ingest``: a lab's own images into a store."""

from __future__ import annotations

from pathlib import Path

import click

from brainmap.cli.options import new_store_option


@click.command()
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
    try:
        with Progress() as progress:
            task = progress.add_task("ingesting", total=len(images))
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
    finally:
        store.close()
    click.echo(f"data set {data_set_id}: {len(ids)} new section images in {store_dir}")
