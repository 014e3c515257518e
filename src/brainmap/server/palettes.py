"""The palettes painting a store's annotation plates, built once per state of a structure graph.

Every plate request reads its graph's colours and id paths (one query) and digests them: the
digest is part of the plates' ETags, so an ontology changed under a running server (say by
``brainmap import``) changes their validators and their pixels. What is expensive is built once
per digest and kept: the graph's `StructurePalette`, and the lookup tables of a graph and a
highlight (`PlatePalette`), which only a render builds, never a 304 or a cached response. Used
from worker threads, under one lock.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from sqlalchemy.orm import Session

from brainmap.imaging.annotate import PlatePalette
from brainmap.store.ontology import StructurePalette, colour_rows

PLATE_PALETTES = 32
"""Lookup tables kept (one per graph and highlight; a few MiB each for Allen's ids)."""
GRAPHS = 16
"""Structure palettes kept (one per state of a graph)."""

Highlight = tuple[int, ...] | None
"""The structures a request highlights (``structure=``), their descendants included."""


@dataclass(frozen=True)
class PlateColours:
    """How one response paints a label map: the graph's palette, its digest, the highlight."""

    graph: StructurePalette
    digest: str
    highlight: Highlight


class PaletteCache:
    """Structure palettes by graph digest, and plate palettes by digest and highlight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graphs: LRUCache[str, StructurePalette] = LRUCache(GRAPHS)
        self._plates: LRUCache[tuple[str, Highlight], PlatePalette] = LRUCache(PLATE_PALETTES)

    def colours(self, session: Session, graph_id: int, highlight: Highlight) -> PlateColours:
        """The graph's palette as the store holds it now."""
        rows = colour_rows(session, graph_id)
        digest = hashlib.sha1(repr(rows).encode()).hexdigest()
        with self._lock:
            graph = self._graphs.get(digest)
            if graph is None:
                graph = self._graphs[digest] = StructurePalette.from_rows(rows)
        return PlateColours(graph, digest, highlight)

    def plate(self, colours: PlateColours) -> PlatePalette:
        """The lookup tables painting with `colours`, built the first time they are needed."""
        key = (colours.digest, colours.highlight)
        with self._lock:
            palette = self._plates.get(key)
            if palette is None:
                graph, highlight = colours.graph, colours.highlight
                faded = graph.with_descendants(highlight) if highlight else None
                palette = self._plates[key] = PlatePalette.build(graph.colours, faded)
        return palette
