"""Which files a record's pixel path may open: only files inside the store's pyramids folder.

A pixel ``path`` (``SubImage.path``, ``AlternateImage.path``; a mirror's held level is the file
of ``mirrored_pyramids``) is one of two things:

* a relative path is a store file, named from the store root and lying in ``pyramids/``; it
  never climbs with ``..`` and, symlinks resolved, never lands outside that folder;
* an absolute path is a name in someone else's storage (Allen's records carry
  ``/external/aibssan/...aff``): kept as metadata and as the key of a mirror's copies, never
  opened.

Import refuses a relative path whose text does not name a file of ``pyramids/``
(`check_record_path`); an absolute one is kept as metadata. Serving resolves every path and
refuses any outside the folder (`contained`), so no record, however written, nor a symlink made
later, reaches a file outside. Reference volumes are contained the same way in ``reference/``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from brainmap.errors import NotFound

PYRAMID_FOLDER = "pyramids"
REFERENCE_FOLDER = "reference"
"""Where reference volumes live (``reference/<ReferenceSpace.id>/``), contained the same way."""


class OutsidePyramids(NotFound):
    """A pixel path naming no file of the pyramids folder (HTTP 404 on the server)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"pixel file {path!r} {reason}")


def foreign(path: str) -> bool:
    """Whether `path` names a file in another storage (absolute), never opened here."""
    return path.startswith("/")


def climbing(path: str) -> str | None:
    """Why `path` tries to leave any folder it is read from: a NUL or a ``..`` part."""
    if "\x00" in path:
        return "holds a NUL character"
    if ".." in PurePosixPath(path).parts:
        return "climbs out with '..'"
    return None


def text_problem(path: str, folder: str = PYRAMID_FOLDER) -> str | None:
    """Why relative `path` cannot name a file of the store's `folder` by its text alone."""
    if (problem := climbing(path)) is not None:
        return problem
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] != folder:
        return f"is not inside the store's {folder}/ folder"
    return None


def check_record_path(path: str) -> None:
    """Refuse (ValueError) an imported relative path that does not name a file of
    ``pyramids/`` by its text; an absolute one (another storage's name) is kept."""
    problem = climbing(path) if foreign(path) else text_problem(path)
    if problem is not None:
        raise ValueError(f"pixel path {path!r} {problem}")


def contained(root: Path, path: str, folder: str = PYRAMID_FOLDER) -> Path:
    """The file `path` names under store `root`, symlinks resolved; OutsidePyramids when it
    is absolute, climbs, or resolves outside ``root/folder`` (``pyramids``, or ``reference``
    for reference volumes). Strings, not `Path`: this runs on every image request (about half
    the time)."""
    if foreign(path):
        raise OutsidePyramids(path, "is not a file of this store (another storage's name)")
    problem = text_problem(path, folder)
    if problem is not None:
        raise OutsidePyramids(path, problem)
    inside = os.path.realpath(os.path.join(root, folder))
    target = os.path.realpath(os.path.join(root, path))
    if not target.startswith(inside + os.sep):
        raise OutsidePyramids(path, f"resolves outside the store's {folder}/ folder")
    return Path(target)
