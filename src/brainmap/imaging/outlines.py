"""Structure outlines traced from an annotation label map, and the SVG drawing of a plate.

Every connected region (8-connected) of one label becomes one `Region`: its outer boundary and
the boundaries of its holes, as closed rings on the pixel edges (crack edges), so that filling
the rings with the even-odd rule gives back exactly the region's pixels before simplification.
OpenCV traces pixel centres; the mask is traced at twice its size and every vertex is snapped
to the pixel edge it lies next to, which is the crack edge. Rings are then simplified with
Douglas-Peucker (`cv2.approxPolyDP`); a ring that simplification would reduce to less than a
triangle is kept as traced, so no region is ever lost.

A label map may be read at a coarser level of its pyramid (every ``scale`` pixels of the full
resolution, picked by nearest neighbour): coordinates are multiplied back to full-resolution
pixels and a boundary on the level's last row or column is moved to the image's edge.
`plan_tracing` picks the coarsest level whose error, with the simplification's, stays within
the plate's tolerance (`tolerance`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import cv2
import numpy as np

from brainmap.imaging.annotate import BACKGROUND, BOUNDARY_SHADE, FADE, UNKNOWN, Colour

BAND_ROWS = 256
"""Rows of the label map looked up at once when classing its pixels."""
TOLERANCE_FRACTION = 2000
"""A plate's outlines may stray from its pixels by 1/2000 of its longer side (below what a
screen shows of the whole plate), and never less than one pixel."""


@dataclass(frozen=True)
class Region:
    """One connected region of a structure: its outer ring, then its holes' rings; each ring is
    an (n, 2) array of (x, y) vertices in full-resolution pixels (pixel (x, y) covers
    [x, x + 1] x [y, y + 1])."""

    structure_id: int
    rings: tuple[np.ndarray, ...]

    @property
    def vertices(self) -> int:
        return sum(len(ring) for ring in self.rings)


@dataclass(frozen=True)
class TracingPlan:
    """Which pyramid level to trace (every `scale` full-resolution pixels) and the
    simplification's `epsilon` in that level's pixels."""

    level: int
    scale: int
    epsilon: float


def tolerance(width: int, height: int) -> float:
    """How far, in full-resolution pixels, a plate's outlines may stray from its label map."""
    return max(1.0, max(width, height) / TOLERANCE_FRACTION)


def plan_tracing(sizes: Sequence[tuple[int, int]]) -> TracingPlan:
    """The plan for a pyramid whose levels have `sizes` (width, height; the full resolution
    first): the coarsest level halving each step whose picking error (``scale - 1`` pixels)
    is at most half the tolerance; the simplification takes the rest."""
    width, height = sizes[0]
    allowed = tolerance(width, height)
    level = 0
    for index, (level_width, level_height) in enumerate(sizes):
        scale = 1 << index
        if scale - 1 > allowed / 2:
            break
        if (level_width, level_height) == (width // scale, height // scale) and min(
            level_width, level_height
        ) > 0:
            level = index
    scale = 1 << level
    return TracingPlan(level, scale, (allowed - (scale - 1)) / scale)


def trace_regions(
    labels: np.ndarray, plan: TracingPlan, size: tuple[int, int] | None = None
) -> list[Region]:
    """Every connected region of every non-zero label of `labels` (a 2-D label map of unsigned
    integers of at most 32 bits, at the plan's level), by structure id then position. `size`
    is the full-resolution (width, height), by default the level's size times the scale.

    Regions are found class by class (`_classes`: labels that touch are in different classes),
    so each is traced within its own bounding box, whatever the rest of its structure."""
    if labels.dtype.kind != "u" or labels.dtype.itemsize > 4:
        raise ValueError(
            f"label maps hold unsigned integers of at most 32 bits, not {labels.dtype}"
        )
    height, width = labels.shape
    full = size or (width * plan.scale, height * plan.scale)
    classes = _classes(labels)
    regions: list[Region] = []
    for kind in range(1, int(classes.max(initial=0)) + 1):
        regions += _class_regions(labels, classes == kind, plan, full)
    regions.sort(key=lambda region: (region.structure_id, *region.rings[0][0, ::-1].tolist()))
    return regions


def _class_regions(
    labels: np.ndarray, members: np.ndarray, plan: TracingPlan, full: tuple[int, int]
) -> list[Region]:
    """The regions of one class, whose pixels are `members`: its 8-connected components, each
    traced within its bounding box."""
    count, components, boxes, _ = cv2.connectedComponentsWithStats(
        members.view(np.uint8), connectivity=8, ltype=cv2.CV_32S
    )
    regions = []
    for index in range(1, count):
        left, top, box_width, box_height = (int(v) for v in boxes[index, :4])
        mask = components[top : top + box_height, left : left + box_width] == index
        structure_id = int(labels[top, left + int(np.argmax(mask[0]))])
        offset = np.array((left, top))
        for rings in _trace_mask(mask):
            simple = (_simplify(ring, plan.epsilon) + offset for ring in rings)
            placed = tuple(_to_full(ring, plan.scale, labels.shape, full) for ring in simple)
            regions.append(Region(structure_id, placed))
    return regions


def _classes(labels: np.ndarray) -> np.ndarray:
    """Each pixel's class (0 for label 0): labels touching by a side or a corner never share a
    class, so an 8-connected region of one class lies in one label. Classes are given greedily,
    labels with the most neighbours first: a handful for an atlas plate."""
    pairs = _touching(labels)
    ids = np.unique(np.concatenate([pairs.ravel(), labels[:1, :1].ravel()]))
    neighbours: dict[int, set[int]] = {int(label): set() for label in ids}
    for first, second in pairs.tolist():
        neighbours[first].add(second)
        neighbours[second].add(first)
    classes: dict[int, int] = {0: 0}
    for label in sorted(neighbours, key=lambda label: -len(neighbours[label])):
        if label != 0:
            taken = {classes.get(other) for other in neighbours[label]}
            classes[label] = next(c for c in range(1, len(taken) + 2) if c not in taken)
    kind = np.uint8 if max(classes.values()) <= np.iinfo(np.uint8).max else np.uint16
    table = np.array([classes[int(label)] for label in ids], dtype=kind)
    mapped = np.empty(labels.shape, dtype=kind)
    for top in range(0, labels.shape[0], BAND_ROWS):  # bounded temporaries
        band = labels[top : top + BAND_ROWS]
        mapped[top : top + BAND_ROWS] = table[np.searchsorted(ids, band)]
    return mapped


def _touching(labels: np.ndarray) -> np.ndarray:
    """Every pair of different labels (smaller first) that touch by a side or a corner."""
    neighbours = (
        (labels[:, :-1], labels[:, 1:]),
        (labels[:-1, :], labels[1:, :]),
        (labels[:-1, :-1], labels[1:, 1:]),
        (labels[:-1, 1:], labels[1:, :-1]),
    )
    keys = []
    for first, second in neighbours:
        differ = first != second
        a, b = first[differ].astype(np.uint64), second[differ].astype(np.uint64)
        keys.append((np.minimum(a, b) << np.uint64(32)) | np.maximum(a, b))
    unique = np.unique(np.concatenate(keys))
    return np.stack([unique >> np.uint64(32), unique & np.uint64(0xFFFFFFFF)], axis=1).astype(
        np.int64
    )


def _trace_mask(mask: np.ndarray) -> list[list[np.ndarray]]:
    """The crack-edge rings of a boolean mask, per connected region (outer ring first)."""
    padded = np.pad(mask, 1).view(np.uint8)
    doubled = cv2.resize(padded, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST_EXACT)
    contours, hierarchy = cv2.findContours(doubled, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    # on the doubled grid a vertex p lies in pixel p // 2 (less the padding), on its left or
    # upper half when p is even: the crack edge it stands for is ceil(p / 2)
    rings = [_without_repeats((contour[:, 0, :].astype(np.int64) - 1) // 2) for contour in contours]
    regions: dict[int, list[np.ndarray]] = {}
    for index, (_next, _previous, _child, parent) in enumerate(hierarchy[0]):
        if parent < 0:
            regions.setdefault(index, []).insert(0, rings[index])
        else:
            regions.setdefault(int(parent), []).append(rings[index])
    return list(regions.values())


def _without_repeats(ring: np.ndarray) -> np.ndarray:
    """The ring without consecutive duplicate vertices and vertices inside straight runs."""
    kept: np.ndarray = ring[np.any(ring != np.roll(ring, 1, axis=0), axis=1)]
    if len(kept) < 3:
        return kept
    before, after = np.roll(kept, 1, axis=0), np.roll(kept, -1, axis=0)
    turn = (kept[:, 0] - before[:, 0]) * (after[:, 1] - kept[:, 1]) - (
        kept[:, 1] - before[:, 1]
    ) * (after[:, 0] - kept[:, 0])
    straight: np.ndarray = kept[turn != 0]
    return straight


def _simplify(ring: np.ndarray, epsilon: float) -> np.ndarray:
    """Douglas-Peucker within `epsilon`; a ring it would reduce below a triangle stays whole."""
    simpler = cv2.approxPolyDP(ring.astype(np.int32).reshape(-1, 1, 2), epsilon, closed=True)
    return ring if len(simpler) < 3 else simpler[:, 0, :].astype(np.int64)


def _to_full(
    ring: np.ndarray, scale: int, level_shape: tuple[int, ...], full: tuple[int, int]
) -> np.ndarray:
    """Level crack-edge vertices in full-resolution pixels; the level's far edges are the
    image's (a level drops the last partial block of pixels)."""
    placed = ring * scale
    for axis, (level_size, full_size) in enumerate(
        ((level_shape[1], full[0]), (level_shape[0], full[1]))
    ):
        placed[ring[:, axis] >= level_size, axis] = full_size
    return placed


@dataclass(frozen=True)
class Layer:
    """One atlas's drawing of a plate: its regions, the colours of its structure graph, the
    structures shown at full colour when some are highlighted (None: all), and the attributes
    its SVG group carries."""

    regions: Sequence[Region]
    colours: Mapping[int, Colour]
    highlight: frozenset[int] | None
    attributes: Mapping[str, str]


def svg_document(width: int, height: int, layers: Iterable[Layer]) -> bytes:
    """The SVG of a `width` x `height` plate: one group per layer, one path per region (its
    holes as further subpaths, filled even-odd) with its ``structure_id``, filled with the
    structure's colour and stroked in a darker shade, one screen pixel wide whatever the zoom."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" fill-rule="evenodd" '
        'stroke-width="1" stroke-linejoin="round">\n',
        "<style>path{vector-effect:non-scaling-stroke}</style>\n",
    ]
    for layer in layers:
        attributes = "".join(
            f" {name}={quoteattr(value)}" for name, value in layer.attributes.items()
        )
        parts.append(f"<g{attributes}>\n")
        for region in layer.regions:
            fill = _colour(layer, region.structure_id)
            stroke = tuple(round(channel * BOUNDARY_SHADE) for channel in fill)
            parts.append(
                f'<path structure_id="{region.structure_id}" fill="{_hex(fill)}" '
                f'stroke="{_hex(stroke)}" d="{path_data(region.rings)}"/>\n'
            )
        parts.append("</g>\n")
    parts.append("</svg>\n")
    return "".join(parts).encode()


def path_data(rings: Iterable[np.ndarray]) -> str:
    """SVG path data for closed rings: each an absolute move, then relative lines."""
    subpaths = []
    for ring in rings:
        steps = np.diff(ring, axis=0).ravel()
        lines = " ".join(map(str, steps.tolist())).replace(" -", "-")
        subpaths.append(f"M{ring[0, 0]} {ring[0, 1]}l{lines}z")
    return "".join(subpaths)


def _colour(layer: Layer, structure_id: int) -> Colour:
    """A structure's colour in a layer: its own, grey when unknown, faded toward white when
    other structures are highlighted (as the JPEG plate does)."""
    colour = layer.colours.get(structure_id, UNKNOWN)
    if layer.highlight is None or structure_id in layer.highlight:
        return colour
    white = BACKGROUND[0]
    return (
        round(colour[0] * (1 - FADE) + white * FADE),
        round(colour[1] * (1 - FADE) + white * FADE),
        round(colour[2] * (1 - FADE) + white * FADE),
    )


def _hex(colour: Sequence[int]) -> str:
    return "#" + "".join(f"{channel:02X}" for channel in colour)
