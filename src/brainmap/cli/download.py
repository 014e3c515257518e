"""``brainmap download ...`` and ``brainmap query``: the bulk client from the shell.

Exit codes: 0 done, 1 some files failed (the rest are in place; rerun to resume), 2 bad usage
(a bad parameter, an unwritable --out: nothing is written), 3 the server refused or could not
be reached, 4 a query's rows did not add up to total_rows, 5 no data set, atlas or image has the
id given, 6 the server reported an error in the query, 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import click

from brainmap.cli.options import user_errors
from brainmap.client import BulkReport, Client
from brainmap.client.bulk.engine import DEFAULT_CONCURRENCY
from brainmap.client.bulk.naming import AUTO
from brainmap.client.urls import DEFAULT_API_URL, SERVICES, Service
from brainmap.params import ImageRequest
from brainmap.service import VIEWS

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED_FILES = 1


def _numbers(text: str | None) -> list[float | int] | str | None:
    if text is None or text == AUTO:
        return text
    try:
        return [float(part) if "." in part else int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers") from None


def _image_option(name: str, annotation: str) -> Callable[[F], F]:
    """A CLI option for one `ImageRequest` field, typed from its annotation."""
    flag = "--" + name.replace("_", "-")
    if "bool" in annotation:
        return click.option(
            f"{flag}/--no-{flag[2:]}", name, default=None, help=f"{name}=true/false"
        )
    if name == "view":
        return click.option(flag, name, type=click.Choice(VIEWS), help="view=")
    if name == "range":
        help_text = "range= comma-separated, or 'auto': each image's data-set Equalization"
        return click.option(flag, name, metavar="N,N,...|auto", help=help_text)
    if "tuple" in annotation:
        return click.option(flag, name, metavar="N,N,...", help=f"{name}= comma-separated")
    kind = int if annotation.startswith("int") else str
    return click.option(flag, name, type=kind, help=f"{name}=")


IMAGE_FIELDS = [item for item in fields(ImageRequest) if item.name != "annotation"]


def image_options(function: F) -> F:
    """Every image parameter of the Image Download Service as an option (``annotation`` is
    added by the commands that take it)."""
    for item in reversed(IMAGE_FIELDS):
        function = _image_option(item.name, str(item.type))(function)
    return function


def connection_options(function: F) -> F:
    """``--api``, ``--concurrency``, ``--json``."""
    function = click.option("--json", "as_json", is_flag=True, help="Print a JSON result.")(
        function
    )
    function = click.option(
        "--concurrency",
        type=click.IntRange(1, 256),
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        help="Requests in flight.",
    )(function)
    return click.option(
        "--api",
        "api_url",
        envvar="BRAINMAP_API",
        default=DEFAULT_API_URL,
        show_default=True,
        help="Server base URL (env BRAINMAP_API).",
    )(function)


def bulk_options(function: F) -> F:
    """Connection and image options plus ``--out``, ``--manifest``, ``--dask`` and
    ``--quiet``."""
    function = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")(function)
    function = click.option(
        "--dask",
        "dask_address",
        metavar="ADDRESS",
        help="Fetch on this dask.distributed scheduler's workers (--out must be shared).",
    )(function)
    function = click.option(
        "--manifest",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Manifest file (default: in --out; required when --out is a URL).",
    )(function)
    function = click.option(
        "--out",
        "out_dir",
        default=".",
        show_default=True,
        help="Folder or fsspec URL (memory://, s3://, file://...).",
    )(function)
    return connection_options(image_options(function))


def image_params(values: dict[str, Any]) -> dict[str, Any]:
    """The image keyword arguments among the command's values (unset ones dropped)."""
    params = {}
    for item in fields(ImageRequest):
        value = values.pop(item.name, None)
        if value is not None:
            params[item.name] = _numbers(value) if "tuple" in str(item.type) else value
    return params


@click.group()
def download() -> None:
    """Download images in bulk into a folder, resumably (rerun to resume; verified files are
    skipped). Files are named by image id and the parameters given. Exit codes: 0 done, 1 some
    files failed, 2 usage, 3 server error, 5 no such id, 6 query error, 130 interrupted."""


@download.command("section-image")
@click.argument("image_ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option(
    "--service",
    type=click.Choice(SERVICES),
    default="section",
    show_default=True,
    help="Download endpoint.",
)
@click.option("--annotation/--no-annotation", default=None, help="annotation=true/false")
@bulk_options
def section_image(image_ids: tuple[int, ...], service: Service, **values: Any) -> None:
    """Download the images ID... (as <ID>.jpg without image parameters)."""
    _bulk(
        values,
        lambda bulk, out, **kw: bulk.download_images(image_ids, out, service=service, **kw),
    )


@download.command("data-set")
@click.argument("data_set_id", metavar="ID", type=int)
@click.option(
    "--to-reference",
    "to_reference",
    type=float,
    metavar="UM",
    help="Warp each section onto the reference grid of its plane, UM µm apart: "
    "<ID>_reference-<UM>um.png (RGBA, alpha marks the section) and reference.json.",
)
@click.option(
    "--ome-zarr",
    is_flag=True,
    help="With --to-reference: also one 3-D OME-Zarr volume, reference.ome.zarr (NGFF 0.4).",
)
@bulk_options
def data_set(data_set_id: int, to_reference: float | None, ome_zarr: bool, **values: Any) -> None:
    """Download every section image of section data set ID (or, with --to-reference, every
    section warped to the reference atlas)."""
    warp = {"to_reference": to_reference, "ome_zarr": ome_zarr}
    _bulk(
        values,
        lambda bulk, out, **kw: bulk.download_section_data_set(data_set_id, out, **warp, **kw),
    )


@download.command("atlas")
@click.argument("atlas_id", metavar="ID", type=int)
@click.option(
    "--annotation/--no-annotation",
    default=True,
    show_default=True,
    help="Structure drawings (default) or the Nissl plates.",
)
@bulk_options
def atlas(atlas_id: int, **values: Any) -> None:
    """Download every annotated plate of atlas ID."""
    _bulk(values, lambda bulk, out, **kw: bulk.download_atlas(atlas_id, out, **kw))


@click.command()
@click.argument("rma")
@click.option("--page-size", type=click.IntRange(1), default=None, help="Fetch in pages of N rows.")
@click.option("--lenient", is_flag=True, help="Warn instead of failing when rows are missing.")
@connection_options
def query(
    rma: str, page_size: int | None, lenient: bool, api_url: str, concurrency: int, as_json: bool
) -> None:
    """Run an RMA query (``model::Atlas,...`` or a full URL) and print its rows as JSON."""
    with user_errors(), Client(api_url, concurrency=concurrency) as client:
        rows = client.query(rma, page_size=page_size, strict=not lenient)
    click.echo(json.dumps(rows, separators=(",", ":")) if as_json else json.dumps(rows, indent=2))


def _bulk(values: dict[str, Any], action: Callable[..., BulkReport]) -> None:
    api_url, concurrency, as_json = (
        values.pop("api_url"),
        values.pop("concurrency"),
        values.pop("as_json"),
    )
    out_dir, quiet = values.pop("out_dir"), values.pop("quiet")
    options = {"manifest": values.pop("manifest"), "client": values.pop("dask_address")}
    params = image_params(values)
    with user_errors(), Client(api_url, concurrency=concurrency) as client:
        report = action(client, out_dir, quiet=quiet or as_json, **options, **params)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        retries = sum(report.retries.values())
        click.echo(
            f"{report.fetched} fetched, {report.skipped} already there, {len(report.failures)} "
            f"failed ({report.bytes / 1e6:.1f} MB in {report.seconds:.1f} s, {retries} retries) "
            f"-> {report.folder}"
        )
        for path, error in sorted(report.failures.items()):
            click.echo(f"failed: {path}: {error}", err=True)
    if not report.ok:
        sys.exit(EXIT_FAILED_FILES)
