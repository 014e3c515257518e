"""The bulk engine: plan -> manifest -> bounded concurrent fetch (each body verified inside its
attempt, so a bad one is fetched again) -> atomic write -> manifest updated.

`run_bulk` drives one folder; `fetch_all` is the fetch loop it runs locally (and that
`brainmap.client.distributed` runs on each dask worker for its share).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from brainmap.client.files import atomic_writer, remove_partials
from brainmap.client.manifest import Job, Manifest
from brainmap.client.progress import ProgressCallback, ProgressReporter
from brainmap.client.transport import AsyncTransport
from brainmap.client.verify import jpeg_check
from brainmap.errors import ApiError

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
Runner = Callable[[Sequence[Job], Path, OnDone], Awaitable[None]]
"""Fetches `jobs` into the folder, calling `on_done` once per job."""


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


def write_file(path: Path, body: bytes) -> str:
    """Write `body` at `path` atomically; return its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as handle:
        handle.write(body)
    return hashlib.sha256(body).hexdigest()


async def fetch_one(transport: AsyncTransport, job: Job, folder: Path) -> Outcome:
    """Fetch, verify and write one job; errors after the retries become a failed Outcome."""
    try:
        response = await transport.get(job.url, check=jpeg_check(job.url, job.size))
    except ApiError as error:
        return Outcome(job.path, error=str(error))
    digest = await asyncio.to_thread(write_file, folder / job.path, response.body)
    return Outcome(job.path, len(response.body), digest)


async def fetch_all(
    transport: AsyncTransport,
    jobs: Sequence[Job],
    folder: Path,
    on_done: OnDone,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Run `jobs` with at most `concurrency` in flight, calling `on_done` as each ends."""
    pending = iter(jobs)

    async def worker() -> None:
        for job in pending:
            on_done(await fetch_one(transport, job, folder))

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(jobs))))))


async def run_bulk(
    transport: AsyncTransport,
    jobs: Sequence[Job],
    folder: str | Path,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    quiet: bool = False,
    callback: ProgressCallback | None = None,
    label: str = "download",
    runner: Runner | None = None,
) -> BulkReport:
    """Bring `folder` to the state `jobs` describe and return a report.

    Leftover temporary files of a killed run are removed, verified files are skipped, the rest
    are fetched (by `runner`, default: this process with `concurrency` in flight) and the
    manifest is updated as each file lands.
    """
    folder = Path(folder)
    retries_before = Counter(transport.retries)
    started = time.monotonic()
    with Manifest(folder) as manifest:
        remove_partials(folder)
        todo = manifest.plan(jobs)
        report = BulkReport(str(folder), len(jobs), len(jobs) - len(todo))
        reporter = ProgressReporter(
            len(jobs), report.skipped, quiet=quiet, callback=callback, label=label
        )

        def done(outcome: Outcome) -> None:
            if outcome.ok:
                manifest.verified(outcome.path, outcome.bytes, outcome.sha256 or "")
                report.fetched += 1
                report.bytes += outcome.bytes
            else:
                manifest.failed(outcome.path, outcome.error or "")
                report.failures[outcome.path] = outcome.error or ""
            reporter.update(outcome.path, outcome.bytes, outcome.ok)

        try:
            if runner is None:
                await fetch_all(transport, todo, folder, done, concurrency)
            else:
                await runner(todo, folder, done)
        finally:
            reporter.close()
    report.seconds = time.monotonic() - started
    report.retries = dict(transport.retries - retries_before)
    return report
