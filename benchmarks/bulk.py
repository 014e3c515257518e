"""Bulk image download: brainmap's `Client` against allensdk 2.16.2's loop, a plain httpx loop, and
the server's own ceiling, all on the same 500 image requests to one `brainmap serve` subprocess.

The store is generated: one SectionDataSet of 500 SectionImages (2048 x 1536, over four distinct
pyramids); every request is ``section_image_download/{id}?downsample=3`` (a 256 x 192 JPEG).

* brainmap: ``Client.download_section_data_set`` (resumable, verified) into an empty folder, at
  the default concurrency (6), at 16 and at 64;
* allensdk: ``ImageDownloadApi.download_section_image`` in a loop, in its own venv
  (``.venv-allensdk``: ``make .venv-allensdk/.installed``; skipped when missing);
* plain loop: one keep-alive ``httpx.Client``, sequential, writing each body to a file;
* ceiling: ``wrk`` cycling through the same 500 URLs with as many connections as each brainmap
  row has requests in flight (installed with apt-get when missing).

A first pass over all the URLs warms the server's response cache, so every peer meets the same
warm server (the first to run would otherwise pay for all the rendering).

``--latency-ms N`` puts every client, wrk included, behind a proxy in its own process that
delays each direction by N/2 ms and each new connection by N ms (the TCP handshake's round
trip), as a server across a network would; on bare loopback the server's CPU is the limit.

Targets: brainmap >= 8x allensdk and >= 80% of the ceiling. Run: ``.venv/bin/python
benchmarks/bulk.py [--latency-ms 50] [--images N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from brainmap.client import Client
from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import PlaneOfSection, Product, SectionDataSet, SectionImage

DATA_SET = 1
FIRST_ID = 1_000_000
WIDTH, HEIGHT = 2048, 1536
PYRAMIDS = 4
DOWNSAMPLE = 3
CONCURRENCIES = (6, 16, 64)
ALLENSDK_PYTHON = Path(__file__).resolve().parent.parent / ".venv-allensdk" / "bin" / "python"

ALLENSDK_LOOP = """
import sys, time
from allensdk.api.queries.image_download_api import ImageDownloadApi
api = ImageDownloadApi(base_uri=sys.argv[1])
ids = [int(i) for i in sys.argv[3].split(",")]
start = time.perf_counter()
for image_id in ids:
    api.download_section_image(image_id, file_path=f"{sys.argv[2]}/{image_id}.jpg",
                               downsample=int(sys.argv[4]))
print(time.perf_counter() - start)
"""

WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def build_store(root: Path, images: int) -> None:
    """One data set of `images` section images over `PYRAMIDS` distinct pyramids."""
    store = Store.create(root)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    names = []
    for index in range(PYRAMIDS):
        base = np.stack([(x // (3 + index)) % 256, (y // 5) % 256, ((x + y) // 9) % 256], axis=2)
        noise = rng.integers(0, 24, size=base.shape)
        pixels = (base + noise).clip(0, 255).astype(np.uint8)
        names.append(store.new_pyramid_name(f"bench{index}"))
        write_pyramid(pixels, store.pyramid_path(names[-1]), PyramidKind.RGB8)
    with store.session() as session:
        product = Product(id=1, name="Mouse Brain", abbreviation="Mouse")
        session.add_all([product, PlaneOfSection(id=1, name="coronal")])
        session.flush()
        data_set = SectionDataSet(id=DATA_SET, plane_of_section_id=1, failed=False)
        data_set.products = [product]
        session.add(data_set)
        session.flush()
        session.add_all(
            SectionImage(
                id=FIRST_ID + number,
                data_set_id=DATA_SET,
                **whole_image(WIDTH, HEIGHT),
                section_number=number,
                resolution=1.0,
                number_of_components=3,
                bits_per_component=8,
                path=names[number % PYRAMIDS],
            )
            for number in range(images)
        )
    store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(store: Path, port: int) -> subprocess.Popen[bytes]:
    """`brainmap serve` in a subprocess, returned once it accepts connections."""
    brainmap = Path(sys.executable).parent / "brainmap"
    command = [str(brainmap), "serve", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
    except RuntimeError:
        process.kill()
        raise
    return process


def proxy(listen: int, target: int, latency: float) -> None:
    """Forward 127.0.0.1:`listen` to 127.0.0.1:`target`, `latency` seconds of round trip."""

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(due - time.monotonic())
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.create_task(send())
        while chunk := await reader.read(1 << 16):
            queue.put_nowait((time.monotonic() + latency / 2, chunk))
        queue.put_nowait((time.monotonic() + latency / 2, b""))
        await sender

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(latency)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target)
        for stream in (writer, upstream_writer):
            stream.transport.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
        try:
            await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        except OSError:
            writer.close()
            upstream_writer.close()

    async def main() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", listen, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


def start_proxy(target: int, latency_ms: float) -> tuple[multiprocessing.process.BaseProcess, int]:
    """`proxy` in its own process; returns it and the port to use."""
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=proxy, args=(port, target, latency_ms / 1000), daemon=True
    )
    process.start()
    _wait_for(port)
    return process, port


def brainmap_bulk(url: str, folder: Path, concurrency: int) -> float:
    with Client(url, concurrency=concurrency) as client:
        start = time.perf_counter()
        report = client.download_section_data_set(
            DATA_SET, folder, downsample=DOWNSAMPLE, quiet=True
        )
        seconds = time.perf_counter() - start
    assert report.ok and report.fetched == report.planned, report
    return seconds


def httpx_loop(url: str, paths: list[str], folder: Path) -> float:
    with httpx.Client(base_url=url, timeout=60) as client:
        start = time.perf_counter()
        for path in paths:
            reply = client.get(path)
            reply.raise_for_status()
            (folder / (path.split("/")[-1].split("?")[0] + ".jpg")).write_bytes(reply.content)
        return time.perf_counter() - start


def allensdk_loop(url: str, ids: list[int], folder: Path) -> float | None:
    if not ALLENSDK_PYTHON.exists():
        return None
    command = [str(ALLENSDK_PYTHON), "-c", ALLENSDK_LOOP, url, str(folder)]
    command += [",".join(map(str, ids)), str(DOWNSAMPLE)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output.strip().splitlines()[-1])


def ceiling(port: int, paths: list[str], workdir: Path, connections: int) -> float:
    """Requests per second wrk gets for `paths` over `connections` connections (8 s)."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    script = workdir / "paths.lua"
    script.write_text(WRK_SCRIPT % ",".join(f'"{path}"' for path in paths))
    command = ["wrk", "-t1", f"-c{connections}", "-d8s", "-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True
    ).stdout
    found = re.search(r"Requests/sec:\s*([\d.]+)", output)
    assert found, output
    return float(found.group(1))


def measure(port: int, images: int, work: Path) -> dict[str, float]:
    """Files (or requests) per second of every peer through `port`."""
    url = f"http://127.0.0.1:{port}"
    ids = [FIRST_ID + number for number in range(images)]
    paths = [f"/api/v2/section_image_download/{i}?downsample={DOWNSAMPLE}" for i in ids]
    httpx_loop(url, paths, _fresh(work / "warm"))
    seconds = {
        f"brainmap bulk (concurrency {c})": brainmap_bulk(url, _fresh(work / f"b{c}"), c)
        for c in CONCURRENCIES
    }
    seconds["plain httpx loop"] = httpx_loop(url, paths, _fresh(work / "httpx"))
    allensdk = allensdk_loop(url, ids, _fresh(work / "allensdk"))
    if allensdk is not None:
        seconds["allensdk 2.16.2 loop"] = allensdk
    rates = {name: images / value for name, value in seconds.items()}
    for c in CONCURRENCIES:
        rates[f"server ceiling (wrk -c{c})"] = ceiling(port, paths, work, c)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        build_store(work / "store", args.images)
        port = free_port()
        server = serve(work / "store", port)
        relay = None
        try:
            if args.latency_ms:
                relay, port = start_proxy(port, args.latency_ms)
            rates = measure(port, args.images, work)
        finally:
            if relay is not None:
                relay.terminate()
            server.terminate()
            server.wait()
    print(f"{args.images} images, added round-trip latency {args.latency_ms:g} ms")
    _report(rates)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def _report(rates: dict[str, float]) -> None:
    print(f"| {'client':32} | {'files/s':>9} |\n|{'-' * 34}|{'-' * 11}|")
    for name, rate in rates.items():
        print(f"| {name:32} | {rate:9.1f} |")
    for c in CONCURRENCIES:
        mine = rates[f"brainmap bulk (concurrency {c})"]
        ratios = [f"{mine / rates[f'server ceiling (wrk -c{c})']:.0%} of wrk -c{c}"]
        ratios.append(f"{mine / rates['plain httpx loop']:.1f}x httpx loop")
        if "allensdk 2.16.2 loop" in rates:
            ratios.append(f"{mine / rates['allensdk 2.16.2 loop']:.1f}x allensdk")
        print(f"brainmap (concurrency {c}): " + ", ".join(ratios))
    print("targets: >= 8x allensdk, >= 80% of the ceiling")


if __name__ == "__main__":
    main()
