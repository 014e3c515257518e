"""The phantom's modalities: Nissl plates, ISH sections with expression masks, and 3-channel
12-bit connectivity sections with projection masks, all drawn from one coarse label map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pyvips

from brainmap.demo import phantom_pixels as px
from brainmap.demo.phantom_anatomy import labels_on_plane
from brainmap.demo.phantom_ontology import REGIONS, inherited, lineage
from brainmap.demo.phantom_space import Placement, brain_points

NISSL = px.stain_table((246, 243, 248), (0.62, 1.0, 0.3))
ISH = px.stain_table((241, 239, 243), (0.9, 1.05, 0.55))
SLIDE = 6  # optical density of bare glass: the background is not pure white


@dataclass(frozen=True, eq=False)
class Section:
    """One cut to render: where it lies (its size, pixel size and alignments) and the factor of
    the coarse grid on which anatomy is decided."""

    placement: Placement
    factor: int

    @property
    def width(self) -> int:
        return self.placement.width

    @property
    def height(self) -> int:
        return self.placement.height

    @property
    def step(self) -> float:
        """Millimetres per full-resolution pixel."""
        return self.placement.step

    def _grid(self) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """The full-resolution pixel (x, y) of each coarse block's centre (pixels ``k * factor``
        to ``k * factor + factor - 1``), and the coarse grid's shape."""
        shape = math.ceil(self.height / self.factor), math.ceil(self.width / self.factor)
        y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64) * self.factor
        centre = (self.factor - 1) / 2
        return x + centre, y + centre, shape

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Brain coordinates (mm) of the coarse grid, on the section's plane."""
        x, y, _ = self._grid()
        return brain_points(self.placement, x, y)

    @cached_property
    def coarse(self) -> np.ndarray:
        """Structure ids on the coarse grid (the plane's labels, blob by blob)."""
        x, y, shape = self._grid()
        step, (left, top) = float(self.factor), (x[0, 0], y[0, 0])
        xs, ys = np.array([left, left, left + step]), np.array([top, top + step, top])
        origin, below, beside = np.column_stack(brain_points(self.placement, xs, ys))
        return labels_on_plane(tuple(origin), tuple(below - origin), tuple(beside - origin), shape)

    def box(self, margin: float) -> tuple[int, int, int, int]:
        """Full-resolution ``x, y, width, height`` of the tissue, grown by `margin` mm."""
        rows, columns = np.nonzero(self.coarse)
        grow = round(margin / self.step)
        left = max(0, int(columns.min()) * self.factor - grow)
        top = max(0, int(rows.min()) * self.factor - grow)
        right = min(self.width, (int(columns.max()) + 1) * self.factor + grow)
        bottom = min(self.height, (int(rows.max()) + 1) * self.factor + grow)
        return left, top, right - left, bottom - top

    def up(self, field: np.ndarray) -> pyvips.Image:
        """A coarse field at full resolution."""
        return px.upsample(field, self.factor, self.width, self.height)

    def texture(self, tile: pyvips.Image, offset: int) -> pyvips.Image:
        return px.texture(tile, self.width, self.height, offset)


def _by_label(values: dict[int, float]) -> np.ndarray:
    """Lookup array: structure id -> value (0 for unknown ids, including background 0)."""
    table = np.zeros(max(region.id for region in REGIONS) + 1, np.float32)
    for id_, value in values.items():
        table[id_] = value
    return table


DENSITY = _by_label({region.id: region.density for region in REGIONS})
TISSUE = _by_label({region.id: float(region.density > 0) for region in REGIONS})
FIBRE = _by_label({region.id: float("fiber" in lineage(region.acronym)) for region in REGIONS})


def _u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def _u16(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(values), 0, px.TWELVE_BIT_MAX).astype(np.uint16)


def label_map(section: Section) -> pyvips.Image:
    """The annotation: uint32 structure ids at full resolution."""
    return px.labels(section.coarse, section.factor, section.width, section.height)


def nissl(section: Section, offset: int) -> pyvips.Image:
    """A Nissl-stained plate: violet cell bodies, densest in the cell-rich structures."""
    tissue, density = TISSUE[section.coarse], DENSITY[section.coarse]
    cells = section.texture(px.cell_tile(11, 15000, 1.8), offset)
    base = section.up(_u8(SLIDE + tissue * 14 + density * 36))
    stained = px.modulate(section.up(_u8(density * 235)), cells)
    return px.colour(base + stained, NISSL)


def expression(section: Section, levels: dict[str, float]) -> np.ndarray:
    """Coarse expression level (0..255) of a gene with `levels` by acronym."""
    per_region = _by_label({r.id: inherited(levels, r.acronym) for r in REGIONS})
    return _u8(per_region[section.coarse] * TISSUE[section.coarse] * 235)


def ish(section: Section, level: np.ndarray, offset: int) -> tuple[pyvips.Image, pyvips.Image]:
    """An ISH section (pale tissue, purple-blue labelled cells) and its expression mask."""
    tissue, density = TISSUE[section.coarse], DENSITY[section.coarse]
    cells = section.texture(px.cell_tile(23, 16000, 2.2), offset)
    diffuse = section.up(_u8(SLIDE + tissue * 12 + level / 4))
    cellular = px.modulate(section.up(_u16(density * 30 + level)), cells)
    image = px.colour(diffuse + cellular, ISH)
    return image, px.colour(px.modulate(section.up(level), cells), px.heat_table(24))


@dataclass(frozen=True)
class Injection:
    """A tracer injection: centre (mm), radius (mm) and projection strengths by acronym.

    Strengths apply on the injected side; `contra` scales them on the other hemisphere.
    """

    center: tuple[float, float, float]
    radius: float
    targets: dict[str, float]
    contra: float


def projection(section: Section, injection: Injection) -> np.ndarray:
    """Coarse anterograde signal (12-bit) of `injection` on this section."""
    x, y, z = section.points()
    cx, cy, cz = injection.center
    per_region = _by_label({r.id: inherited(injection.targets, r.acronym) for r in REGIONS})
    same_side = np.sign(x) == np.sign(cx)
    strength = per_region[section.coarse] * np.where(same_side, 1.0, injection.contra)
    distance = np.sqrt((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2)
    spread = np.exp(-((distance / (4.0 * injection.radius)) ** 2))
    core = 6000.0 * np.exp(-((distance / injection.radius) ** 2))
    return _u16((strength * 1000.0 * (0.45 + 0.55 * spread) + core) * TISSUE[section.coarse])


@cache
def _fluorescence_tile() -> pyvips.Image:
    """Three-band texture over a floor: cell bodies (red), axons (green), flat (blue)."""
    cells = px.cell_tile(31, 1500, 4.5).numpy().astype(np.float32) * 0.4 + 150
    axons = px.fibre_tile(37, 700).numpy().astype(np.float32) * 0.75 + 64
    flat = np.full_like(cells, 255)
    return px.as_image(_u8(np.dstack([cells, axons, flat])))


def fluorescence(
    section: Section, signal: np.ndarray, offset: int
) -> tuple[pyvips.Image, pyvips.Image]:
    """A 3-channel 12-bit section (red autofluorescence, green tracer, blue empty) and its
    projection mask. Every channel stays below 4096 by construction."""
    coarse = section.coarse
    tissue, density, fibre = TISSUE[coarse], DENSITY[coarse], FIBRE[coarse]
    texture = section.texture(_fluorescence_tile(), offset)
    red = tissue * 240 + density * 560 + fibre * 500
    levels = section.up(_u16(np.dstack([red, signal, tissue * 24])))
    image = px.modulate(levels, texture).cast("ushort")
    mask = px.modulate(section.up(signal), texture[1], 12)
    return image, px.colour(mask, px.heat_table(20))
