"""Atomic file writes: a reader never sees a partial file at the destination."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` only if the block finishes without error.

    The data goes to a hidden temporary file in the destination folder (so the final rename
    stays on one file system), is flushed and fsynced, then moved over `path` with
    `os.replace`. On any error, including cancellation, the temporary file is removed and an
    existing file at `path` is left untouched.
    """
    target = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(target))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_partials(folder: str | os.PathLike[str]) -> int:
    """Delete the temporary files `atomic_writer` leaves behind when its process is killed;
    return how many were removed. Only call it when no writer is active in `folder`."""
    removed = 0
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name.startswith(".") and entry.name.endswith(".part"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed
