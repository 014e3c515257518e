"""Pyramids in local files: regions decoded from the tiles where the layout allows, libvips
otherwise, and one cache of the pyramids opened last.

`open_pyramid` is the cache: keyed by path and checked against the file's identity (inode,
modification time, size), so a pyramid rewritten in place is opened again instead of being read
through the levels and tile index of the file it replaced. A file that does not open is kept as
damaged, for its identity only: it is not read again until it changes. Its hits and misses are
reported to `brainmap.events`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path, PurePath

import cachetools
import pyvips

from brainmap import events
from brainmap.pyramid.pages import PagedPyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.tiles import TileReader

FileIdentity = tuple[str, int, int, int]
"""A version of a file: its path, inode, modification time (ns) and size."""
OPENED_PYRAMIDS = 256
"""Pyramids `open_pyramid` keeps open (each holds a file descriptor)."""


def file_identity(path: Path, stat: os.stat_result) -> FileIdentity:
    """The version of the file at `path` whose status is `stat`."""
    return str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size


class Pyramid(PagedPyramid):
    """A pyramid in a local file, a `reader.PyramidReader`: regions are decoded from its tiles by
    `tiles.TileReader` when its layout is one brainmap writes, by libvips otherwise. Opening
    reads the tile index of the first level; the others are read when first used. A file that
    is missing, unreadable or not a pyramid raises `DamagedPyramid`, on opening or reading."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        try:
            file = path.open("rb", buffering=0)  # tiles are read whole: no buffer copy
        except OSError as error:
            raise unopened(error) from None
        try:
            self.identity = file_identity(path, os.fstat(file.fileno()))
            self.tiles = TileReader.open(file, self.identity)
        except BaseException:
            file.close()
            raise
        if self.tiles is None:
            file.close()
            self.levels  # noqa: B018 - libvips reads the header now: a damaged one fails here

    def _load(self, **options: int) -> pyvips.Image:
        try:
            return pyvips.Image.new_from_file(
                str(self.path), access="random", fail_on="warning", **options
            )
        except pyvips.Error as error:
            raise DamagedPyramid(f"is damaged: {vips_reason(error, self.path)}") from None


def unopened(error: OSError) -> DamagedPyramid:
    """Why a file could not be opened, without its path."""
    if isinstance(error, FileNotFoundError):
        return DamagedPyramid("is missing")
    return DamagedPyramid(f"cannot be opened: {error.strerror}")


def vips_reason(error: pyvips.Error, path: PurePath) -> str:
    """What libvips says is wrong, on one line, without the machine path of the file."""
    lines = dict.fromkeys(line.strip() for line in str(error.detail).splitlines())
    return "; ".join(line for line in lines if line).replace(str(path), path.name) or str(
        error.message
    )


@dataclass(frozen=True)
class _Damaged:
    """A version of a file that did not open, and why."""

    identity: FileIdentity
    reason: str


_OPENED: cachetools.LRUCache[Path, Pyramid | _Damaged] = cachetools.LRUCache(
    maxsize=OPENED_PYRAMIDS
)
_OPENED_LOCK = threading.Lock()


def open_pyramid(path: Path) -> Pyramid:
    """The pyramid at `path`, opened once per version of the file: a file rewritten in place is
    opened again. DamagedPyramid when there is none or it does not open (remembered for this
    version of the file)."""
    try:
        identity = file_identity(path, path.stat())
    except OSError as error:
        raise unopened(error) from None
    with _OPENED_LOCK:
        opened = _OPENED.get(path)
    if opened is not None and opened.identity != identity:
        opened = None  # the file was replaced since
    events.lookups("pyramids", int(opened is not None), int(opened is None))
    if opened is not None:
        if isinstance(opened, _Damaged):
            raise DamagedPyramid(opened.reason)
        return opened
    try:
        opened = Pyramid(path)
    except DamagedPyramid as error:
        with _OPENED_LOCK:
            _OPENED[path] = _Damaged(identity, str(error))
        raise
    with _OPENED_LOCK:
        _OPENED[path] = opened
    return opened
