"""Peak server memory for full-resolution responses of a 30,000 x 20,000 image.

Builds a throw-away store with one 8-bit RGB section and one annotated atlas plate (a uint32
label map) of that size, starts ``brainmap``'s server in a subprocess on a free loopback port,
downloads each whole image at downsample 0 (600 megapixels; the 400-megapixel default limit is
raised for this run), then two at once, and prints the server's peak RSS (VmHWM) after each.

    .venv/bin/python benchmarks/render_memory.py
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyvips

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import (
    AlternateImage,
    Atlas,
    AtlasDataSet,
    AtlasImage,
    Ontology,
    PlaneOfSection,
    SectionDataSet,
    SectionImage,
    Structure,
    StructureGraph,
)

WIDTH, HEIGHT = 30_000, 20_000
SECTION, PLATE = 1, 2
STRUCTURES = {10: "FF0000", 20: "00FF00", 312_782_574: "0000FF", 614_454_277: "FFFF00"}
SERVER = """
import sys, uvicorn
from brainmap.server.app import create_app
from brainmap.server.state import ImageLimits
from brainmap.store.folder import Store
app = create_app(Store.open(sys.argv[1]), limits=ImageLimits(max_pixels=700_000_000))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def build_store(root: Path) -> Store:
    """A store with the two big images, their pixels generated lazily by libvips."""
    store = Store.create(root)
    xy = pyvips.Image.xyz(WIDTH, HEIGHT)
    x, y = xy[0], xy[1]
    rgb = ((x / 37) % 256).bandjoin([(y / 23) % 256, ((x + y) / 91) % 256]).cast("uchar")
    ids = list(STRUCTURES)
    cell = (x / 4000).cast("uint") + (y / 5000).cast("uint")
    labels = (
        (cell % len(ids))
        .cast("uchar")
        .maplut(pyvips.Image.new_from_list([ids], scale=1).cast("uint"))
    )
    write_pyramid(rgb, store.pyramid_path(store.new_pyramid_name("section")), PyramidKind.RGB8)
    write_pyramid(labels, store.pyramid_path(store.new_pyramid_name("labels")), PyramidKind.LABELS)
    extent = whole_image(WIDTH, HEIGHT)
    with store.session() as session:
        session.add_all(
            [
                PlaneOfSection(id=1, name="coronal"),
                Ontology(id=1, name="Mouse"),
                StructureGraph(id=1, name="graph", ontology_id=1),
            ]
        )
        session.flush()
        session.add_all(
            [SectionDataSet(id=1, plane_of_section_id=1, failed=False), AtlasDataSet(id=2)]
        )
        session.flush()
        session.add_all(
            [
                SectionImage(id=SECTION, data_set_id=1, path="pyramids/section.tif", **extent),
                AtlasImage(
                    id=PLATE, data_set_id=2, path="pyramids/section.tif", annotated=True, **extent
                ),
                Atlas(id=1, name="atlas", atlas_data_set_id=2, structure_graph_id=1),
                *(
                    Structure(
                        id=sid, acronym=str(sid), graph_id=1, ontology_id=1, color_hex_triplet=c
                    )
                    for sid, c in STRUCTURES.items()
                ),
            ]
        )
        session.flush()
        session.add(
            AlternateImage(
                id=1, sub_image_id=PLATE, image_type="Atlas", path="pyramids/labels.tif", atlas_id=1
            )
        )
    return store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(row for row in status.splitlines() if row.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def download(url: str) -> tuple[int, float]:
    """Bytes received and seconds taken, reading in 1 MiB chunks."""
    start, size = time.perf_counter(), 0
    with urllib.request.urlopen(url, timeout=600) as response:
        while chunk := response.read(1 << 20):
            size += len(chunk)
    return size, time.perf_counter() - start


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/v2/image_download/0", timeout=2)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="brainmap-memory-"))
    try:
        start = time.perf_counter()
        store = build_store(root)
        store.close()
        print(f"built {WIDTH} x {HEIGHT} store in {time.perf_counter() - start:.0f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(root), str(port)])
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base)
            print(f"idle server: peak RSS {peak_rss_mb(server.pid):.0f} MB")
            urls = {
                "section, full resolution": f"{base}/api/v2/image_download/{SECTION}",
                "annotated plate, full resolution": (
                    f"{base}/api/v2/atlas_image_download/{PLATE}?annotation=true"
                ),
            }
            for name, url in urls.items():
                size, seconds = download(url)
                print(
                    f"{name}: {size / 1e6:.0f} MB JPEG in {seconds:.1f} s, "
                    f"server peak RSS {peak_rss_mb(server.pid):.0f} MB"
                )
            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(download, urls.values()))
            print(
                f"both at once: {sum(r[0] for r in results) / 1e6:.0f} MB in "
                f"{max(r[1] for r in results):.1f} s, "
                f"server peak RSS {peak_rss_mb(server.pid):.0f} MB"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
