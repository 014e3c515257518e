"""The reference spaces a server reads: their annotation volumes, opened once from the store's
pixel root (a folder or an object store) and kept while used, and their structure centres,
computed once (one pass over the volume for all of a space's centres), for the last few spaces
used."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from starlette.applications import Starlette

from brainmap.errors import NotFound
from brainmap.reference.centres import LabelMoments, label_moments, structure_centres
from brainmap.reference.volume import ReferenceVolume
from brainmap.store.alignments import SpaceVolumes
from brainmap.store.folder import Store
from brainmap.store.pixels import PixelRoot

SPACES_HELD = 4
"""Reference spaces whose open volume and structure centres are kept."""
VOLUME_CACHE_BYTES = 32 << 20
"""Decoded annotation chunks kept per open volume (a point reads one 64³ chunk: 1 MB)."""
SPACES_ATTRIBUTE = "brainmap_reference_spaces"


class UnreadableVolume(Exception):
    """A reference space's volume is missing or damaged: a fault of the store, not the request."""


class ReferenceSpaces:
    """The open annotation volumes and structure centres of the last few reference spaces used,
    each computed once (one pass over the volume for all of a space's centres)."""

    def __init__(self, store: Store, held: int = SPACES_HELD) -> None:
        self.store = store
        self.held = held
        self._lock = threading.Lock()
        self._volumes: OrderedDict[tuple[int, str], ReferenceVolume] = OrderedDict()
        self._centres: OrderedDict[tuple[int, str], dict[int, tuple[float, float, float]]] = (
            OrderedDict()
        )
        self._moments: dict[tuple[int, str], threading.Lock] = {}

    def _key(self, space: SpaceVolumes) -> tuple[int, str]:
        if space.annotation_path is None:
            raise NotFound(f"reference space {space.id} has no annotation volume")
        return (space.id, space.annotation_path)

    def volume(self, space: SpaceVolumes) -> ReferenceVolume:
        """The space's annotation volume, opened once and kept while used."""
        key = self._key(space)
        with self._lock:
            if key in self._volumes:
                self._volumes.move_to_end(key)
                return self._volumes[key]
        with _reading(self.store.pixels, key):
            volume = self.store.pixels.open_volume(key[1], VOLUME_CACHE_BYTES)
        with self._lock:
            volume = self._volumes.setdefault(key, volume)
            while len(self._volumes) > self.held:
                self._volumes.popitem(last=False)
        return volume

    def label_at(self, space: SpaceVolumes, point: Sequence[float]) -> int:
        """The label of the voxel holding `point` (µm, p, i, r); 0 outside the volume."""
        volume = self.volume(space)
        index = np.floor(np.asarray(point) / np.asarray(volume.resolution_um) + 0.5)
        if not ((index >= 0) & (index < np.asarray(volume.shape))).all():
            return 0
        with _reading(self.store.pixels, self._key(space)):
            return int(volume.label_at(point)[0])

    def centres(
        self, space: SpaceVolumes, parents: dict[int, int | None]
    ) -> dict[int, tuple[float, float, float]]:
        """Every structure's centre in µm (p, i, r) over the space's annotation volume."""
        key = self._key(space)
        with self._lock:
            lock = self._moments.setdefault(key, threading.Lock())
        with lock:  # one computation per space at a time; the others wait for its result
            with self._lock:
                if key in self._centres:
                    self._centres.move_to_end(key)
                    return self._centres[key]
            volume = self.volume(space)
            with _reading(self.store.pixels, key):
                moments = _known(label_moments(volume), parents)
            try:
                centres = structure_centres(moments, parents, volume.resolution_um)
            except ValueError as error:
                raise UnreadableVolume(f"reference space {space.id}: {error}") from None
            with self._lock:
                self._centres[key] = centres
                while len(self._centres) > self.held:
                    self._centres.popitem(last=False)
        return centres


@contextmanager
def _reading(pixels: PixelRoot, key: tuple[int, str]) -> Iterator[None]:
    """Turn the errors of opening or reading a stored volume into UnreadableVolume, naming it
    by its path in the store (never its place on the machine or in a bucket)."""
    try:
        yield
    except (OSError, ValueError, RuntimeError) as error:
        space, path = key
        reason = str(error)
        for root in pixels.spellings():
            reason = reason.replace(f"{root}/{path}", path).replace(f"{root}/", "")
        message = f"reference space {space}: volume {path} cannot be read: {reason}"
        raise UnreadableVolume(message) from None


def _known(moments: LabelMoments, parents: dict[int, int | None]) -> LabelMoments:
    """The moments of the labels that are Structures of the store: a label without a record
    belongs to no structure the services can be asked about."""
    keep = np.isin(moments.labels, np.array(sorted(parents), dtype=np.int64))
    return LabelMoments(moments.labels[keep], moments.counts[keep], moments.sums[keep])


def reference_spaces(app: Starlette, store: Store) -> ReferenceSpaces:
    """The app's `ReferenceSpaces`, made on first use (on the event loop: no race)."""
    spaces = getattr(app.state, SPACES_ATTRIBUTE, None)
    if not isinstance(spaces, ReferenceSpaces):
        spaces = ReferenceSpaces(store)
        setattr(app.state, SPACES_ATTRIBUTE, spaces)
    return spaces
