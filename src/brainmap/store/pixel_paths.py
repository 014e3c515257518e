"""Which files a record's pixel path may open: only files inside the store's pyramids folder.

A pixel ``path`` (``SubImage.path``, ``AlternateImage.path``; a mirror's held level is the file
of ``mirrored_pyramids``) is one of two things:

* a relative path is a store file, named from the store root and lying in ``pyramids/``; it
  never climbs with ``..`` and, symlinks resolved, never lands outside that folder;
* an absolute path is a name in someone else's storage (Allen's records carry
  ``/external/aibssan/...aff``): kept as metadata and as the key of a mirror's copies, never
  opened.

Import refuses a relative path whose text tries to climb out (`check_record_path`); any other
path is kept as metadata. Serving resolves every path and refuses any outside the folder
(`contained`), so no record, however written, nor a symlink made later, reaches a file outside.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from brainmap.errors import NotFound

PYRAMID_FOLDER = "pyramids"


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


def text_problem(path: str) -> str | None:
    """Why relative `path` cannot name a file of the pyramids folder by its text alone."""
    if (problem := climbing(path)) is not None:
        return problem
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or parts[0] != PYRAMID_FOLDER:
        return f"is not inside the store's {PYRAMID_FOLDER}/ folder"
    return None


def check_record_path(path: str) -> None:
    """Refuse (ValueError) an imported path that tries to climb out; any other is kept (an
    absolute one names another storage; one outside ``pyramids/`` is never opened)."""
    problem = climbing(path)
    if problem is not None:
        raise ValueError(f"pixel path {path!r} {problem}")


def contained(root: Path, path: str) -> Path:
    """The file `path` names under store `root`, symlinks resolved; OutsidePyramids when it
    is absolute, climbs, or resolves outside ``root/pyramids``. Strings, not `Path`: this runs
    on every image request (about half the time)."""
    if foreign(path):
        raise OutsidePyramids(path, "is not a file of this store (another storage's name)")
    problem = text_problem(path)
    if problem is not None:
        raise OutsidePyramids(path, problem)
    folder = os.path.realpath(os.path.join(root, PYRAMID_FOLDER))
    target = os.path.realpath(os.path.join(root, path))
    if not target.startswith(folder + os.sep):
        raise OutsidePyramids(path, f"resolves outside the store's {PYRAMID_FOLDER}/ folder")
    return Path(target)
