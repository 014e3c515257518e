"""Where bulk files land: a local folder, or any fsspec URL (``memory://``, ``s3://``, ...).

Both write through a temporary name and a rename, so a reader never sees a partial file at its
final name, and both are picklable (dask workers receive them). ``file://`` URLs are local
folders: they get an atomic ``os.replace``, made durable a batch at a time by `sync`.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from brainmap.client._http.files import atomic_writer, remove_partials, sync_folder
from brainmap.client.extras import MissingExtra, import_extra
from brainmap.errors import BadParameter

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

PART_SUFFIX = ".part"
"""Temporary files are ``.<name>.<random>.part`` beside their final name."""


class Destination(Protocol):
    """The interface bulk runs use; `path` arguments are relative to the destination."""

    @property
    def local(self) -> Path | None:
        """The folder on this machine, or None for a remote filesystem."""

    def write(self, path: str, body: bytes) -> str:
        """Store `body` at `path` (temp name, then rename); return its sha256."""

    def sync(self, paths: Sequence[str]) -> None:
        """Make the files `write` stored at `paths` durable (before a manifest records them)."""

    def size(self, path: str) -> int | None:
        """Length of the file at `path`, None if there is none."""

    def remove_partials(self) -> int:
        """Delete temporary files left by killed runs; return how many."""


@dataclass(frozen=True)
class LocalFolder:
    """A folder on a local (or network-mounted) filesystem."""

    folder: Path

    @property
    def local(self) -> Path:
        return self.folder

    def write(self, path: str, body: bytes) -> str:
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(target, sync=False) as handle:
            handle.write(body)
        return hashlib.sha256(body).hexdigest()

    def sync(self, paths: Sequence[str]) -> None:
        if paths:
            sync_folder(self.folder, [self.folder / path for path in paths])

    def size(self, path: str) -> int | None:
        try:
            return (self.folder / path).stat().st_size
        except FileNotFoundError:
            return None

    def remove_partials(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        return remove_partials(self.folder)


@dataclass(frozen=True)
class FsspecFolder:
    """A folder on an fsspec filesystem, named by its URL. Each write goes to a temporary name,
    is moved into place and its length checked (a move is a copy and a delete on object stores,
    where no reader sees the key before the copy completes)."""

    url: str

    @property
    def local(self) -> None:
        return None

    def write(self, path: str, body: bytes) -> str:
        filesystem, root = self._open()
        folder, name = os.path.split(f"{root}/{path}")
        temporary = f"{folder}/.{name}.{uuid.uuid4().hex}{PART_SUFFIX}"
        filesystem.makedirs(folder, exist_ok=True)
        filesystem.pipe_file(temporary, body)
        try:
            filesystem.mv(temporary, f"{folder}/{name}")
        finally:
            if filesystem.exists(temporary):
                filesystem.rm(temporary)
        written = filesystem.size(f"{folder}/{name}")
        if written != len(body):
            raise OSError(f"{self.url}/{path}: wrote {written} of {len(body)} bytes")
        return hashlib.sha256(body).hexdigest()

    def sync(self, paths: Sequence[str]) -> None:
        """Nothing to do: a completed fsspec write is as durable as the store makes it."""

    def size(self, path: str) -> int | None:
        filesystem, root = self._open()
        try:
            return int(filesystem.size(f"{root}/{path}"))
        except FileNotFoundError:
            return None

    def remove_partials(self) -> int:
        filesystem, root = self._open()
        if not filesystem.exists(root):
            return 0
        partials = [
            name
            for name in filesystem.find(root)
            if os.path.basename(name).startswith(".") and name.endswith(PART_SUFFIX)
        ]
        for name in partials:
            filesystem.rm(name)
        return len(partials)

    def _open(self) -> tuple[AbstractFileSystem, str]:
        import fsspec

        filesystem, root = fsspec.core.url_to_fs(self.url)
        return filesystem, root.rstrip("/")


def check_folder(folder: Path, option: str = "out") -> None:
    """BadParameter (naming `option`) unless `folder` is a folder this process may write in, or
    can be created as one: no file in the way, and its nearest existing folder writable. Nothing
    is created."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == folder else f"is under the file {existing}"
        raise BadParameter(option, f"{folder} {where}, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadParameter(option, f"{folder}: cannot write in {existing}")


def check_file(path: Path, option: str) -> None:
    """BadParameter unless a file can be written at `path` (see `check_folder`)."""
    if path.is_dir():
        raise BadParameter(option, f"{path} is a folder, not a file")
    check_folder(path.absolute().parent, option)


def open_destination(target: str | os.PathLike[str]) -> Destination:
    """A `LocalFolder` for a path or ``file://`` URL, an `FsspecFolder` for other URLs
    (fsspec is needed for those: ``pip install 'brainmap[dask]'``)."""
    text = os.fspath(target)
    if text.startswith("file://"):
        return LocalFolder(Path(text.removeprefix("file://")).absolute())
    if "://" in text:
        fsspec = import_extra("fsspec", "dask", f"writing to {text!r} needs fsspec")
        try:  # refuse what fsspec cannot write to before any download starts
            fsspec.core.url_to_fs(text)
        except ImportError as error:  # the protocol's own package (s3fs, gcsfs...)
            raise MissingExtra(f"writing to {text!r}: {error}") from None
        except ValueError as error:  # an unknown protocol
            raise BadParameter("out", f"{text!r}: {error}") from None
        return FsspecFolder(text.rstrip("/"))
    return LocalFolder(Path(text).absolute())
