"""Registration: brainmap's alignment maths and section warping against atldld 0.3.4, plus the
reference volume's point look-ups and plane reads.

Everything is generated: one coronal data set (25 µm sections) of `--sections` images, each with
its own Alignment2d (1.63 µm/px, a turn of a few degrees) under one Alignment3d (a tilt of about
2° off the coronal plane), and images 1124 x 617 RGB (an 8992 x 4936 section at downsample 3).

* points: 10,000 random pixels of random sections -> reference (brainmap `image_to_reference`,
  atldld `xy_to_pir`) and 10,000 random reference points -> pixels (`reference_to_section`,
  `pir_to_xy`): the largest disagreement (µm, px) and points/s;
* warping to 25 µm, one core: sections/s, brainmap `warp_to_reference` (full 3-D transform)
  against atldld `get_parallel_transform` + `DisplacementField.warp` (parallel simplification),
  on the same images and matrices (each section's best of 7); then brainmap on 1 and 2 worker
  processes, and atldld as its DatasetDownloader runs by default (full-resolution images);
* the reference volume: a 528 x 320 x 456 uint32 label volume (the CCF at 25 µm) written from a
  NRRD file into the chunked store (time, peak RSS), `label_at` on one point at a time (look-ups
  per second: the work of a `reference_to_structure` request without HTTP), and every coronal
  plane read in turn (time, peak RSS; what cutting coronal plates reads), and one pass for
  every label's centroid (what structure centres need);
* plates and look-ups through a store: the same NRRD added as a reference space over an ontology
  of its 2,000 labels (`brainmap reference add`: labels checked, volume written; time, peak RSS),
  every coronal plate cut (`brainmap reference plates --every 25`: 528 plates with label maps,
  atlas drawings and alignment records; time, peak RSS), and `reference_to_structure` requests
  per second over HTTP against `brainmap serve` (one kept-alive connection, then 4 at once).

atldld runs in its own venv, made on first use under the user's cache folder
(``$XDG_CACHE_HOME/brainmap-benchmarks/atldld-0.3.4``, default ``~/.cache``); when it cannot be
installed the benchmark says so and prints brainmap's numbers alone. Targets (issue 13): points
agree within 0.01 px; warping >= 3x atldld on one core; cutting plates under 500 MB peak RSS.
Run: ``.venv/bin/python benchmarks/registration.py [--sections 40] [--no-atldld]``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brainmap.reference.alignment import (
    DataSetAlignment,
    SectionAlignment,
    image_to_reference,
    lift_section,
    lift_volume,
    reference_to_section,
)
from brainmap.reference.centres import label_moments
from brainmap.reference.volume import ReferenceVolume, write_volume
from brainmap.reference.warp import warp_to_reference

ATLDLD = "atldld==0.3.4"
THICKNESS = 25.0
DOWNSAMPLE = 3
IMAGE_SHAPE = (617, 1124, 3)
CCF_SHAPE = (528, 320, 456)
ROUNDS = 7  # each section's best: the machine may be shared, the fastest is least disturbed
FULL_RESOLUTION_SECTIONS = 4
LABELS = 2000
SPACE, ATLAS = 9, 1
STRUCTURE_AT = f"/api/v2/reference_to_structure/{SPACE}.json?x={{p}}&y={{i}}&z={{r}}"
ONE_STRUCTURE = "/api/v2/data/query.json?criteria=model::Structure,rma::criteria,[id$eq1]"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brainmap-benchmarks"

ATLDLD_RUN = """
import json, sys, time
import cv2
import numpy as np
from atldld.sync import get_parallel_transform, pir_to_xy, xy_to_pir
cv2.setNumThreads(1)
data = np.load(sys.argv[1])
out = {}
tsv, tvs, tvr, trv = data["tsv"], data["tvs"], data["tvr"], data["trv"]
numbers, which, xy, pir = data["numbers"], data["which"], data["xy"], data["pir"]
def points():
    to_ref = np.zeros((len(xy), 3)); to_img = np.zeros((len(pir), 3))
    for k in range(len(numbers)):
        mine = which == k
        coords = np.vstack([xy[mine].T, np.full(mine.sum(), numbers[k] * 25.0)])
        to_ref[mine] = xy_to_pir(coords, tsv[k], tvr).T[:, :3]
        to_img[mine] = pir_to_xy(pir[mine].T, tvs[k], trv).T
    return to_ref, to_img
elapsed = []
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    to_ref, to_img = points()
    elapsed.append(time.perf_counter() - start)
np.save(sys.argv[2], to_ref); np.save(sys.argv[3], to_img)
out["points_s"] = min(elapsed)
images = data["images"]
def warp(k):
    corner = np.array([[0.0], [0.0], [numbers[k] * 25.0]], dtype=np.float32)
    p = xy_to_pir(corner, tsv[k], tvr)[0, 0].item()
    df = get_parallel_transform(p, tvs[k], trv, downsample_ref=25, downsample_img=3)
    df.warp(images[k])
best = [float("inf")] * len(numbers)
for _ in range(int(sys.argv[4])):
    for k in range(len(numbers)):
        start = time.perf_counter(); warp(k); best[k] = min(best[k], time.perf_counter() - start)
out["warp_s"] = sum(best)
# atldld's DatasetDownloader fetches full-resolution images by default (downsample_img=0).
full = np.random.default_rng(0).integers(0, 256, size=(4936, 8992, 3), dtype=np.uint8)
times = []
for k in range(int(sys.argv[5])):
    start = time.perf_counter()
    corner = np.array([[0.0], [0.0], [numbers[k] * 25.0]], dtype=np.float32)
    p = xy_to_pir(corner, tsv[k], tvr)[0, 0].item()
    get_parallel_transform(p, tvs[k], trv, downsample_ref=25, downsample_img=0).warp(full)
    times.append(time.perf_counter() - start)
out["full_warp_s"] = min(times)
print(json.dumps(out))
"""


def data_set(sections: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Matrices of one coronal data set, its images and the points to map."""
    tilt = np.radians([0.0, 1.5, -1.2])
    turn_p, turn_i = tilt[1], tilt[2]
    rotate = np.array(
        [
            [1.0, np.sin(turn_i), np.sin(turn_p)],
            [-np.sin(turn_i), 1.0, 0.0],
            [-np.sin(turn_p), 0.0, 1.0],
        ]
    )
    stack = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # (x, y, s) -> (p, i, r)
    tvr = np.column_stack([rotate @ stack, [150.0, 300.0, 200.0]])
    trv = np.linalg.inv(lift_volume(tvr))[:3]
    numbers = np.sort(rng.choice(np.arange(40, 500), size=sections, replace=False)).astype(float)
    tsv, tvs = [], []
    for _ in range(sections):
        angle = np.radians(rng.uniform(-5, 5))
        scale = 1.63 * rng.uniform(0.97, 1.03)
        matrix = np.array(
            [
                [scale * np.cos(angle), -scale * np.sin(angle), rng.uniform(-300, 300)],
                [scale * np.sin(angle), scale * np.cos(angle), rng.uniform(-300, 300)],
                [0.0, 0.0, 1.0],
            ]
        )
        tsv.append(matrix[:2])
        tvs.append(np.linalg.inv(matrix)[:2])
    images = rng.integers(0, 256, size=(sections, *IMAGE_SHAPE), dtype=np.uint8)
    points = 10_000
    return {
        "tsv": np.array(tsv),
        "tvs": np.array(tvs),
        "tvr": tvr,
        "trv": trv,
        "numbers": numbers,
        "images": images,
        "which": rng.integers(0, sections, size=points),
        "xy": rng.uniform(0, [8992, 4936], size=(points, 2)),
        "pir": rng.uniform(0, [13200, 8000, 11400], size=(points, 3)),
    }


def alignments(data: dict[str, np.ndarray]) -> tuple[list[SectionAlignment], DataSetAlignment]:
    sections = [
        SectionAlignment(lift_section(tsv), lift_section(tvs), number)
        for tsv, tvs, number in zip(data["tsv"], data["tvs"], data["numbers"], strict=True)
    ]
    return sections, DataSetAlignment(lift_volume(data["tvr"]), lift_volume(data["trv"]), THICKNESS)


def brainmap_points(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    sections, volume = alignments(data)
    which, xy, pir = data["which"], data["xy"], data["pir"]
    start = time.perf_counter()
    to_ref, to_img = np.zeros((len(xy), 3)), np.zeros((len(pir), 3))
    for k, section in enumerate(sections):
        mine = which == k
        to_ref[mine] = image_to_reference(section, volume, xy[mine])
        found = reference_to_section(section, volume, pir[mine])
        found[:, 2] *= THICKNESS  # atldld answers s' in µm
        to_img[mine] = found
    return to_ref, to_img, time.perf_counter() - start


def warp_all(data: dict[str, np.ndarray], indices: range) -> None:
    cv2.setNumThreads(1)
    sections, volume = alignments(data)
    for k in indices:
        _warp(data, sections, volume, k)


def _warp(
    data: dict[str, np.ndarray], sections: list[SectionAlignment], volume: DataSetAlignment, k: int
) -> None:
    warp_to_reference(data["images"][k], sections[k], volume, "coronal", downsample=DOWNSAMPLE)


def warp_time(data: dict[str, np.ndarray], rounds: int) -> float:
    """Seconds to warp every section once, each section's time the best of `rounds`."""
    cv2.setNumThreads(1)
    sections, volume = alignments(data)
    best = np.full(len(sections), np.inf)
    for _ in range(rounds):
        for k in range(len(sections)):
            start = time.perf_counter()
            _warp(data, sections, volume, k)
            best[k] = min(best[k], time.perf_counter() - start)
    return float(best.sum())


WORKER_DATA: dict[str, np.ndarray] = {}


def _load_worker(path: str) -> None:
    WORKER_DATA.update(np.load(path))


def _warp_share(start: int, stop: int) -> None:
    warp_all(WORKER_DATA, range(start, stop))


def warp_in_processes(path: Path, sections: int, workers: int) -> float:
    """Seconds for `workers` processes, data already loaded, to warp the sections between them."""
    bounds = np.linspace(0, sections, workers + 1).astype(int)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_load_worker, initargs=(str(path),)) as pool:
        pool.starmap(_warp_share, [(0, 1)] * workers)  # warm the workers
        start = time.perf_counter()
        pool.starmap(_warp_share, [(int(a), int(b)) for a, b in itertools.pairwise(bounds)])
        return time.perf_counter() - start


def atldld_python() -> tuple[Path | None, str]:
    """The atldld venv's python, made on first use; or None and why not."""
    venv = CACHE / "atldld-0.3.4"
    python = venv / "bin" / "python"
    if (venv / ".installed").is_file():
        return python, "cached"
    CACHE.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [[base, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", ATLDLD]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            return None, (done.stderr.strip().splitlines() or ["failed"])[-1]
    (venv / ".installed").write_text(ATLDLD + "\n")
    return python, "installed"


def run_atldld(python: Path, path: Path, folder: Path) -> dict[str, Any]:
    to_ref, to_img = folder / "atl_ref.npy", folder / "atl_img.npy"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    rounds = [str(ROUNDS), str(FULL_RESOLUTION_SECTIONS)]
    done = subprocess.run(
        [str(python), "-c", ATLDLD_RUN, str(path), str(to_ref), str(to_img), *rounds],
        capture_output=True, text=True, env=env, timeout=1800, check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["to_ref"], result["to_img"] = np.load(to_ref), np.load(to_img)
    return result


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_volume(root: Path) -> dict[str, float]:
    """A CCF-shaped label volume of blocks (labels 1..2000) as a gzip NRRD, Allen's layout."""
    import nrrd

    p, i, r = np.ogrid[: CCF_SHAPE[0], : CCF_SHAPE[1], : CCF_SHAPE[2]]
    labels = ((p // 8) * 613 + (i // 8) * 37 + r // 12) % LABELS + 1
    header = {"encoding": "gzip", "space directions": np.diag([25.0] * 3)}
    nrrd.write(str(root / "annotation_25.nrrd"), labels.astype(np.uint32), header, index_order="F")
    return {}


def _write_volume(root: Path) -> dict[str, float]:
    start = time.perf_counter()
    write_volume(root / "volume", root / "annotation_25.nrrd")
    return {"write_s": time.perf_counter() - start, "write_peak_mb": _peak_mb()}


def _lookups_per_s(volume: ReferenceVolume, points: np.ndarray) -> float:
    start = time.perf_counter()
    for point in points:
        volume.label_at(point)
    return len(points) / (time.perf_counter() - start)


def _read_volume(root: Path) -> dict[str, float]:
    rng = np.random.default_rng(1)
    volume = ReferenceVolume.open(root / "volume")
    anywhere = rng.uniform(0, [13200, 8000, 11400], size=(2000, 3))
    nearby = rng.uniform(4000, 5500, size=(2000, 3))  # a 1.5 mm cube: a handful of chunks
    numbers = {
        "lookups_cold": _lookups_per_s(volume, anywhere),
        "lookups_near": _lookups_per_s(volume, nearby),
    }
    volume = ReferenceVolume.open(root / "volume")
    start = time.perf_counter()
    for index in range(CCF_SHAPE[0]):
        volume.plane("p", index)
    numbers["planes_s"] = time.perf_counter() - start
    numbers["planes_peak_mb"] = _peak_mb()
    start = time.perf_counter()
    label_moments(volume)
    return numbers | {"moments_s": time.perf_counter() - start}


def _store_with_space(root: Path) -> dict[str, float]:
    """A store holding an ontology of the volume's labels, then the volume added to it."""
    from brainmap.ingest.reference_volume import SpaceRequest, add_reference_space, plan_reference
    from brainmap.store.folder import Store
    from brainmap.store.ontology import write_id_paths
    from brainmap.store.schema import Ontology, Structure, StructureGraph

    store = Store.create(root / "store")
    colours = np.random.default_rng(2).integers(0, 256, size=(LABELS + 1, 3))
    with store.session() as session:
        session.add_all([Ontology(id=1, name="bench"), StructureGraph(id=1, ontology_id=1)])
        session.flush()
        session.add(Structure(id=LABELS + 1, acronym="root", graph_id=1, ontology_id=1))
        session.add_all(
            Structure(id=label, acronym=f"S{label}", graph_id=1, ontology_id=1,
                      parent_structure_id=LABELS + 1, color_hex_triplet=bytes(rgb.tolist()).hex())
            for label, rgb in enumerate(colours[1:], start=1)
        )  # fmt: skip
        session.flush()
        write_id_paths(session, 1)
    start = time.perf_counter()
    request = SpaceRequest(SPACE, "bench CCF", root / "annotation_25.nrrd", structure_graph_id=1)
    add_reference_space(store, plan_reference(store, request))
    store.close()
    return {"add_s": time.perf_counter() - start, "add_peak_mb": _peak_mb()}


def _cut_plates(root: Path) -> dict[str, float]:
    """Every coronal plate of the stored space, as `brainmap reference plates` cuts them."""
    from brainmap.ingest.plates import PlateRequest, cut_plates, plan_plates, record_plates
    from brainmap.store.folder import Store

    store = Store.open(root / "store")
    start = time.perf_counter()
    plan = plan_plates(store, PlateRequest(SPACE, ATLAS, "coronal", 25.0))
    plates = record_plates(store, plan, cut_plates(store, plan)).image_ids
    store.close()
    return {
        "plates": len(plates),
        "plates_s": time.perf_counter() - start,
        "plates_peak_mb": _peak_mb(),
    }


PHASES = {
    "make": _make_volume,
    "write": _write_volume,
    "read": _read_volume,
    "store": _store_with_space,
    "plates": _cut_plates,
}


def _phase(name: str, folder: str, queue: Any) -> None:
    queue.put(PHASES[name](Path(folder)))


def volume_numbers(folder: Path) -> dict[str, float]:
    """Each phase in a fresh process, so each peak RSS is that phase's own."""
    context = multiprocessing.get_context("spawn")
    numbers: dict[str, float] = {}
    for name in PHASES:
        queue = context.Queue()
        child = context.Process(target=_phase, args=(name, str(folder), queue))
        child.start()
        numbers |= queue.get(timeout=1800)
        child.join()
    return numbers


def _structure_requests(
    connection: http.client.HTTPConnection, points: np.ndarray, service: str = STRUCTURE_AT
) -> float:
    """Seconds for one request of `service` per point over `connection`."""
    start = time.perf_counter()
    for p, i, r in points:
        connection.request("GET", service.format(p=p, i=i, r=r))
        reply = json.loads(connection.getresponse().read())
        if not reply["success"]:
            raise RuntimeError(reply["msg"])
    return time.perf_counter() - start


def structure_requests_per_s(root: Path, count: int = 2000, clients: int = 4) -> dict[str, float]:
    """`reference_to_structure` requests/s against `brainmap serve` over the store: one client
    on a kept-alive connection, then `clients` at once (warm: the volume opened first)."""
    from rma import free_port, serve  # benchmarks/rma.py: `brainmap serve` in its own process

    points = np.random.default_rng(5).uniform(0, [13200, 8000, 11400], size=(count, 3)).round(1)
    server = serve(root / "store", port := free_port())
    try:
        connections = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(clients)]
        _structure_requests(connections[0], points[:50])
        one = count / _structure_requests(connections[0], points)
        floor = count / _structure_requests(connections[0], points, ONE_STRUCTURE)
        with ThreadPoolExecutor(clients) as pool:
            start = time.perf_counter()
            list(pool.map(_structure_requests, connections, np.array_split(points, clients)))
            many = count / (time.perf_counter() - start)
        for connection in connections:
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"structure_one": one, "structure_many": many, "rma_one": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=40)
    parser.add_argument("--no-atldld", action="store_true", help="brainmap's numbers only")
    parser.add_argument("--no-volume", action="store_true", help="skip the volume numbers")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    data = data_set(args.sections, np.random.default_rng(13))
    with tempfile.TemporaryDirectory(prefix="brainmap-registration-") as tmp:
        folder = Path(tmp)
        path = folder / "data.npz"
        np.savez(path, **data)
        to_ref, to_img, points_s = brainmap_points(data)
        points_s = min([points_s] + [brainmap_points(data)[2] for _ in range(ROUNDS)])
        warp_all(data, range(1))
        warp_s = warp_time(data, ROUNDS)
        parallel = {n: warp_in_processes(path, args.sections, n) for n in (1, 2)}
        print(f"{args.sections} coronal sections {IMAGE_SHAPE[1]}x{IMAGE_SHAPE[0]} RGB, 25 µm grid")
        print(f"brainmap points: {2 * len(data['xy']) / points_s:,.0f} points/s")
        for workers, seconds in parallel.items():
            print(f"brainmap warp, {workers} processes: {args.sections / seconds:.1f} sections/s")
        python, how = (None, "skipped (--no-atldld)") if args.no_atldld else atldld_python()
        if python is None:
            print(f"brainmap warp, one core: {args.sections / warp_s:.1f} sections/s")
            print(f"atldld 0.3.4: not run: {how}")
        else:
            atl = run_atldld(python, path, folder)
            warp_s = min(warp_s, warp_time(data, ROUNDS))
            pixel = np.abs(atl["to_img"][:, :2] - to_img[:, :2]).max()
            micron = np.abs(atl["to_ref"] - to_ref).max()
            print(
                f"atldld 0.3.4 ({how}): agreement image->reference {micron:.4f} µm, "
                f"reference->image {pixel:.4f} px (max over {len(to_ref):,} points each)"
            )
            print(
                f"atldld points: {2 * len(data['xy']) / atl['points_s']:,.0f} points/s "
                f"(brainmap {atl['points_s'] / points_s:.1f}x)"
            )
            print(f"brainmap warp, one core: {args.sections / warp_s:.1f} sections/s")
            print(
                f"atldld warp, one core: {args.sections / atl['warp_s']:.1f} sections/s "
                f"(brainmap {atl['warp_s'] / warp_s:.2f}x; on 2 processes "
                f"{atl['warp_s'] / parallel[2]:.2f}x)"
            )
            per_section = warp_s / args.sections
            print(f"atldld warp as DatasetDownloader fetches (full resolution 8992x4936): "
                  f"{1 / atl['full_warp_s']:.1f} sections/s; brainmap at the sufficient "
                  f"downsample {DOWNSAMPLE}: {atl['full_warp_s'] / per_section:.1f}x "
                  f"(and 64x fewer pixels to download)")  # fmt: skip
        if not args.no_volume:
            numbers = volume_numbers(folder)
            print(
                f"volume 528x320x456 uint32 from gzip NRRD: written in {numbers['write_s']:.1f} s,"
                f" peak RSS {numbers['write_peak_mb']:.0f} MB"
            )
            print(
                f"label_at one point at a time: {numbers['lookups_cold']:,.0f} look-ups/s "
                f"anywhere in the brain (mostly chunk decoding), "
                f"{numbers['lookups_near']:,.0f}/s within 1.5 mm"
            )
            print(
                f"all 528 coronal planes read: {numbers['planes_s']:.1f} s, "
                f"peak RSS {numbers['planes_peak_mb']:.0f} MB"
            )
            moments = numbers["moments_s"]
            print(f"every label's voxel count and centroid sums (centres): {moments:.1f} s")
            print(
                f"brainmap reference add (labels checked against a {LABELS:,}-structure "
                f"ontology, volume written): {numbers['add_s']:.1f} s, "
                f"peak RSS {numbers['add_peak_mb']:.0f} MB"
            )
            print(
                f"brainmap reference plates, every coronal plate ({numbers['plates']:.0f}, label "
                f"maps + atlas drawings + records): {numbers['plates_s']:.1f} s, "
                f"peak RSS {numbers['plates_peak_mb']:.0f} MB (target < 500 MB)"
            )
            served = structure_requests_per_s(folder)
            print(
                f"reference_to_structure over HTTP (brainmap serve): "
                f"{served['structure_one']:,.0f} requests/s on one connection, "
                f"{served['structure_many']:,.0f}/s from 4 clients (a one-row RMA query, "
                f"the server's floor: {served['rma_one']:,.0f}/s on one connection)"
            )


if __name__ == "__main__":
    main()
