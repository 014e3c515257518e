"""``brainmap mirror``: copy a subset of any brain-map API (records and pixels) into a store.

Records come through RMA (`brainmap.mirror.metadata`) and are upserted in one
transaction with `brainmap.ingest.records`. Pixels come through the Image Download Service, the
whole image at each downsample asked for: the primary image, its expression/projection/tumour
masks and, for atlas plates, the annotation plate of each mirrored atlas (rendered RGB, as the
source serves it). Each download becomes a local pyramid whose level 0 is that downsample,
recorded in ``mirrored_pyramids`` (see `brainmap.store.mirrored`). Downloads go through the
client's bulk core (bounded concurrency, retries, verified files, manifest, progress); a rerun
skips every pyramid already recorded, so it fetches nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brainmap.client.async_client import AsyncClient
from brainmap.client.bulk.engine import run_bulk
from brainmap.client.bulk.manifest import Job
from brainmap.client.bulk.progress import ProgressCallback
from brainmap.client.bulk.verify import expected_size
from brainmap.ingest.decode import open_image
from brainmap.ingest.records import Importer
from brainmap.mirror.metadata import Metadata, Selection, check_found, fetch_metadata
from brainmap.params import ImageRequest
from brainmap.pyramid.writer import PyramidKind
from brainmap.service import VIEW_BY_ALTERNATE
from brainmap.store.data_sets import link_annotations
from brainmap.store.folder import Store
from brainmap.store.location import StoreLocation
from brainmap.store.mirrored import mirrored_levels, record_mirrored_level
from brainmap.store.schema import model_classes
from brainmap.store.writes import import_session

STAGING = "mirror-staging"


@dataclass(frozen=True)
class Pixels:
    """One picture to copy: the record path it stands for, the image it is requested through
    and the request's extra parameters (a view, or an atlas's annotation)."""

    path: str
    record: dict[str, Any]
    service: str
    label: str
    options: tuple[tuple[str, Any], ...] = ()


@dataclass
class MirrorReport:
    """What a run did: records upserted, pictures fetched and skipped, failures by file."""

    records: int = 0
    fetched: int = 0
    skipped: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def pictures(metadata: Metadata) -> Iterator[Pixels]:
    """Every picture of the mirrored images: primaries, masks and atlas annotation plates."""
    for service, records in (
        ("section", metadata.section_images),
        ("atlas", metadata.atlas_images),
    ):
        for record in records:
            yield Pixels(record["path"], record, service, "primary")
            for alternate in record.get("alternate_images") or []:
                view = VIEW_BY_ALTERNATE.get(alternate["image_type"])
                if view is not None:
                    yield Pixels(alternate["path"], record, service, view, (("view", view),))
    for atlas in metadata.atlases:
        for record in metadata.atlas_images:
            for alternate in record.get("alternate_images") or []:
                if alternate["image_type"] == atlas["image_type"]:
                    options = (("annotation", True), ("atlas", atlas["id"]))
                    label = f"annotation-{atlas['id']}"
                    yield Pixels(alternate["path"], record, "atlas", label, options)


def _level(record: dict[str, Any], downsample: int) -> int:
    """The downsample the server answers with (clamped to the image's tiers)."""
    return min(downsample, max(int(record["tier_count"]) - 1, 0))


def _job(client: AsyncClient, picture: Pixels, level: int) -> Job:
    record = picture.record
    params = dict(
        picture.options,
        downsample=level,
        left=0,
        top=0,
        width=record["image_width"],
        height=record["image_height"],
        downsample_dimensions=True,
    )
    width, height = expected_size(record, ImageRequest.from_kwargs(**params))
    endpoint = str(getattr(client.api, f"{picture.service}_image_download_endpoint"))
    url = client.api.image_url(record["id"], endpoint, **params)
    return Job(f"ds{level}/{record['id']}-{picture.label}.jpg", url, width, height)


def _held(store: Store) -> set[tuple[str, int]]:
    with store.session() as session:
        return mirrored_levels(session)


def import_metadata(store: Store, metadata: Metadata) -> None:
    """Upsert every record in one transaction; tie annotation alternates to their atlas."""
    models = model_classes()
    with import_session(store) as session:
        importer = Importer(session)
        for model, rows in metadata.records:
            for row in rows:
                importer.upsert(models[model], row, textual=False)
        session.flush()
        plates = [record["id"] for record in metadata.atlas_images]
        for atlas in metadata.atlases:
            link_annotations(session, plates, atlas["image_type"], atlas["id"])


def _keep(store: Store, staged: Path, record_path: str, level: int) -> None:
    """Turn one downloaded JPEG into a pyramid and record it (then drop the JPEG)."""
    stem = staged.relative_to(store.root / STAGING).with_suffix("").as_posix()
    relative = store.new_pyramid_name(f"mirror/{stem}")
    store.pixels.write_pyramid(relative, open_image(staged), PyramidKind.RGB8)
    with store.session() as session:
        record_mirrored_level(session, record_path, level, relative)
    staged.unlink()


async def mirror(
    api_url: str,
    store: Store | StoreLocation | Path,
    selection: Selection,
    downsamples: Sequence[int],
    *,
    concurrency: int = 4,
    quiet: bool = False,
    progress: ProgressCallback | None = None,
    say: Callable[[str], object] = lambda _message: None,
) -> MirrorReport:
    """Copy the selected records and pictures from `api_url` into `store` (a store, or where
    one is: created only once the selection is known to match, NotFound otherwise);
    `say` hears each step, `progress` each downloaded file."""
    async with AsyncClient(api_url, concurrency=concurrency) as client:
        metadata = await fetch_metadata(client, selection)
        check_found(selection, metadata)
        if isinstance(store, Store):
            return await _copy(client, store, metadata, downsamples, quiet, progress, say)
        location = store if isinstance(store, StoreLocation) else StoreLocation(store)
        created = location.create()
        try:
            return await _copy(client, created, metadata, downsamples, quiet, progress, say)
        finally:
            created.close()


async def _copy(
    client: AsyncClient,
    store: Store,
    metadata: Metadata,
    downsamples: Sequence[int],
    quiet: bool,
    progress: ProgressCallback | None,
    say: Callable[[str], object],
) -> MirrorReport:
    report = MirrorReport()
    import_metadata(store, metadata)
    report.records = metadata.count
    say(f"{report.records} records from {client.api_url}")
    jobs = {}
    for picture in pictures(metadata):
        for level in sorted({_level(picture.record, d) for d in downsamples}):
            jobs[_job(client, picture, level)] = (picture.path, level)
    held = _held(store)
    todo = {job: where for job, where in jobs.items() if where not in held}
    report.skipped = len(jobs) - len(todo)
    say(f"{len(todo)} pictures to fetch, {report.skipped} already held")
    staging = store.root / STAGING
    bulk = await run_bulk(
        client.transport,
        list(todo),
        staging,
        concurrency=client.concurrency,
        quiet=quiet,
        callback=progress,
        label="mirror pictures",
    )
    report.failures = dict(bulk.failures)
    for job, (record_path, level) in todo.items():
        staged = staging / job.path
        if job.path not in report.failures and staged.is_file():
            _keep(store, staged, record_path, level)
            report.fetched += 1
            say(f"pyramid {report.fetched}: {job.path}")
    return report
