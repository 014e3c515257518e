"""A pixel root's files as bytes, for `brainmap store copy`: which files a store's records name,
their sizes and SHA-256, and one file copied from a root to another and read back.

Names are relative to the root and lie in its ``pyramids/`` folder (reference volumes: in
``reference/``), contained as serving contains them (`pixel_paths`); absolute record paths are
another storage's names, metadata only, never files of the store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path, PurePosixPath

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem
from sqlalchemy import Connection, select

from brainmap.store.pixel_paths import (
    PYRAMID_FOLDER,
    REFERENCE_FOLDER,
    OutsidePyramids,
    contained,
    foreign,
    text_problem,
)
from brainmap.store.pixels import LocalPixels, PixelRoot, RemotePixels
from brainmap.store.schema import AlternateImage, ReferenceSpace, SubImage, mirrored_pyramids

CHUNK = 1 << 20
"""Bytes read at a time."""


class PixelFiles:
    """The files of a pixel root, read as bytes and written through the root (whole or not at
    all)."""

    def __init__(self, root: PixelRoot) -> None:
        self.root = root
        self.fs: AbstractFileSystem
        if isinstance(root, RemotePixels):
            self.fs = root.fs
            self.fs.invalidate_cache()  # another process may have changed the objects
            self.base = root.base.rstrip("/")
        elif isinstance(root, LocalPixels):
            self.fs = LocalFileSystem()
            self.base = str(root.folder)
        else:
            raise TypeError(f"a pixel root of an unknown kind: {type(root).__name__}")

    def path(self, name: str) -> str:
        """Where file (or folder) `name` is for the filesystem; OutsidePyramids when it is not
        inside ``pyramids/`` or ``reference/``."""
        folder = REFERENCE_FOLDER if name.startswith(f"{REFERENCE_FOLDER}/") else PYRAMID_FOLDER
        if isinstance(self.root, LocalPixels):
            return str(contained(self.root.folder, name, folder))
        problem = "is absolute" if foreign(name) else text_problem(name, folder)
        if problem is not None:
            raise OutsidePyramids(name, problem)
        return f"{self.base}/{name}"

    def size(self, name: str) -> int | None:
        """The size of file `name`, None when there is none."""
        path = self.path(name)
        try:
            info = self.fs.info(path)
        except FileNotFoundError:
            return None
        return int(info["size"]) if info["type"] == "file" else None

    def chunks(self, name: str) -> Iterator[bytes]:
        """The bytes of file `name`, `CHUNK` at a time."""
        with self.fs.open(self.path(name), "rb", block_size=CHUNK) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def checksum(self, name: str) -> str:
        """SHA-256 of file `name`, in hex."""
        digest = sha256()
        for chunk in self.chunks(name):
            digest.update(chunk)
        return digest.hexdigest()

    def files_under(self, folder: str) -> list[str]:
        """The names of the files in folder `folder` and below it, sorted."""
        path = self.path(folder).rstrip("/")
        found = self.fs.find(path)
        return sorted(f"{folder}/{PurePosixPath(file).relative_to(path)}" for file in found)

    def holds_pyramids(self) -> bool:
        """Whether the root's ``pyramids/`` folder holds anything."""
        path = f"{self.base}/{PYRAMID_FOLDER}"
        try:
            return bool(self.fs.ls(path, detail=False))
        except FileNotFoundError:
            return False

    def copy_from(self, source: PixelFiles, name: str) -> str:
        """Copy file `name` from `source` into this root through a file in its staging folder;
        the SHA-256 of the bytes read, in hex."""
        digest = sha256()
        with tempfile.NamedTemporaryFile(
            dir=self.root.staging(), prefix=".copy-", delete=False
        ) as handle:
            staged = Path(handle.name)
            try:
                for chunk in source.chunks(name):
                    digest.update(chunk)
                    handle.write(chunk)
            except BaseException:
                staged.unlink()
                raise
        try:
            self.root.put_file(staged, name)
        finally:
            staged.unlink(missing_ok=True)
        return digest.hexdigest()


def named_files(connection: Connection) -> dict[str, str]:
    """Every relative pixel path the records name, each with the first record naming it (for
    messages). Reference volume folders are named as folders (see `PixelFiles.files_under`)."""
    named: dict[str, str] = {}
    queries = (
        ("sub_images path", select(SubImage.id, SubImage.path)),
        ("sub_images expression_path", select(SubImage.id, SubImage.expression_path)),
        ("alternate_images path", select(AlternateImage.id, AlternateImage.path)),
        (
            "mirrored_pyramids file",
            select(mirrored_pyramids.c.path, mirrored_pyramids.c.file),
        ),
        (
            "reference_spaces annotation_path",
            select(ReferenceSpace.id, ReferenceSpace.annotation_path),
        ),
        ("reference_spaces template_path", select(ReferenceSpace.id, ReferenceSpace.template_path)),
    )
    for what, query in queries:
        for record, path in connection.execute(query):
            if path and not foreign(path):
                named.setdefault(path, f"{what} of {record}")
    return named


def volume_folder(name: str) -> bool:
    """Whether `name` names a reference volume (a folder of files) rather than one file."""
    return name.startswith(f"{REFERENCE_FOLDER}/")
