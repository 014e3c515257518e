"""Bulk runs on a dask.distributed cluster: the workers fetch, the coordinator keeps the manifest.

`DaskRunner` is a `brainmap.client.bulk.engine.Runner`: it cuts the pending jobs into batches, each
worker task fetches one batch with `fetch_all` into the shared destination (a folder every
worker sees, or an fsspec URL) and returns an `Outcome` per job, and the coordinator records
them as the batches finish. Needs ``pip install 'brainmap[dask]'``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from brainmap.client._http.retry import RetryPolicy
from brainmap.client._http.transport import Timeouts
from brainmap.client.bulk.destination import Destination
from brainmap.client.bulk.engine import DEFAULT_CONCURRENCY, OnDone, Outcome, fetch_all
from brainmap.client.bulk.manifest import Job
from brainmap.client.extras import import_extra
from brainmap.errors import BadParameter

if TYPE_CHECKING:
    from distributed import Client as DaskClient

BATCHES_PER_WORKER = 4
"""Batches per worker: small enough to balance the load and report progress, large enough to
reuse each worker's connections."""


@dataclass(frozen=True)
class WorkerSettings:
    """How each worker task fetches: requests in flight, timeouts and retries."""

    concurrency: int = DEFAULT_CONCURRENCY
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def fetch_batch(
    jobs: Sequence[Job], destination: Destination, settings: WorkerSettings
) -> tuple[list[Outcome], Counter[str]]:
    """Worker side: fetch `jobs` into `destination` and make the files durable; their outcomes
    and the retries made."""

    from brainmap.client._http.aiohttp_transport import AiohttpTransport

    async def run() -> tuple[list[Outcome], Counter[str]]:
        outcomes: list[Outcome] = []
        transport = AiohttpTransport.to_one_host(
            settings.concurrency, settings.timeouts, settings.retry
        )
        async with transport:
            retries = await fetch_all(
                transport, jobs, destination, outcomes.append, settings.concurrency
            )
        destination.sync([outcome.path for outcome in outcomes if outcome.ok])
        return outcomes, retries

    return asyncio.run(run())


class DaskRunner:
    """Runs bulk jobs on the cluster of `client`: a `distributed.Client`, or a scheduler
    address (connected for each run, then closed), with `settings` on each worker."""

    def __init__(self, client: DaskClient | str, settings: WorkerSettings | None = None) -> None:
        import_extra("distributed", "dask", "dask runs need distributed")
        self.client = client
        self.settings = settings or WorkerSettings()

    async def __call__(
        self, jobs: Sequence[Job], destination: Destination, on_done: OnDone
    ) -> Counter[str]:
        import distributed

        if isinstance(self.client, distributed.Client):
            return await self._run(self.client, jobs, destination, on_done)
        try:
            client = await asyncio.to_thread(distributed.Client, self.client)
        except ValueError as error:  # an address distributed cannot parse
            raise BadParameter("client", f"{self.client!r}: {error}") from None
        try:
            return await self._run(client, jobs, destination, on_done)
        finally:
            await asyncio.to_thread(client.close)

    async def _run(
        self, client: DaskClient, jobs: Sequence[Job], destination: Destination, on_done: OnDone
    ) -> Counter[str]:
        import distributed

        workers = max(1, len(client.scheduler_info()["workers"]))
        batches = list(_batches(jobs, workers * BATCHES_PER_WORKER))
        futures = {
            client.submit(fetch_batch, batch, destination, self.settings, pure=False): batch
            for batch in batches
        }
        # distributed ships no annotations for as_completed
        finished = distributed.as_completed(futures)  # type: ignore[no-untyped-call]
        retries: Counter[str] = Counter()
        while (future := await asyncio.to_thread(next, finished, None)) is not None:
            try:
                outcomes, retried = await asyncio.to_thread(future.result)
            except Exception as error:  # a lost worker or task: its files stay to fetch
                failure = f"dask task: {error}"
                outcomes = [Outcome(job.path, error=failure) for job in futures[future]]
                retried = Counter()
            retries.update(retried)
            for outcome in outcomes:
                on_done(outcome)
        return retries


def _batches(jobs: Sequence[Job], count: int) -> Iterator[list[Job]]:
    size = max(1, -(-len(jobs) // count))
    for start in range(0, len(jobs), size):
        yield list(jobs[start : start + size])
