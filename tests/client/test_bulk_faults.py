"""Reliability of bulk downloads: a fault-injecting proxy in front of the real server, and a
download process killed with SIGKILL at random points then rerun."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import yarl
from aiohttp import web
from reference_store import SAGITTAL

from brainmap.client import Client, RetryPolicy, Timeouts
from brainmap.client.bulk.manifest import FILENAME
from bulk_store import DATA_SET, IMAGES, image_files

READ_TIMEOUT = 0.5
STALL = 1.5
FAULTS = ("reset", "503", "truncate", "stall")
Plan = Callable[[str, int], "str | None"]


def random_faults(rate: float, last_faulty_attempt: int) -> Plan:
    """Each (request, attempt) draws a fault with probability `rate` (stalls rarer), from a
    generator seeded by both, so a run is reproducible; later attempts are clean."""

    def plan(key: str, attempt: int) -> str | None:
        draw = random.Random(f"{key}#{attempt}")
        if attempt > last_faulty_attempt or draw.random() >= rate:
            return None
        return draw.choices(FAULTS, weights=(3, 3, 3, 1))[0]

    return plan


class FaultProxy:
    """An aiohttp server on 127.0.0.1 forwarding GETs to `target`, injecting faults by `plan`
    and delaying image responses by `delay` seconds. `hits` counts requests by path."""

    def __init__(self, target: str, plan: Plan | None = None, delay: float = 0.0) -> None:
        self.target, self.plan, self.delay = target, plan, delay
        self.hits: Counter[str] = Counter()
        self._attempts: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()  # else its selector and self-pipe sockets leak until a later GC

    async def _start(self) -> str:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _stop(self) -> None:
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        key = request.raw_path
        self.hits[request.path] += 1
        self._attempts[key] += 1
        async with self._session.get(yarl.URL(self.target + key, encoded=True)) as upstream:
            body = await upstream.read()
            status, kind = upstream.status, upstream.content_type
        if self.delay and "download" in request.path:
            await asyncio.sleep(self.delay)
        fault = self.plan(key, self._attempts[key]) if self.plan else None
        if fault == "503":
            return web.Response(status=503, text="busy", headers={"Retry-After": "0"})
        if fault is None:
            return web.Response(status=status, body=body, content_type=kind)
        if fault == "reset" and request.transport is not None:
            request.transport.abort()  # before any byte of the response
            return web.Response()
        response = web.StreamResponse(headers={"Content-Length": str(len(body))})
        await response.prepare(request)
        if fault == "stall":
            await response.write(body[:10])
            await asyncio.sleep(STALL)
        elif fault == "truncate":
            await response.write(body[: len(body) // 2])
        if request.transport is not None:  # None when the client already gave up
            request.transport.close()
        return response


@pytest.fixture(scope="module")
def clean_run(bulk_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clean")
    with Client(bulk_server) as client:
        assert client.download_section_data_set(DATA_SET, folder, quiet=True).ok
    return image_files(folder)


@pytest.fixture()
def patient() -> Iterator[Callable[[str], Client]]:
    clients: list[Client] = []

    def make(url: str) -> Client:
        retry = RetryPolicy(attempts=6, initial=0.01, maximum=0.05, jitter=0.01)
        clients.append(Client(url, timeouts=Timeouts(connect=2, read=READ_TIMEOUT), retry=retry))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_faulty_network_gives_the_clean_files_and_nothing_else(
    bulk_server: str,
    clean_run: dict[str, bytes],
    patient: Callable[[str], Client],
    tmp_path: Path,
) -> None:
    with FaultProxy(bulk_server, random_faults(rate=0.3, last_faulty_attempt=3)) as proxy:
        report = patient(proxy.url).download_section_data_set(DATA_SET, tmp_path, quiet=True)
    assert report.ok, report.failures
    assert image_files(tmp_path) == clean_run
    assert {path.name for path in tmp_path.iterdir()} == {*clean_run, FILENAME}
    assert sum(report.retries.values()) >= IMAGES * 0.3
    # resets on kept-alive connections are retried inside aiohttp itself, so not all counted
    assert {"503", "ClientPayloadError", "SocketTimeoutError"} <= set(report.retries)


def test_killed_runs_resume_without_refetching_verified_files(
    bulk_server: str,
    clean_run: dict[str, bytes],
    patient: Callable[[str], Client],
    tmp_path: Path,
) -> None:
    script = (
        "import sys; from brainmap.client import Client\n"
        "client = Client(sys.argv[1], concurrency=2)\n"
        "client.download_section_data_set(int(sys.argv[2]), sys.argv[3], quiet=True,\n"
        "    progress=lambda event: print(event.done, flush=True))\n"
    )
    draw = random.Random(5)
    # Paced so that a killed run gets through about a dozen files (two in flight, 50 ms each)
    # even when this process is slow to see the output and kill: three runs must not finish.
    with FaultProxy(bulk_server, delay=0.05) as proxy:
        for _ in range(3):
            command = [sys.executable, "-c", script, proxy.url, str(DATA_SET), str(tmp_path)]
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
                assert process.stdout is not None
                kill_after = draw.randrange(1, IMAGES // 4)
                for _line in zip(range(kill_after + 1), process.stdout, strict=False):
                    pass
                process.send_signal(signal.SIGKILL)
                assert process.wait(timeout=30) == -signal.SIGKILL
        with contextlib.closing(sqlite3.connect(tmp_path / FILENAME)) as db:
            verified = {
                row[0] for row in db.execute("SELECT path FROM files WHERE status = 'verified'")
            }
        assert 0 < len(verified) < IMAGES
        proxy.hits.clear()
        report = patient(proxy.url).download_section_data_set(DATA_SET, tmp_path, quiet=True)
    assert report.ok and report.skipped == len(verified)
    assert image_files(tmp_path) == clean_run
    assert {path.name for path in tmp_path.iterdir()} == {*clean_run, FILENAME}
    refetched = {path.rsplit("/", 1)[1] + ".jpg" for path in proxy.hits if "download" in path}
    assert not refetched & verified
    assert len(refetched) == IMAGES - len(verified)


def test_a_section_that_never_arrives_is_left_out_until_a_rerun(
    reference_server: str, patient: Callable[[str], Client], tmp_path: Path
) -> None:
    """Warping jobs go through the same retries and verification: a section whose every
    download is cut short fails alone, reference.json lists the sections in place, and the
    volume waits for a complete set; a rerun fetches the missing one and builds it."""

    broken = [True]

    def cut_7102(key: str, attempt: int) -> str | None:
        return "truncate" if broken[0] and "section_image_download/7102" in key else None

    options = {"to_reference": 50, "ome_zarr": True, "quiet": True}
    with FaultProxy(reference_server, cut_7102) as proxy:
        client = patient(proxy.url)
        report = client.download_section_data_set(SAGITTAL, tmp_path, **options)
        assert set(report.failures) == {"7102_reference-50um.png"} and report.fetched == 1
        document = json.loads((tmp_path / "reference.json").read_text())
        assert [entry["id"] for entry in document["sections"]] == [7101]
        assert not (tmp_path / "reference.ome.zarr").exists()
        broken[0] = False
        again = client.download_section_data_set(SAGITTAL, tmp_path, **options)
        assert again.ok and (again.fetched, again.skipped) == (1, 1)
    document = json.loads((tmp_path / "reference.json").read_text())
    assert [entry["id"] for entry in document["sections"]] == [7101, 7102]
    assert (tmp_path / "reference.ome.zarr" / "0" / ".zarray").exists()
