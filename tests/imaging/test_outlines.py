"""Structure outlines from label maps: traced exactly on the pixel edges (holes, several regions
of one structure, touching structures, single pixels), simplified within the tolerance, read
from a coarser level, and drawn as SVG that a real renderer (librsvg, through libvips) turns
back into the regions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import cv2
import numpy as np
import pytest
import pyvips

from brainmap.imaging.annotate import FADE, UNKNOWN
from brainmap.imaging.outlines import (
    Layer,
    Region,
    TracingPlan,
    path_data,
    plan_tracing,
    svg_document,
    tolerance,
    trace_regions,
)

EXACT = TracingPlan(level=0, scale=1, epsilon=0.0)
SVG = "{http://www.w3.org/2000/svg}"


def even_odd(rings: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """The pixels whose centres the rings enclose, by the even-odd rule (numpy, no OpenCV)."""
    height, width = shape
    crossings = np.zeros((height, width + 1), dtype=np.uint8)
    for ring in rings:
        start, end = ring.astype(np.float64), np.roll(ring, -1, axis=0).astype(np.float64)
        for (x0, y0), (x1, y1) in zip(start, end, strict=True):
            if y0 == y1:
                continue
            rows = np.arange(int(np.ceil(min(y0, y1) - 0.5)), int(np.ceil(max(y0, y1) - 0.5)))
            rows = rows[(rows >= 0) & (rows < height)]
            xs = x0 + (rows + 0.5 - y0) * (x1 - x0) / (y1 - y0)
            columns = np.clip(np.ceil(xs - 0.5).astype(np.int64), 0, width)
            np.bitwise_xor.at(crossings, (rows, columns), 1)
    return np.bitwise_xor.accumulate(crossings, axis=1)[:, :width].astype(bool)


def nested_map() -> np.ndarray:
    """Nested regions with holes, a structure in several pieces, touching structures, pixels
    touching by a corner, single pixels, regions on every edge of the map."""
    labels = np.zeros((120, 160), dtype=np.uint32)
    labels[10:110, 10:150] = 1  # a frame around everything below
    labels[20:100, 20:140] = 0  # its hole
    labels[30:90, 30:130] = 2  # an island in the hole, itself with two holes
    labels[40:50, 40:50] = 0
    labels[60:80, 90:120] = 3  # a hole filled by another structure
    labels[65:70, 100:105] = 2  # an island of 2 inside 3: 2 has several regions
    labels[0:5, :] = 4  # the top edge
    labels[115:120, 0:160] = 5  # the bottom edge
    labels[105:115, 0:10] = 5  # ... and the left edge, touching 1's frame
    labels[22, 22] = 6  # single pixels, two touching by a corner: one region
    labels[23, 23] = 6
    labels[25, 60] = 6  # another region of 6
    labels[20:25, 150:160] = 7  # right edge, touching 1 on its left side
    return labels


def speckled_map() -> np.ndarray:
    """Random labels, many touching only by a corner, one of them a large id."""
    rng = np.random.default_rng(5)
    labels = rng.choice(np.array([0, 3, 4, 9, 2**32 - 1], dtype=np.uint32), size=(70, 90))
    labels[rng.random(labels.shape) < 0.5] = 0
    return labels


@pytest.mark.parametrize("labels", [nested_map(), speckled_map()], ids=["nested", "speckled"])
def test_every_region_is_traced_exactly_on_its_pixel_edges(labels: np.ndarray) -> None:
    regions = trace_regions(labels, EXACT)
    for structure in np.unique(labels[labels > 0]):
        mask = labels == structure
        mine = [region for region in regions if region.structure_id == structure]
        components, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        assert len(mine) == components - 1, structure
        drawn = np.zeros_like(mask)
        for region in mine:
            filled = even_odd(list(region.rings), labels.shape)
            assert not (drawn & filled).any()  # regions of one structure never overlap
            drawn |= filled
        assert (drawn == mask).all(), structure
    keys = [(r.structure_id, r.rings[0][0, 1], r.rings[0][0, 0]) for r in regions]
    assert keys == sorted(keys)


def test_holes_are_kept_as_rings_of_their_region() -> None:
    regions = trace_regions(nested_map(), EXACT)
    assert {len(region.rings) for region in regions if region.structure_id == 1} == {2}
    island = max((r for r in regions if r.structure_id == 2), key=lambda r: r.vertices)
    assert len(island.rings) == 3  # the outer boundary and two holes


def test_only_unsigned_label_maps_of_32_bits_are_traced() -> None:
    with pytest.raises(ValueError, match="not int64"):
        trace_regions(np.zeros((4, 4), dtype=np.int64), EXACT)


def test_vertices_are_pixel_corners_in_full_resolution_pixels() -> None:
    labels = np.zeros((10, 12), dtype=np.uint32)
    labels[2:5, 3:9] = 8
    labels[9, 11] = 9
    regions = {region.structure_id: region for region in trace_regions(labels, EXACT)}
    assert sorted(map(tuple, regions[8].rings[0])) == [(3, 2), (3, 5), (9, 2), (9, 5)]
    assert sorted(map(tuple, regions[9].rings[0])) == [(11, 9), (11, 10), (12, 9), (12, 10)]


def blobs(width: int, height: int, seed: int) -> np.ndarray:
    """A label map of overlapping ellipses and rings (smooth and diagonal boundaries)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((height, width), dtype=np.uint32)
    y, x = np.mgrid[0:height, 0:width]
    side = min(width, height)
    for structure in range(1, 13):
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
        ax, ay = rng.uniform(0.08, 0.25, size=2) * side
        angle = rng.uniform(0, np.pi)
        u = ((x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)) / ax
        v = (-(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)) / ay
        inside = u**2 + v**2 < 1
        if structure % 3 == 0:
            inside &= u**2 + v**2 > 0.3  # a ring: its hole shows what lies below
        labels[inside] = 100 + structure
    return labels


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def rendered_structures(svg: bytes, colours: dict[int, tuple[int, int, int]]) -> np.ndarray:
    """The structure whose colour is nearest each pixel of the SVG's fills as librsvg draws
    them (0 where nothing is drawn). The strokes (a darker line on every boundary, as the JPEG
    plate draws) are left out: the fills are the outlines."""
    fills = re.sub(rb' stroke="#[0-9A-F]{6}"', b"", svg)
    pixels = pyvips.Image.svgload_buffer(fills).numpy().astype(np.int64)
    table = np.array(list(colours.values()), dtype=np.int64)
    distance = ((pixels[:, :, np.newaxis, :3] - table) ** 2).sum(axis=3)
    nearest = np.array(list(colours))[distance.argmin(axis=2)]
    nearest[pixels[:, :, 3] < 128] = 0
    return nearest  # type: ignore[no-any-return]


def colours_of(labels: np.ndarray) -> dict[int, tuple[int, int, int]]:
    rng = np.random.default_rng(7)
    return {int(s): tuple(int(c) for c in rng.integers(0, 256, 3)) for s in np.unique(labels) if s}


def test_a_real_renderer_gives_back_each_region_of_the_simplified_drawing() -> None:
    labels = blobs(1200, 900, seed=1)
    plan = plan_tracing([(1200, 900), (600, 450)])
    assert plan == TracingPlan(level=0, scale=1, epsilon=1.0)
    regions = trace_regions(labels, plan)
    colours = colours_of(labels)
    svg = svg_document(1200, 900, [Layer(regions, colours, None, {"id": "atlas-1"})])
    drawn = rendered_structures(svg, colours)
    for structure in colours:
        assert iou(drawn == structure, labels == structure) >= 0.95, structure
    crack_vertices = sum(r.vertices for r in trace_regions(labels, EXACT))
    assert sum(r.vertices for r in regions) * 5 < crack_vertices  # simplified


def test_a_coarser_level_keeps_the_outlines_within_the_tolerance() -> None:
    width, height = 4001, 1601
    labels = blobs(width, height, seed=2)
    labels[1000:1500, 3500:] = 200  # a region on the right edge, past the level's last column
    sizes = [(width >> i, height >> i) for i in range(5)]
    plan = plan_tracing(sizes)
    assert plan.level == 1 and plan.scale == 2
    assert tolerance(width, height) == pytest.approx(2.0005)
    level = labels[::2, ::2][: height // 2, : width // 2]  # nearest neighbour, as the pyramid
    regions = trace_regions(level, plan, (width, height))
    for structure in np.unique(labels[labels > 0]):
        drawn = np.zeros(labels.shape, dtype=bool)
        for region in (r for r in regions if r.structure_id == structure):
            drawn ^= even_odd(list(region.rings), labels.shape)
        assert iou(drawn, labels == structure) >= 0.95, structure
    edge = next(r for r in regions if r.structure_id == 200)
    assert edge.rings[0][:, 0].max() == width


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([(800, 600), (400, 300)], TracingPlan(0, 1, 1.0)),
        ([(10000, 8000), (5000, 4000), (2500, 2000)], TracingPlan(1, 2, 2.0)),
        ([(20000, 9000), (10000, 4500), (5000, 2250), (2500, 1125)], TracingPlan(2, 4, 1.75)),
        ([(20000, 9000), (10000, 4500), (4000, 2000)], TracingPlan(1, 2, 4.5)),  # not halved
        ([(20000, 9000)], TracingPlan(0, 1, 10.0)),
    ],
)
def test_the_plan_picks_the_coarsest_level_within_the_tolerance(
    sizes: list[tuple[int, int]], expected: TracingPlan
) -> None:
    assert plan_tracing(sizes) == expected


def test_simplification_never_loses_a_small_region() -> None:
    labels = np.zeros((50, 50), dtype=np.uint32)
    labels[10, 10] = 1
    labels[20:22, 30] = 2
    regions = trace_regions(labels, TracingPlan(0, 1, 5.0))
    assert [(r.structure_id, r.vertices) for r in regions] == [(1, 4), (2, 4)]
    for region in regions:
        assert (even_odd(list(region.rings), labels.shape) == (labels == region.structure_id)).all()


def test_the_document_names_each_structure_and_paints_it_as_the_jpeg_plate() -> None:
    labels = nested_map()
    regions = trace_regions(labels, EXACT)
    colours = {1: (0, 100, 200), 2: (255, 0, 0)}
    layer = Layer(regions, colours, frozenset({2}), {"id": "atlas-7", "atlas_id": "7"})
    root = ElementTree.fromstring(svg_document(160, 120, [layer]))
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "160",
        "120",
        "0 0 160 120",
    )
    assert root.get("fill-rule") == "evenodd"
    [group] = root.findall(f"{SVG}g")
    assert group.get("atlas_id") == "7"
    paths = group.findall(f"{SVG}path")
    assert len(paths) == len(regions)
    fills = {int(p.get("structure_id", "")): p.get("fill") for p in paths}
    faded = "#" + "".join(f"{round(c * (1 - FADE) + 255 * FADE):02X}" for c in (0, 100, 200))
    assert fills[2] == "#FF0000"  # highlighted: its own colour
    assert fills[1] == faded  # others faded toward white
    unknown = "#" + "".join(f"{round(c * (1 - FADE) + 255 * FADE):02X}" for c in UNKNOWN)
    assert fills[3] == unknown  # no colour: grey, faded too
    for path, region in zip(paths, regions, strict=True):
        assert parse_path(path.get("d", "")) == [ring.tolist() for ring in region.rings]


def parse_path(data: str) -> list[list[list[int]]]:
    """The rings of path data made of ``M x y`` then relative ``l`` steps, each closed by z."""
    rings = []
    for sub in re.findall(r"M([^z]*)z", data):
        start, steps = sub.split("l")
        point = [int(v) for v in start.split()]
        ring = [point]
        numbers = [int(v) for v in re.findall(r"-?\d+", steps)]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            point = [point[0] + dx, point[1] + dy]
            ring.append(point)
        rings.append(ring)
    return rings


def test_path_data_is_absolute_then_relative() -> None:
    ring = np.array([[10, 20], [30, 20], [30, 5], [10, 5]])
    hole = np.array([[12, 18], [12, 7], [28, 7]])
    assert path_data([ring, hole]) == "M10 20l20 0 0-15-20 0zM12 18l0-11 16 0z"


def test_an_empty_drawing_is_a_valid_document() -> None:
    root = ElementTree.fromstring(svg_document(30, 20, []))
    assert root.findall(f"{SVG}g") == [] and root.get("width") == "30"
    assert Region(1, ()).vertices == 0
