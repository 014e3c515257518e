"""The palettes painting a store's annotation plates, read and built once per structure graph.

A graph's `StructurePalette` (every structure's colour and id path) is read from the store by
the first request for one of its plates and kept; its digest is part of the plates' ETags, so a
changed ontology changes their validators. The lookup tables of a graph and a highlight
(`PlatePalette`) are built by the first render that paints with them, never for a 304 or a
cached response, and kept for the next renders. Used from worker threads, under one lock.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from sqlalchemy.orm import Session

from brainmap.imaging.annotate import PlatePalette
from brainmap.store.ontology import StructurePalette

PLATE_PALETTES = 32
"""Lookup tables kept (one per graph and highlight; a few MiB each for Allen's ids)."""

Highlight = tuple[int, ...] | None
"""The structures a request highlights (``structure=``), their descendants included."""


@dataclass(frozen=True)
class PlateColours:
    """How one response paints a label map: the graph's palette, its digest, the highlight."""

    graph_id: int
    graph: StructurePalette
    digest: str
    highlight: Highlight


class PaletteCache:
    """Structure palettes by graph id, and plate palettes by graph id and highlight."""

    def __init__(self, plates: int = PLATE_PALETTES) -> None:
        self._lock = threading.Lock()
        self._graphs: dict[int, tuple[StructurePalette, str]] = {}
        self._plates: LRUCache[tuple[int, Highlight], PlatePalette] = LRUCache(plates)

    def colours(self, session: Session, graph_id: int, highlight: Highlight) -> PlateColours:
        """The graph's palette, read through `session` the first time it is asked for."""
        with self._lock:
            found = self._graphs.get(graph_id)
            if found is None:
                graph = StructurePalette.load(session, graph_id)
                found = self._graphs[graph_id] = (graph, _digest(graph))
        return PlateColours(graph_id, *found, highlight)

    def plate(self, colours: PlateColours) -> PlatePalette:
        """The lookup tables painting with `colours`, built the first time they are needed."""
        key = (colours.graph_id, colours.highlight)
        with self._lock:
            palette = self._plates.get(key)
            if palette is None:
                graph, highlight = colours.graph, colours.highlight
                faded = graph.with_descendants(highlight) if highlight else None
                palette = self._plates[key] = PlatePalette.build(graph.colours, faded)
        return palette


def _digest(graph: StructurePalette) -> str:
    """A digest of everything that decides a graph's plate colours."""
    content = repr((sorted(graph.colours.items()), sorted(graph.id_paths.items())))
    return hashlib.sha1(content.encode()).hexdigest()
