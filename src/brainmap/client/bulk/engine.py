"""The bulk engine: plan -> manifest -> bounded concurrent fetch (each body verified and written
inside its attempt, so a bad one is fetched again) -> manifest updated in durable batches (see
`brainmap.client.bulk.ledger`).

`run_bulk` drives one destination; `fetch_all` is the fetch loop it runs locally (and that
`brainmap.client.bulk.distributed` runs on each dask worker for its share).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brainmap.client._http.transport import Transport
from brainmap.client.bulk.destination import (
    Destination,
    check_file,
    check_folder,
    open_destination,
)
from brainmap.client.bulk.ledger import Ledger
from brainmap.client.bulk.manifest import FILENAME, Job, Manifest
from brainmap.client.bulk.progress import ProgressCallback, ProgressReporter
from brainmap.client.bulk.verify import jpeg_check
from brainmap.errors import ApiError, BadParameter

DEFAULT_CONCURRENCY = 6
"""Requests in flight to one host, by default (a polite bound for a public server)."""


@dataclass(frozen=True)
class Outcome:
    """How one job ended: written and verified (`error` None) or failed after every attempt."""

    path: str
    bytes: int = 0
    sha256: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


OnDone = Callable[[Outcome], None]
Runner = Callable[[Sequence[Job], Destination, OnDone], Awaitable["Counter[str]"]]
"""Fetches `jobs` into the destination, calling `on_done` once per job; returns the retries
it made, by reason."""


@dataclass
class BulkReport:
    """What a bulk run did. `skipped` files were already verified by an earlier run."""

    folder: str
    planned: int
    skipped: int
    fetched: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for ``--json``."""
        return {**asdict(self), "ok": self.ok}


async def fetch_one(transport: Transport, job: Job, destination: Destination) -> Outcome:
    """Fetch, verify and write one job; errors after the retries (or in the write) become a
    failed Outcome.

    A local destination's file is written by the check that verified the body (at most one
    thread hop per file); a remote one is written on a worker thread afterwards, never on the
    event loop, as is a job's `render` (with the write, in the same hop). Write errors are not
    retried.
    """
    verify = jpeg_check(job.url, job.size)
    local = destination.local is not None and job.render is None
    written: list[tuple[int, str]] = []

    def land(body: bytes) -> None:
        verify(body)
        if local:
            written.append((len(body), destination.write(job.path, body)))

    def render_and_write(body: bytes) -> None:
        out = job.render(body) if job.render is not None else body
        written.append((len(out), destination.write(job.path, out)))

    try:
        response = await transport.get(job.url, check=land)
        if not local:
            await asyncio.to_thread(render_and_write, response.body)
    except (ApiError, OSError, ValueError) as error:
        return Outcome(job.path, error=str(error))
    size, digest = written[-1]
    return Outcome(job.path, size, digest)


async def fetch_all(
    transport: Transport,
    jobs: Sequence[Job],
    destination: Destination,
    on_done: OnDone,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Counter[str]:
    """Run `jobs` with at most `concurrency` in flight, calling `on_done` as each ends; return
    the transport's retries meanwhile."""
    before = Counter(transport.retries)
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            on_done(await fetch_one(transport, job, destination))

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(jobs))))))
    return transport.retries - before


def prepare(
    out: str | os.PathLike[str], manifest: str | os.PathLike[str] | None
) -> tuple[Destination, Path]:
    """The destination `out` names (see `open_destination`) and the manifest's path
    (`manifest`, by default in a local destination), both checked writable before anything is
    fetched or written; BadParameter names the one that is not."""
    destination = open_destination(out)
    if destination.local is not None:
        check_folder(destination.local)
    if manifest is not None:
        path = Path(manifest)
    elif destination.local is None:
        raise BadParameter("manifest", "a remote destination needs a local manifest path")
    else:
        path = destination.local / FILENAME
    check_file(path, "manifest")
    return destination, path


async def run_bulk(
    transport: Transport,
    jobs: Sequence[Job],
    out: str | os.PathLike[str],
    *,
    manifest: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    quiet: bool = False,
    callback: ProgressCallback | None = None,
    label: str = "download",
    runner: Runner | None = None,
) -> BulkReport:
    """Bring `out` (a folder or an fsspec URL, see `open_destination`) to the state `jobs`
    describe and return a report.

    Leftover temporary files of a killed run are removed, verified files are skipped, the rest
    are fetched (by `runner`, default: this process with `concurrency` in flight) and the
    manifest (`manifest`, default: in the folder) is updated here, in batches of files already
    made durable; progress reports a file once its row is committed.
    """
    destination, manifest_file = prepare(out, manifest)
    started = time.monotonic()
    with _open_manifest(manifest_file, destination) as records:
        destination.remove_partials()
        todo = records.plan(jobs)
        report = BulkReport(os.fspath(out), len(jobs), len(jobs) - len(todo))
        reporter = ProgressReporter(
            len(jobs), report.skipped, quiet=quiet, callback=callback, label=label
        )

        def commit(batch: list[Outcome]) -> None:
            destination.sync([outcome.path for outcome in batch if outcome.ok])
            with records.transaction():
                for outcome in batch:
                    if outcome.ok:
                        records.verified(outcome.path, outcome.bytes, outcome.sha256 or "")
                    else:
                        records.failed(outcome.path, outcome.error or "")

        def done(outcome: Outcome) -> None:
            if outcome.ok:
                report.fetched += 1
                report.bytes += outcome.bytes
            else:
                report.failures[outcome.path] = outcome.error or ""
            reporter.update(outcome.path, outcome.bytes, outcome.ok)

        try:
            async with Ledger(commit, done) as ledger:
                if runner is None:
                    retries = await fetch_all(transport, todo, destination, ledger.add, concurrency)
                else:
                    retries = await runner(todo, destination, ledger.add)
        finally:
            reporter.close()
    report.seconds = time.monotonic() - started
    report.retries = dict(retries)
    return report


def _open_manifest(path: Path, destination: Destination) -> Manifest:
    """The manifest at `path`; a folder or database that cannot be made is BadParameter."""
    try:
        return Manifest(path, destination.size)
    except (OSError, sqlite3.Error) as error:
        raise BadParameter("manifest", f"{path}: {error}") from None
