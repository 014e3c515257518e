"""Direct tile reads (`brainmap.pyramid.tiles`) against the libraries' own reads, per request.

Writes three pyramids with `write_pyramid` (3,072 x 2,304: JPEG YCbCr RGB; 12-bit RGB in uint16,
deflate with the horizontal predictor; uint32 labels, deflate with the predictor) and times,
in interleaved rounds (each side's best round counts: the machine may be shared), one thread,
libvips with one worker thread as the server runs it:

* open: `local.Pyramid` (tifffile's tile index of the first page and of the level read) against
  libvips opening that page;
* tile decode: brainmap's decoder of the tiles of the first level (bytes already read, decoded
  tiles kept) against tifffile's own `TiffPage.decode` (imagecodecs): the same call for deflate
  pages, simplejpeg against imagecodecs' JPEG decoder for JPEG pages;
* level decode: the whole 1,536 x 1,152 level through `TileReader.region` with no tile cached,
  against tifffile's `TiffPage.asarray` and libvips' read of the page;
* requests through render's direct path (`imaging.render.read_region`): 1,000 x 750 regions at
  full resolution at random places, and the whole image at downsample 2, with no tile cached
  and with the tiles cached, against the same requests through libvips' region read.

Ratios are peer time / brainmap time: above 1, brainmap's path is faster.

    .venv/bin/python benchmarks/tiles.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips
import tifffile

from brainmap.geometry import ImageExtent, RegionPlan, plan_region
from brainmap.imaging import render
from brainmap.pyramid.local import Pyramid
from brainmap.pyramid.tiers import tier_count
from brainmap.pyramid.tiles import TILE_CACHE
from brainmap.pyramid.writer import PyramidKind, write_pyramid

WIDTH, HEIGHT = 3072, 2304
KINDS = {
    "JPEG RGB": PyramidKind.RGB8,
    "deflate 16-bit": PyramidKind.LOSSLESS,
    "uint32 labels": PyramidKind.LABELS,
}
REGIONS = 16
"""Random regions a region row reads in every round."""

Action = Callable[[], object]


@dataclass(frozen=True)
class Row:
    """One measurement: brainmap's action and its named peers, each doing `count` units."""

    name: str
    unit: str
    count: int
    brainmap: Action
    peers: dict[str, Action]


def pixels(kind: PyramidKind) -> np.ndarray:
    """Structured content plus noise, so that JPEG and deflate have work to do."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    if kind is PyramidKind.LABELS:
        return ((x // 97) * 1_000_003 + (y // 61) * 7 + (x * y // 4096) % 5).astype(np.uint32)
    noise = rng.integers(0, 9, (HEIGHT, WIDTH, 3))
    pattern = np.stack([x, y, (x * y) // 64], axis=2) + noise
    if kind is PyramidKind.LOSSLESS:
        return (pattern * 3 % 4096).astype(np.uint16)
    return (pattern % 256).astype(np.uint8)


def cold(action: Action) -> Action:
    """`action` with an empty tile cache."""

    def run() -> object:
        TILE_CACHE.clear()
        return action()

    return run


def each(plans: list[RegionPlan], read: Callable[[RegionPlan], object], *, clear: bool) -> Action:
    """Read every one of `plans` (the same work in every round), each with an empty tile cache
    when `clear`."""

    def run() -> None:
        for plan in plans:
            if clear:
                TILE_CACHE.clear()
            read(plan)

    return run


def through_libvips(pyramid: Pyramid, plan: RegionPlan) -> np.ndarray:
    """render's read of `plan` with every region streamed by libvips."""
    direct = render.DIRECT_READ_BYTES
    render.DIRECT_READ_BYTES = 0
    try:
        pixels: np.ndarray = render.read_region(pyramid, plan).numpy()
        return pixels
    finally:
        render.DIRECT_READ_BYTES = direct


def rows_for(label: str, path: Path, tiff: tifffile.TiffFile) -> list[Row]:
    """The rows of the pyramid file at `path`, open in `tiff` for the peers."""
    pyramid = Pyramid(path)
    reader = pyramid.tiles
    assert reader is not None
    page0, page1 = tiff.pages[0], tiff.pages[1]
    assert isinstance(page0, tifffile.TiffPage) and isinstance(page1, tifffile.TiffPage)
    level0 = reader.level(0)
    assert level0 is not None
    tiles = [
        (reader.read_bytes(offset, count), index)
        for index, (offset, count) in enumerate(zip(level0.offsets, level0.counts, strict=True))
    ]
    decode_page = page0.decode
    tables = page0.jpegtables

    # the decoded tiles are kept until all are decoded, as the tile cache keeps them
    def brainmap_tiles() -> object:
        return [level0.decode(data, index) for data, index in tiles]

    def tifffile_tiles() -> object:
        return [decode_page(data, index, jpegtables=tables) for data, index in tiles]

    def opened() -> object:
        return Pyramid(path).level_format(2)

    def vips_opened() -> object:
        return pyvips.Image.new_from_file(str(path), page=2, access="random").width

    extent = ImageExtent(0, 0, WIDTH, HEIGHT, WIDTH, HEIGHT, tier_count(WIDTH, HEIGHT))
    rng = np.random.default_rng(5)
    boxes = [
        plan_region(
            extent,
            left=int(rng.integers(0, WIDTH - 1000)),
            top=int(rng.integers(0, HEIGHT - 750)),
            width=1000,
            height=750,
        )
        for _ in range(REGIONS)
    ]
    whole = [plan_region(extent, downsample=2)]
    nearest = label == "uint32 labels"

    def direct(plan: RegionPlan) -> object:
        return render.read_region(pyramid, plan, nearest=nearest).numpy()

    def libvips(plan: RegionPlan) -> object:
        return through_libvips(pyramid, plan)

    width1, height1 = page1.imagewidth, page1.imagelength
    rows = [
        Row(f"{label}: open", "open", 1, opened, {"libvips open": vips_opened}),
        Row(
            f"{label}: tile decode",
            "tile",
            len(tiles),
            brainmap_tiles,
            {"tifffile TiffPage.decode": tifffile_tiles},
        ),
        Row(
            f"{label}: level decode",
            "level",
            1,
            cold(lambda: reader.region(1, 0, 0, width1, height1)),
            {
                "tifffile asarray": lambda: page1.asarray(maxworkers=1),
                "libvips": lambda: pyvips.Image.new_from_file(str(path), page=1).numpy(),
            },
        ),
    ]
    for name, plans in (("1000 x 750 region", boxes), ("whole at downsample 2", whole)):
        libvips_read = each(plans, libvips, clear=False)
        for state, clear in (("cold", True), ("cached", False)):
            rows.append(
                Row(
                    f"{label}: {name}, {state}",
                    "request",
                    len(plans),
                    each(plans, direct, clear=clear),
                    {"libvips": libvips_read},
                )
            )
    return rows


def best_times(actions: dict[str, Action], rounds: int, budget: float) -> dict[str, float]:
    """Seconds per call of each action: the best of `rounds` interleaved rounds, each round
    repeating an action for about `budget` seconds (after a first, untimed call)."""
    repeats = {}
    for name, action in actions.items():
        start = time.perf_counter()
        action()
        repeats[name] = max(1, int(budget / max(time.perf_counter() - start, 1e-6)))
    best = dict.fromkeys(actions, float("inf"))
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.perf_counter()
            for _ in range(repeats[name]):
                action()
            best[name] = min(best[name], (time.perf_counter() - start) / repeats[name])
    return best


def report(rows: list[Row], rounds: int, budget: float) -> None:
    print(f"{'measurement':46} {'brainmap':>13} {'peer':>13}  ratio  peer")
    for row in rows:
        times = best_times({"brainmap": row.brainmap, **row.peers}, rounds, budget)
        mine = times.pop("brainmap") / row.count
        for peer, seconds in times.items():
            theirs = seconds / row.count
            print(
                f"{row.name:46} {_duration(mine, row.unit):>13} {_duration(theirs, row.unit):>13}"
                f" {theirs / mine:6.2f}  {peer}"
            )


def _duration(seconds: float, unit: str) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:7.1f} us/{unit}"
    return f"{seconds * 1e3:7.2f} ms/{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds per action a round")
    args = parser.parse_args()
    pyvips.concurrency_set(1)
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as files:
        rows = []
        for label, kind in KINDS.items():
            path = Path(folder) / f"{kind.value}.tif"
            write_pyramid(pixels(kind), path, kind)
            rows += rows_for(label, path, files.enter_context(tifffile.TiffFile(path)))
        report(rows, args.rounds, args.budget)


if __name__ == "__main__":
    main()
