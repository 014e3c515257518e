"""A store's pixel root: the place its pyramid files live, a local folder or an fsspec URL.

Records name pixel files by paths relative to the root (``pyramids/ingest/7/a.tif``), the same
on every root, so a store's records move between roots unchanged (``brainmap store copy``).
`open_pixels` gives the root of a ``--pixels`` value: a folder (the store folder by default) is
a `LocalPixels`, a URL with a scheme (``s3://bucket/prefix``; endpoint and credentials from the
standard AWS environment variables) a `RemotePixels`. Both refuse a path outside the root's
``pyramids/`` folder (`pixel_paths`), read pyramids through the caches of `brainmap.pyramid`
and write a pyramid whole or not at all: a reader never sees part of one.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path, PurePath, PurePosixPath

import fsspec
import numpy as np
import pyvips

from brainmap.errors import BrainmapError
from brainmap.pyramid.local import open_pyramid, unopened
from brainmap.pyramid.pages import PagedPyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.remote import object_errors, open_remote
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.pixel_paths import PYRAMID_FOLDER, OutsidePyramids, contained, text_problem

URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
"""A ``--pixels`` value naming a filesystem by URL rather than a local folder."""
Version = tuple[str, ...]
"""Which version of a pixel file a response was made from: it changes when the file does."""


class PixelRootError(BrainmapError):
    """A pixel root that cannot be used: an unknown URL scheme, a missing driver, no access."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"pixel root {url}: {reason}")
        self.url = url
        self.reason = reason


class PixelRoot(ABC):
    """Where a store's pyramid files live; paths are relative to it, inside ``pyramids/``."""

    url: str
    """The root as the user gave it (a folder or a URL), for messages."""

    @abstractmethod
    def open(self, name: str) -> PagedPyramid:
        """The pyramid `name` names, opened once per version; DamagedPyramid when missing or
        not a pyramid, OutsidePyramids when `name` lies outside ``pyramids/``."""

    @abstractmethod
    def version(self, name: str) -> Version:
        """The current version of file `name`, for validators; DamagedPyramid when missing."""

    @abstractmethod
    def where(self, name: str) -> PurePath:
        """Where file `name` is for the library reading it (errors name it so)."""

    @abstractmethod
    def has(self, name: str) -> bool:
        """Whether file `name` exists (written whole: writes are atomic)."""

    @abstractmethod
    def put_file(self, source: Path, name: str) -> None:
        """Store local file `source` as `name`, whole or not at all."""

    @abstractmethod
    def prepare(self) -> None:
        """Make what a new store's pixel root needs before its first file."""

    @abstractmethod
    def check(self) -> None:
        """PixelRootError unless the root can be reached."""

    @abstractmethod
    def staging(self) -> Path:
        """A local folder for files on their way into this root (same disk when local)."""

    def write_pyramid(
        self, name: str, pixels: np.ndarray | pyvips.Image, kind: PyramidKind
    ) -> None:
        """Write `pixels` as the pyramid `name`, atomically."""
        with tempfile.TemporaryDirectory(prefix=".pyramid-", dir=self.staging()) as folder:
            local = Path(folder, PurePosixPath(name).name)
            write_pyramid(pixels, local, kind)
            self.put_file(local, name)


class LocalPixels(PixelRoot):
    """Pixel files in a local folder (by default the store folder: ``pyramids/`` beside the
    SQLite file); paths resolve, symlinks followed, inside its ``pyramids/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = str(folder)

    def path(self, name: str) -> Path:
        """The file `name` names, symlinks resolved; OutsidePyramids when outside."""
        return contained(self.folder, name)

    def open(self, name: str) -> PagedPyramid:
        return open_pyramid(self.path(name))

    def version(self, name: str) -> Version:
        try:
            stat = self.path(name).stat()
        except OSError as error:
            raise unopened(error) from None
        return str(stat.st_ino), str(stat.st_mtime_ns), str(stat.st_size)

    def where(self, name: str) -> PurePath:
        return self.path(name)

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def put_file(self, source: Path, name: str) -> None:
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:  # another disk: copied beside the target, then renamed over it
                shutil.copyfile(source, partial)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            source.unlink()

    def prepare(self) -> None:
        (self.folder / PYRAMID_FOLDER).mkdir(parents=True, exist_ok=True)

    def check(self) -> None:
        """Nothing: a folder's files are checked one by one as they are read."""

    def staging(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder


class RemotePixels(PixelRoot):
    """Pixel files under an fsspec URL (``s3://bucket/prefix``): read with ranged requests
    (`brainmap.pyramid.remote`), written by uploading a finished local file (an S3 object
    appears whole or not at all) and checking its size afterwards."""

    def __init__(self, url: str, staging: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self._staging = staging
        try:
            self.fs, self.base = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as error:
            raise PixelRootError(url, _driver_hint(error)) from None

    def location(self, name: str) -> tuple[str, str]:
        """The URL and the filesystem path of file `name`; OutsidePyramids when it names no
        file of ``pyramids/`` (objects have no symlinks: the name's text decides)."""
        problem = text_problem(name) if not name.startswith("/") else "is absolute"
        if problem is not None:
            raise OutsidePyramids(name, problem)
        return f"{self.url}/{name}", f"{self.base.rstrip('/')}/{name}"

    def open(self, name: str) -> PagedPyramid:
        return open_remote(self.location(name)[0])

    def version(self, name: str) -> Version:
        _, etag, size = self.open(name).identity
        return str(etag), str(size)

    def where(self, name: str) -> PurePath:
        return PurePosixPath(self.location(name)[1])

    def has(self, name: str) -> bool:
        path = self.location(name)[1]
        with object_errors("cannot be asked for"):
            return bool(self.fs.isfile(path))

    def put_file(self, source: Path, name: str) -> None:
        path = self.location(name)[1]
        size = source.stat().st_size
        with object_errors("cannot be written"):
            self.fs.put_file(str(source), path)
            self.fs.invalidate_cache(path)
            stored = int(self.fs.info(path)["size"])
        if stored != size:
            raise DamagedPyramid(f"was stored with {stored} of its {size} bytes")
        source.unlink()

    def prepare(self) -> None:
        """Only `check`: an object store has no folders to make."""
        self.check()

    def check(self) -> None:
        """PixelRootError unless the bucket (the URL's first part) can be reached."""
        bucket = self.base.split("/")[0]
        try:
            reachable = self.fs.exists(bucket)
        except OSError as error:
            raise PixelRootError(self.url, f"cannot be reached ({error})") from None
        if not reachable:
            raise PixelRootError(self.url, f"there is no bucket {bucket!r}")

    def staging(self) -> Path:
        if self._staging is not None:
            self._staging.mkdir(parents=True, exist_ok=True)
            return self._staging
        return Path(tempfile.gettempdir())


def open_pixels(pixels: str | None, store_folder: Path | None) -> PixelRoot:
    """The pixel root a ``--pixels`` value names (a folder or a URL), the store folder when
    None. Files on their way to a remote root are staged in the store folder when there is one."""
    if pixels is None:
        if store_folder is None:
            raise PixelRootError("(none)", "a store needs a folder or a pixel root (--pixels)")
        return LocalPixels(store_folder)
    if URL_SCHEME.match(pixels) and not pixels.startswith("file://"):
        return RemotePixels(pixels, store_folder)
    return LocalPixels(Path(pixels.removeprefix("file://")))


def _driver_hint(error: Exception) -> str:
    if isinstance(error, ImportError):
        return f"its filesystem driver is not installed ({error}); pip install 'brainmap[s3]'"
    return f"not a filesystem URL ({error})"
