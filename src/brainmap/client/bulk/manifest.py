"""The record of a bulk download: one SQLite file, by default in the destination folder.

Each planned file has a row (path relative to the folder, url, expected size, bytes, sha256,
status). Rows change in transactions, so a killed run leaves a consistent manifest; a rerun
skips files that are verified and still on disk with their recorded length.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from brainmap.errors import BadParameter

FILENAME = "brainmap-manifest.sqlite"
PENDING = "pending"
VERIFIED = "verified"
FAILED = "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    bytes INTEGER,
    sha256 TEXT,
    status TEXT NOT NULL,
    error TEXT
)
"""


Render = Callable[[bytes], bytes]
"""Turns a verified body into the file to write (e.g. a section warped to the reference)."""


@dataclass(frozen=True)
class Job:
    """One file to fetch: where it goes (relative to the folder), from where, and its expected
    width and height (None when unknown). With `render`, the file written is `render(body)`
    (picklable, for dask workers), not the body itself."""

    path: str
    url: str
    width: int | None = None
    height: int | None = None
    render: Render | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> tuple[int, int] | None:
        return None if self.width is None or self.height is None else (self.width, self.height)


SizeOf = Callable[[str], "int | None"]
"""Length of the file a manifest path names, None if it is missing."""


class Manifest:
    """The manifest in the SQLite file `path` (created, with its folder, if missing) of files
    whose current lengths `size_of` reports. Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], size_of: SizeOf) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.size_of = size_of
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Checkpoint and close (the WAL side files disappear)."""
        self._db.close()

    def plan(self, jobs: Iterable[Job]) -> list[Job]:
        """Record `jobs` and return those still to fetch.

        A job is done when its row is verified for the same URL and the file is on disk with
        the recorded length; any other row (new, pending, failed, file missing or resized) goes
        back to pending. A file on disk that an earlier run fetched from another URL (the same
        name asked for with other parameters, another service or server) is a conflict: nothing
        changes and BadParameter names it.
        """
        todo = []
        with self.transaction():
            for job in jobs:
                self._refuse_conflict(job)
                if not self._is_done(job):
                    todo.append(job)
                    self._db.execute(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, NULL, NULL, ?, NULL)",
                        (job.path, job.url, job.width, job.height, PENDING),
                    )
        return todo

    def verified(self, path: str, size: int, sha256: str) -> None:
        """Mark `path` fetched, verified and in place."""
        self._db.execute(
            "UPDATE files SET bytes = ?, sha256 = ?, status = ?, error = NULL WHERE path = ?",
            (size, sha256, VERIFIED, path),
        )

    def failed(self, path: str, error: str) -> None:
        """Mark `path` failed after every attempt, with the reason."""
        self._db.execute(
            "UPDATE files SET status = ?, error = ? WHERE path = ?", (FAILED, error, path)
        )

    def _refuse_conflict(self, job: Job) -> None:
        found: tuple[str] | None = self._db.execute(
            "SELECT url FROM files WHERE path = ?", (job.path,)
        ).fetchone()
        if found is not None and found[0] != job.url and self.size_of(job.path) is not None:
            raise BadParameter(
                "out",
                f"{job.path} is already there, downloaded from {found[0]}; this download asks "
                f"for {job.url}: download into another folder, or delete that file first",
            )

    def _is_done(self, job: Job) -> bool:
        found: tuple[str, int | None, str] | None = self._db.execute(
            "SELECT url, bytes, status FROM files WHERE path = ?", (job.path,)
        ).fetchone()
        if found is None:
            return False
        url, size, status = found
        return url == job.url and status == VERIFIED and self.size_of(job.path) == size

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make the row changes inside the block all or nothing."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
