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
    contained,
    foreign,
)
from brainmap.store.pixels import LocalPixels, PixelRoot, RemotePixels
from brainmap.store.schema import AlternateImage, ReferenceSpace, SubImage, mirrored_pyramids

CHUNK = 1 << 20
"""Bytes read at a time."""


class PixelFiles:
    """The files of a pixel root, read as bytes and written through the root (whole or not at
    all)."""

    def __init__(self, root: PixelRoot) -> None:
        self.root: LocalPixels | RemotePixels
        self.fs: AbstractFileSystem
        if isinstance(root, RemotePixels):
            self.fs = root.fs
            self.fs.invalidate_cache()  # another process may have changed the objects
        elif isinstance(root, LocalPixels):
            self.fs = LocalFileSystem()
        else:
            raise TypeError(f"a pixel root of an unknown kind: {type(root).__name__}")
        self.root = root

    def path(self, name: str) -> str:
        """Where file (or folder) `name` is for the filesystem; OutsidePyramids when it is not
        inside ``pyramids/`` or ``reference/``."""
        folder = REFERENCE_FOLDER if volume_folder(name) else PYRAMID_FOLDER
        if isinstance(self.root, RemotePixels):
            return self.root.location(name, folder)[1]
        return str(contained(self.root.folder, name, folder))

    def size(self, name: str) -> int | None:
        """The size of file `name`, None when there is none."""
        try:
            info = self.fs.info(self.path(name))
        except FileNotFoundError:
            return None
        return int(info["size"]) if info["type"] == "file" else None

    def sizes(self, name: str) -> dict[str, int]:
        """The files `name` stands for, with their sizes: itself, or the files in and below a
        reference volume's folder; none when there are none."""
        if not volume_folder(name):
            size = self.size(name)
            return {} if size is None else {name: size}
        path = self.path(name).rstrip("/")
        found = self.fs.find(path, detail=True)
        return {
            f"{name}/{PurePosixPath(file).relative_to(path)}": int(info["size"])
            for file, info in sorted(found.items())
        }

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

    def download(self, name: str, local: Path) -> str:
        """Write the bytes of file `name` to the new local file `local`; their SHA-256 in hex."""
        digest = sha256()
        with local.open("xb") as handle:
            for chunk in self.chunks(name):
                digest.update(chunk)
                handle.write(chunk)
        return digest.hexdigest()

    def copy_from(self, source: PixelFiles, name: str) -> str:
        """Copy file `name` from `source` into this root through a file in its staging folder;
        the SHA-256 of the bytes read, in hex."""
        with tempfile.TemporaryDirectory(prefix=".copy-", dir=self.root.staging()) as folder:
            staged = Path(folder, PurePosixPath(name).name)
            digest = source.download(name, staged)
            self.root.put_file(staged, name)
        return digest


def named_files(connection: Connection) -> dict[str, str]:
    """Every relative pixel path the records name, each with the first record naming it (for
    messages). Reference volume folders are named as folders (see `PixelFiles.sizes`)."""
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
