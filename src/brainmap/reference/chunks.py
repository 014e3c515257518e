"""Decoded chunks of a 3-D zarr array, kept in memory up to a byte budget (least recently used go
first), and the reads built on them: scattered voxels and whole planes along any axis.

A plane or a point reads only the chunks it crosses; neighbouring planes and nearby points then
cost no decoding at all (a coronal plate sweep decodes each chunk once).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np
import zarr
from numpy.typing import NDArray

Key = tuple[int, int, int]


class ChunkCache:
    """The chunks of one array, read through zarr, held while they fit in `budget_bytes`."""

    def __init__(self, array: zarr.Array[Any], budget_bytes: int) -> None:
        self.array = array
        self.shape: Key = (array.shape[0], array.shape[1], array.shape[2])
        chunks = array.chunks
        self.chunks: Key = (chunks[0], chunks[1], chunks[2])
        self.budget_bytes = budget_bytes
        self._held: OrderedDict[Key, NDArray[Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def held_bytes(self) -> int:
        """Bytes of decoded chunks held now."""
        return self._bytes

    def chunk(self, key: Key) -> NDArray[Any]:
        """One chunk's voxels (clipped at the array's edge)."""
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
        data = np.asarray(self.array[self._region(key)])
        data.flags.writeable = False
        with self._lock:
            if key not in self._held:
                self._held[key] = data
                self._bytes += data.nbytes
            while self._bytes > self.budget_bytes and len(self._held) > 1:
                _, dropped = self._held.popitem(last=False)
                self._bytes -= dropped.nbytes
        return data

    def chunk_keys(self) -> Iterator[Key]:
        """Every chunk's key, in storage order."""
        p, i, r = (range(-(-n // size)) for n, size in zip(self.shape, self.chunks, strict=True))
        yield from itertools.product(p, i, r)

    def read(self, key: Key) -> NDArray[Any]:
        """One chunk's voxels, read without keeping them (for passes over the whole array)."""
        with self._lock:
            held = self._held.get(key)
        if held is not None:
            return held
        return np.asarray(self.array[self._region(key)])

    def _region(self, key: Key) -> tuple[slice, ...]:
        return tuple(
            slice(k * size, min((k + 1) * size, extent))
            for k, size, extent in zip(key, self.chunks, self.shape, strict=True)
        )

    def gather(self, index: NDArray[np.intp]) -> NDArray[Any]:
        """The voxels at indices (N, 3), all inside the array."""
        sizes = np.asarray(self.chunks)
        if len(index) == 1:  # one point (a request's): skip the grouping by chunk
            key = index[0] // sizes
            data = self.chunk((int(key[0]), int(key[1]), int(key[2])))
            single: NDArray[Any] = np.asarray(data[tuple(index[0] - key * sizes)]).reshape(1)
            return single
        keys, which = np.unique(index // sizes, axis=0, return_inverse=True)
        which = which.ravel()
        out: NDArray[Any] | None = None
        for number, key in enumerate(keys):
            mine = which == number
            data = self.chunk((int(key[0]), int(key[1]), int(key[2])))
            if out is None:
                out = np.empty(len(index), dtype=data.dtype)
            out[mine] = data[tuple((index[mine] - key * sizes).T)]
        return out if out is not None else np.empty(0)

    def plane(self, axis: int, index: int) -> NDArray[Any]:
        """The plane at `index` along `axis`, the other two axes in order."""
        others = [k for k in range(3) if k != axis]
        counts = [range(-(-self.shape[k] // self.chunks[k])) for k in others]
        local = index % self.chunks[axis]
        out: NDArray[Any] | None = None
        for first, second in itertools.product(*counts):
            key = [0, 0, 0]
            key[axis], key[others[0]], key[others[1]] = index // self.chunks[axis], first, second
            data = np.take(self.chunk((key[0], key[1], key[2])), local, axis=axis)
            if out is None:
                out = np.empty([self.shape[k] for k in others], dtype=data.dtype)
            rows = first * self.chunks[others[0]]
            cols = second * self.chunks[others[1]]
            out[rows : rows + data.shape[0], cols : cols + data.shape[1]] = data
        assert out is not None
        return out
