"""Bulk image download: brainmap's `Client` against allensdk 2.16.2's loop, a plain loop, and the
server's own ceiling, all on the same 500 image requests to one `brainmap serve` subprocess.

The store is generated: one SectionDataSet of 500 SectionImages (2048 x 1536, over four distinct
pyramids); every request is ``section_image_download/{id}?downsample=3`` (a 256 x 192 JPEG).

* brainmap: ``Client.download_section_data_set`` (resumable, verified) into an empty folder, at
  the default concurrency (6) and at 16;
* allensdk: ``ImageDownloadApi.download_section_image`` in a loop, in its own venv
  (``.venv-allensdk``, built by ``make test``; skipped when missing);
* plain loop: one keep-alive ``http.client`` connection, sequential (httpx is not installed);
* ceiling: ``wrk`` cycling through the same 500 URLs (installed with apt-get when missing).

Targets: brainmap >= 8x allensdk and >= 80% of the ceiling. Run: ``.venv/bin/python
benchmarks/bulk.py`` (``--images N`` to change the count).
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from brainmap.client import Client
from brainmap.store.folder import Store
from brainmap.store.pyramids import PyramidKind, tier_count, write_pyramid
from brainmap.store.schema import PlaneOfSection, Product, SectionDataSet, SectionImage

DATA_SET = 1
FIRST_ID = 1_000_000
WIDTH, HEIGHT = 2048, 1536
PYRAMIDS = 4
DOWNSAMPLE = 3
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
                x=0,
                y=0,
                width=WIDTH,
                height=HEIGHT,
                image_width=WIDTH,
                image_height=HEIGHT,
                tier_count=tier_count(WIDTH, HEIGHT),
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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("brainmap serve did not start")


def brainmap_bulk(url: str, folder: Path, concurrency: int) -> float:
    with Client(url, concurrency=concurrency) as client:
        start = time.perf_counter()
        report = client.download_section_data_set(
            DATA_SET, folder, downsample=DOWNSAMPLE, quiet=True
        )
        seconds = time.perf_counter() - start
    assert report.ok and report.fetched == report.planned, report
    return seconds


def plain_loop(port: int, paths: list[str], folder: Path) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    start = time.perf_counter()
    for path in paths:
        connection.request("GET", path)
        reply = connection.getresponse()
        body = reply.read()
        assert reply.status == 200
        (folder / (path.split("/")[-1].split("?")[0] + ".jpg")).write_bytes(body)
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def allensdk_loop(url: str, ids: list[int], folder: Path) -> float | None:
    if not ALLENSDK_PYTHON.exists():
        return None
    command = [str(ALLENSDK_PYTHON), "-c", ALLENSDK_LOOP, url, str(folder)]
    command += [",".join(map(str, ids)), str(DOWNSAMPLE)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output.strip().splitlines()[-1])


def ceiling(port: int, paths: list[str], workdir: Path, seconds: int = 8) -> float:
    """Requests per second wrk gets for `paths` (16 connections)."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    script = workdir / "paths.lua"
    script.write_text(WRK_SCRIPT % ",".join(f'"{path}"' for path in paths))
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"], check=True, capture_output=True, text=True
    ).stdout
    found = re.search(r"Requests/sec:\s*([\d.]+)", output)
    assert found, output
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        build_store(work / "store", args.images)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        ids = [FIRST_ID + number for number in range(args.images)]
        paths = [f"/api/v2/section_image_download/{i}?downsample={DOWNSAMPLE}" for i in ids]
        server = serve(work / "store", port)
        try:
            plain_loop(port, paths[:20], _fresh(work / "warm"))
            rates = {
                "brainmap bulk (concurrency 6)": brainmap_bulk(url, _fresh(work / "b6"), 6),
                "brainmap bulk (concurrency 16)": brainmap_bulk(url, _fresh(work / "b16"), 16),
                "plain http.client loop": plain_loop(port, paths, _fresh(work / "plain")),
                "allensdk 2.16.2 loop": allensdk_loop(url, ids, _fresh(work / "allensdk")),
            }
            files_per_second = {
                name: args.images / seconds for name, seconds in rates.items() if seconds
            }
            files_per_second["server ceiling (wrk -c16)"] = ceiling(port, paths, work)
        finally:
            server.terminate()
            server.wait()
    _report(files_per_second)


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def _report(rates: dict[str, float]) -> None:
    print(f"{'client':34} {'files/s':>9}")
    for name, rate in rates.items():
        print(f"{name:34} {rate:9.1f}")
    best = rates["brainmap bulk (concurrency 6)"]
    top = max(best, rates["brainmap bulk (concurrency 16)"])
    roof = rates["server ceiling (wrk -c16)"]
    if "allensdk 2.16.2 loop" in rates:
        print(
            f"brainmap (6) / allensdk: {best / rates['allensdk 2.16.2 loop']:.1f}x  (target >= 8x)"
        )
    print(
        f"brainmap (6) / ceiling: {best / roof:.0%}, best brainmap / ceiling: {top / roof:.0%}"
        "  (target >= 80%)"
    )
    print(f"brainmap (6) / plain loop: {best / rates['plain http.client loop']:.1f}x")


if __name__ == "__main__":
    main()
