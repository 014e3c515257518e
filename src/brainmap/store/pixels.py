"""A store's pixel root: the place its pyramid files live, a local folder or an fsspec URL.

Records name pixel files by paths relative to the root (``pyramids/ingest/7/a.tif``), the same
on every root, so a store's records move between roots unchanged (``brainmap store copy``).
`open_pixels` gives the root of a ``--pixels`` value: a folder (the store folder by default) is
a `LocalPixels`, a URL with a scheme (``s3://bucket/prefix``; endpoint and credentials from the
standard AWS environment variables) a `RemotePixels`. Both refuse a path outside the root's
``pyramids/`` folder (`pixel_paths`), read pyramids through the caches of `brainmap.pyramid`
and write a pyramid whole or not at all: a reader never sees part of one.

Reference volumes (zarr v3 folders, `brainmap.reference.volume`) live in the root's
``reference/`` folder, contained the same way. One is written whole before any record names
it: in a folder root beside its place and renamed into it, for a remote root in a local staging
folder, uploaded and checked there (every object, with its size). A remote one is read through
zarr's fsspec store.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path, PurePath, PurePosixPath

import fsspec
import numpy as np
import pyvips
from zarr.storage import FsspecStore

from brainmap.errors import BrainmapError
from brainmap.pyramid.local import open_pyramid, unopened
from brainmap.pyramid.pages import PagedPyramid
from brainmap.pyramid.reader import DamagedPyramid
from brainmap.pyramid.remote import object_errors, open_remote
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.reference.volume import CACHE_BYTES, ReferenceVolume
from brainmap.store.pixel_paths import (
    PYRAMID_FOLDER,
    REFERENCE_FOLDER,
    OutsidePyramids,
    contained,
    text_problem,
)

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
    def check(self, made: bool = True) -> None:
        """PixelRootError unless the root can be reached (and, when `made`, holds a store's
        files already rather than being still to make)."""

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

    @abstractmethod
    def open_volume(self, name: str, cache_bytes: int = CACHE_BYTES) -> ReferenceVolume:
        """The reference volume `name` names (``reference/<id>/...``), read-only;
        OutsidePyramids when it lies outside ``reference/``, VolumeFileError when missing."""

    @abstractmethod
    def write_volume(self, name: str, write: Callable[[Path], object]) -> ReferenceVolume:
        """Make the reference volume `name` and open it: `write(folder)` writes it to a new
        local folder, whole or not at all (as `brainmap.reference.volume.write_volume` does).
        A volume already there is replaced (no record names it: `name` is new, or left by a
        run stopped before recording it)."""

    @abstractmethod
    def remove_volume(self, name: str) -> None:
        """Remove the volume `name` as far as can be (a later `write_volume` replaces it)."""

    @abstractmethod
    def spellings(self) -> tuple[str, ...]:
        """How the root itself appears in the messages of the libraries below (a folder, a
        bucket path): messages for users name files by their store path instead."""


class LocalPixels(PixelRoot):
    """Pixel files in a local folder (by default the store folder: ``pyramids/`` beside the
    SQLite file); paths resolve, symlinks followed, inside its ``pyramids/``."""

    def __init__(self, folder: Path, named: bool = False) -> None:
        self.folder = folder
        self.url = str(folder)
        self.named = named  # by --pixels, not the store folder: an existing store's must exist

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

    def check(self, made: bool = True) -> None:
        """PixelRootError for a root that is not a folder, or an existing store's named by
        ``--pixels`` that is missing; its files are checked one by one as they are read."""
        if self.folder.exists() and not self.folder.is_dir():
            raise PixelRootError(self.url, "not a folder")
        if made and self.named and not self.folder.exists():
            raise PixelRootError(self.url, "no such folder")

    def staging(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def open_volume(self, name: str, cache_bytes: int = CACHE_BYTES) -> ReferenceVolume:
        folder = contained(self.folder, name, REFERENCE_FOLDER)
        return ReferenceVolume.open(folder, cache_bytes, name)

    def write_volume(self, name: str, write: Callable[[Path], object]) -> ReferenceVolume:
        """Written in place: `write` makes it beside its place and renames it in."""
        target = contained(self.folder, name, REFERENCE_FOLDER)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        write(target)
        return self.open_volume(name)

    def remove_volume(self, name: str) -> None:
        """Remove the folder, then the folders above it inside ``reference/`` left empty."""
        target = contained(self.folder, name, REFERENCE_FOLDER)
        shutil.rmtree(target, ignore_errors=True)
        inside = Path(os.path.realpath(self.folder / REFERENCE_FOLDER))
        for folder in target.parents:
            if not folder.is_relative_to(inside):
                break
            with suppress(OSError):
                folder.rmdir()

    def spellings(self) -> tuple[str, ...]:
        return os.path.abspath(self.folder), os.path.realpath(self.folder)


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

    def location(self, name: str, folder: str = PYRAMID_FOLDER) -> tuple[str, str]:
        """The URL and the filesystem path of file `name`; OutsidePyramids when it names no
        file of `folder` (``pyramids/``, or ``reference/`` for reference volumes; objects
        have no symlinks: the name's text decides)."""
        problem = text_problem(name, folder) if not name.startswith("/") else "is absolute"
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

    def check(self, made: bool = True) -> None:
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

    def open_volume(self, name: str, cache_bytes: int = CACHE_BYTES) -> ReferenceVolume:
        """Read through zarr's fsspec store (its own asynchronous filesystem), read-only."""
        url = self.location(name, REFERENCE_FOLDER)[0]
        return ReferenceVolume.open(FsspecStore.from_url(url, read_only=True), cache_bytes, name)

    def write_volume(self, name: str, write: Callable[[Path], object]) -> ReferenceVolume:
        """Written in the staging folder, then uploaded (`_upload`)."""
        self.location(name, REFERENCE_FOLDER)  # a name outside reference/: nothing written
        with tempfile.TemporaryDirectory(prefix=".volume-", dir=self.staging()) as folder:
            local = Path(folder, PurePosixPath(name).name)
            write(local)
            self._upload(local, name)
        return self.open_volume(name)

    def _upload(self, source: Path, name: str) -> None:
        """Upload every file of `source` (the objects an earlier run left there are deleted
        first), then list what the store holds: PixelRootError unless it is every file with
        its size, and nothing else."""
        path = self.location(name, REFERENCE_FOLDER)[1]
        files = {
            file.relative_to(source).as_posix(): file.stat().st_size
            for file in sorted(source.rglob("*"))
            if file.is_file()
        }
        try:
            self._clear(path)
            self.fs.put([str(source / key) for key in files], [f"{path}/{key}" for key in files])
            self.fs.invalidate_cache(path)
            found = self.fs.find(path, detail=True)
        except OSError as error:
            raise PixelRootError(self.url, f"{name} cannot be written ({error})") from None
        stored = {key.removeprefix(f"{path}/"): int(info["size"]) for key, info in found.items()}
        wrong = sorted(
            key for key in files.keys() | stored.keys() if files.get(key) != stored.get(key)
        )
        if wrong:
            raise PixelRootError(
                self.url,
                f"{name} was not stored whole: {len(wrong)} of its objects are missing, extra "
                f"or of another size ({wrong[0]} first)",
            )

    def remove_volume(self, name: str) -> None:
        path = self.location(name, REFERENCE_FOLDER)[1]
        with suppress(OSError):
            self._clear(path)

    def _clear(self, path: str) -> None:
        """Delete every object under `path` (a volume's folder)."""
        self.fs.invalidate_cache(path)
        if left := self.fs.find(path):
            self.fs.rm(left)

    def spellings(self) -> tuple[str, ...]:
        return self.url, self.base.rstrip("/")


def open_pixels(pixels: str | None, store_folder: Path | None) -> PixelRoot:
    """The pixel root a ``--pixels`` value names (a folder or a URL), the store folder when
    None. Files on their way to a remote root are staged in the store folder when there is one."""
    if pixels is None:
        if store_folder is None:
            raise PixelRootError("(none)", "a store needs a folder or a pixel root (--pixels)")
        return LocalPixels(store_folder)
    if not pixels.strip():
        raise PixelRootError(repr(pixels), "names no folder or URL")
    if URL_SCHEME.match(pixels) and not pixels.startswith("file://"):
        return RemotePixels(pixels, store_folder)
    return LocalPixels(Path(pixels.removeprefix("file://")), named=True)


def _driver_hint(error: Exception) -> str:
    if isinstance(error, ImportError):
        return f"its filesystem driver is not installed ({error}); pip install 'brainmap[s3]'"
    return f"not a filesystem URL ({error})"
