"""Atomic file writes: a reader never sees a partial file at the destination."""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
from collections.abc import Iterable, Iterator
from typing import BinaryIO

FILE_MODE = 0o666
"""Mode asked for new files; the process umask takes its bits away, as for any file."""


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, sync: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` only if the block finishes without error.

    The data goes to a hidden temporary file in the destination folder (so the final rename
    stays on one file system), is flushed and (with `sync`) fsynced, then moved over `path` with
    `os.replace`. Without `sync` the caller makes it durable later (see `sync_folder`). On any
    error, including cancellation, the temporary file is removed and an existing file at `path`
    is left untouched. The file gets the mode the umask gives (not ``mkstemp``'s 0600), so
    colleagues can read a shared folder.
    """
    target = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(target))
    descriptor, temporary = _create_temporary(folder, name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _create_temporary(folder: str, name: str) -> tuple[int, str]:
    """Open a new ``.<name>.<random>.part`` in `folder` for writing (never an existing file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.part")
        try:
            return os.open(temporary, flags, FILE_MODE), temporary
        except FileExistsError:
            continue


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


_SYNCFS = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None) if os.name == "posix" else None


def sync_folder(folder: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]]) -> None:
    """Make the files at `paths` in `folder`, and their renames, durable.

    One ``syncfs`` of the folder's file system where the platform has it (Linux): a single
    journal commit for a whole batch instead of one fsync per file; elsewhere each file and its
    folder are fsynced.
    """
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS is not None:
            if _SYNCFS(descriptor) != 0:
                error = ctypes.get_errno()
                raise OSError(error, os.strerror(error), os.fspath(folder))
            return
        names = [os.fspath(path) for path in paths]
        for name in [*names, *{os.path.dirname(name) for name in names}]:
            file_descriptor = os.open(name, os.O_RDONLY)
            try:
                os.fsync(file_descriptor)
            finally:
                os.close(file_descriptor)
    finally:
        os.close(descriptor)
