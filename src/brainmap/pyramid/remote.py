"""Pyramids at an fsspec URL (``s3://bucket/key`` and any other): ranged reads, no local copy.

Opening reads the object's tile index once (every level's, through a small-block fsspec file,
so a handful of requests); a region's missing tiles are then fetched in one go, tiles that lie
together in the object (libvips writes a level's tiles in order) joined into one ranged read,
`FETCHES` reads at a time (concurrent on an asynchronous filesystem such as s3fs), and decoded
and kept in `tiles.TILE_CACHE` exactly as from a local file, so the pixels are the same. Levels
streamed by libvips (regions too large to decode at once, layouts not read directly) read the
object through a libvips source over an fsspec file. S3 endpoint and credentials come from the
standard environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``).

`open_remote` keeps the pyramids opened last, keyed by URL and checked against the object's
identity (ETag and size) at most every `REVALIDATE_SECONDS`, or at once after a region failed
to read, so a replaced object is opened again and a request within that time costs no round trip
for the index. Every request to the object store (tiles, index, libvips stream, identity) and the
hits and misses of `open_remote` are reported to `brainmap.events`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import BinaryIO

import cachetools
import fsspec
import numpy as np
import pyvips
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from brainmap import events
from brainmap.pyramid.local import OPENED_PYRAMIDS, vips_reason
from brainmap.pyramid.pages import PagedPyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.tiles import TileReader

ObjectIdentity = tuple[str, str, int]
"""A version of an object: its URL, ETag (empty when the filesystem has none) and size."""
FETCHES = 8
"""Ranged reads in flight at once for one region."""
MERGE_GAP = 16 * 1024
"""Most bytes between two ranges that one read takes in (and drops) to fetch both at once."""
MERGE_LIMIT = 4 * 1024 * 1024
"""Most bytes one read of joined ranges spans (a single longer range is read alone)."""
INDEX_BLOCK = 64 * 1024
"""Bytes a request reads while the tile index is parsed (the tags of a level lie together)."""
STREAM_BLOCK = 1024 * 1024
"""Bytes a request reads while libvips streams a level (it reads tiles in order)."""
REVALIDATE_SECONDS = 10.0
"""How long `open_remote` trusts an opened object to be unchanged before asking again."""


@contextmanager
def object_errors(failing: str) -> Iterator[None]:
    """Turns the filesystem's errors into DamagedPyramid: missing, or `failing` with why."""
    try:
        yield
    except FileNotFoundError:
        raise DamagedPyramid("is missing") from None
    except OSError as error:
        raise DamagedPyramid(f"{failing}: {error}") from None


def object_identity(fs: AbstractFileSystem, path: str, url: str) -> ObjectIdentity:
    """The current version of the object at `path` (`url`); DamagedPyramid when it cannot be
    asked for."""
    started = time.perf_counter()
    with object_errors("cannot be opened"):
        info = fs.info(path)
    events.tell(events.ObjectRead("info", 1, 0, time.perf_counter() - started))
    if info.get("type") == "directory":
        raise DamagedPyramid("cannot be opened: it is a folder")
    etag = str(info.get("ETag") or info.get("etag") or "")
    return url, etag, int(info["size"])


def joined_reads(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int, list[int]]]:
    """The reads (start, end, indices into `ranges`) that fetch each non-empty (start, end) of
    `ranges`: in offset order, a range joins the read before while the gap between them is at
    most `MERGE_GAP` bytes and the read would span at most `MERGE_LIMIT`."""
    reads: list[tuple[int, int, list[int]]] = []
    for index in sorted(range(len(ranges)), key=ranges.__getitem__):
        start, end = ranges[index]
        if start >= end:
            continue
        if reads:
            first, last, members = reads[-1]
            if start - last <= MERGE_GAP and max(last, end) - first <= MERGE_LIMIT:
                reads[-1] = (first, max(last, end), [*members, index])
                continue
        reads.append((start, end, [index]))
    return reads


def fetch_ranges(
    fs: AbstractFileSystem, path: str, size: int, ranges: Sequence[tuple[int, int]]
) -> list[bytes]:
    """The bytes of each (offset, count) of the object at `path` (`size` bytes long): ranges
    joined by `joined_reads`, one ranged read each, `FETCHES` at a time; a range past the end
    comes back short (not asked for when it starts there)."""
    wanted = [(min(offset, size), min(offset + count, size)) for offset, count in ranges]
    reads = joined_reads(wanted)
    found = [b""] * len(ranges)
    if not reads:
        return found
    options = {"batch_size": FETCHES} if fs.async_impl else {}
    started = time.perf_counter()
    with object_errors("cannot be read"):
        data: list[bytes] = fs.cat_ranges(
            [path] * len(reads),
            [start for start, _, _ in reads],
            [end for _, end, _ in reads],
            on_error="raise",
            **options,
        )
    seconds = time.perf_counter() - started
    events.tell(events.ObjectRead("tiles", len(reads), sum(map(len, data)), seconds))
    for (first, _, members), block in zip(reads, data, strict=True):
        for index in members:
            start, end = wanted[index]
            found[index] = block[start - first : end - first]
    return found


class RemotePyramid(PagedPyramid):
    """A pyramid at an fsspec URL, a `reader.PyramidReader`. Opening reads the tile index of
    every level of the object's version `identity` (asked for when not given); DamagedPyramid
    when the object is missing or is not a pyramid."""

    def __init__(self, url: str, identity: ObjectIdentity | None = None) -> None:
        self.url = self.name = url
        self._fs, self._path = fsspec.core.url_to_fs(url)
        self.identity = identity or object_identity(self._fs, self._path, url)
        fetch = partial(fetch_ranges, self._fs, self._path, self.identity[2])
        with self._open(INDEX_BLOCK, "index") as file:
            self.tiles = TileReader.open(file, self.identity, fetch)
            if self.tiles is not None:
                for index in range(self.tiles.levels):
                    self.tiles.level(index)  # the whole index now: no request later
        if self.tiles is None:
            self.levels  # noqa: B018 - libvips reads the header now: a damaged one fails here
        self.failed = False

    def read_region(self, index: int, left: int, top: int, width: int, height: int) -> np.ndarray:
        try:
            return super().read_region(index, left, top, width, height)
        except DamagedPyramid:
            self.failed = True  # perhaps replaced since opened: `open_remote` asks again
            raise

    def _open(self, block_size: int, kind: str) -> BinaryIO:
        """The object as a file read `block_size` bytes a request, reported as `kind`."""
        with object_errors("cannot be opened"):
            file: BinaryIO = self._fs.open(  # size and details given: not asked for again
                self._path,
                "rb",
                block_size=block_size,
                cache_type="blockcache",
                size=self.identity[2],
            )
        if isinstance(file, AbstractBufferedFile):  # its blocks come through its cache
            _, etag, size = self.identity
            file.details = {"name": self._path, "size": size} | ({"ETag": etag} if etag else {})
            file.cache.fetcher = _reported(kind, file.cache.fetcher)
        return file

    def _load(self, **options: int) -> pyvips.Image:
        file = self._open(STREAM_BLOCK, "stream")
        source = pyvips.SourceCustom()
        source.on_read(file.read)
        source.on_seek(file.seek)
        try:
            return pyvips.Image.new_from_source(
                source, "", access="random", fail_on="warning", **options
            )
        except pyvips.Error as error:
            reason = vips_reason(error, PurePosixPath(self._path))
            raise DamagedPyramid(f"is damaged: {reason}") from None


def _reported(kind: str, fetch: Callable[[int, int], bytes]) -> Callable[[int, int], bytes]:
    """`fetch` (bytes start to end of an object, one request) reporting each read as `kind`."""

    def fetched(start: int, end: int) -> bytes:
        started = time.perf_counter()
        data = fetch(start, end)
        events.tell(events.ObjectRead(kind, 1, len(data), time.perf_counter() - started))
        return data

    return fetched


@dataclass(frozen=True)
class _Opened:
    """What `open_remote` found at a URL, and when it last asked the object's identity."""

    checked: float
    identity: ObjectIdentity
    found: RemotePyramid | DamagedPyramid


_OPENED: cachetools.LRUCache[str, _Opened] = cachetools.LRUCache(maxsize=OPENED_PYRAMIDS)
_OPENED_LOCK = threading.Lock()


def open_remote(url: str) -> RemotePyramid:
    """The pyramid at `url`, opened once per version of the object (ETag and size, asked again
    after `REVALIDATE_SECONDS`); DamagedPyramid when there is none or it does not open
    (remembered for this version of the object)."""
    now = time.monotonic()
    with _OPENED_LOCK:
        opened = _OPENED.get(url)
    reopened = False
    if (
        opened is None
        or now - opened.checked >= REVALIDATE_SECONDS
        or (isinstance(opened.found, RemotePyramid) and opened.found.failed)
    ):
        fs, path = fsspec.core.url_to_fs(url)
        identity = object_identity(fs, path, url)
        if opened is None or opened.identity != identity:
            reopened = True
            found: RemotePyramid | DamagedPyramid
            try:
                found = RemotePyramid(url, identity)
            except DamagedPyramid as error:
                found = error
            opened = _Opened(now, identity, found)
        else:
            if isinstance(opened.found, RemotePyramid):
                opened.found.failed = False  # unchanged: trusted again until the next check
            opened = _Opened(now, identity, opened.found)
        with _OPENED_LOCK:
            _OPENED[url] = opened
    events.lookups("remote_pyramids", int(not reopened), int(reopened))
    if isinstance(opened.found, DamagedPyramid):
        raise DamagedPyramid(str(opened.found))
    return opened.found
