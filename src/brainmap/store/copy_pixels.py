"""The pixel side of `brainmap store copy`: each file the records name, and each reference
volume (a folder of files) as a whole, skipped when the destination holds it unchanged (the
same files, sizes and SHA-256), else copied through the destination root's own writes (whole
or not at all) and read back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from brainmap.errors import BrainmapError
from brainmap.store.copy_files import PixelFiles, volume_folder
from brainmap.store.copy_report import CopyReport, Progress
from brainmap.store.pixels import PixelRoot

NOT_REPLACED = "is at the destination with other bytes (another store's?); not replaced"
WORKERS = 8
"""Files copied at once: an object store answers each request after a round trip."""


@dataclass(frozen=True)
class Outcome:
    """What became of one file or volume: its files' sizes, whether they were copied (else
    skipped) and the problem, if any."""

    sizes: dict[str, int]
    copied: bool = False
    problem: str | None = None


def copy_pixels(
    named: dict[str, str],
    source: PixelRoot,
    destination: PixelRoot,
    fresh: bool,
    report: CopyReport,
    progress: Progress,
) -> None:
    """Copy or skip each file and volume of `named` (name: the record naming it), `WORKERS`
    at once; a line in `report.problems` for each that fails, in name order. With `fresh` (a
    destination that held no records), what the destination holds with other bytes is
    another store's: it is not replaced. When `progress` raises (Ctrl-C), the files being
    copied are finished and no other is begun."""
    theirs, ours = PixelFiles(source), PixelFiles(destination)
    progress.files(len(named))
    problems: dict[str, str] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {pool.submit(_one, name, theirs, ours, fresh): name for name in named}
        try:
            for future in as_completed(futures):
                name, outcome = futures[future], future.result()
                sizes = list(outcome.sizes.values())
                if outcome.problem is not None:
                    problems[name] = f"{name} ({named[name]}): {outcome.problem}"
                elif outcome.copied:
                    report.copied(sizes)
                else:
                    report.skipped(sizes)
                progress.file(name, sum(sizes))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    report.problems.extend(problems[name] for name in sorted(problems))


def _one(name: str, theirs: PixelFiles, ours: PixelFiles, fresh: bool) -> Outcome:
    """Skip or copy the file or volume `name`."""
    sizes: dict[str, int] = {}
    try:
        sizes = theirs.sizes(name)
        if not sizes:
            return Outcome(sizes, problem="missing at the source")
        return _copy(name, sizes, theirs, ours, fresh)
    except (OSError, BrainmapError) as error:
        return Outcome(sizes, problem=f"not copied: {error}")


def _copy(
    name: str, sizes: dict[str, int], theirs: PixelFiles, ours: PixelFiles, fresh: bool
) -> Outcome:
    """Skip the file or volume `name` of files `sizes` when the destination holds it
    unchanged, else copy it and read it back."""
    held = ours.sizes(name)
    if held == sizes and all(ours.checksum(file) == theirs.checksum(file) for file in sizes):
        return Outcome(sizes)
    if fresh and held:
        return Outcome(sizes, problem=NOT_REPLACED)
    if volume_folder(name):
        written: dict[str, str] = {}
        ours.root.write_volume(name, _volume_writer(theirs, name, list(sizes), written))
    else:
        written = {name: ours.copy_from(theirs, name)}
    stored = ours.sizes(name)
    if stored != sizes:
        found = f"{len(stored)} files of {sum(stored.values())} bytes"
        return Outcome(
            sizes, problem=f"was stored as {found}, not {len(sizes)} of {sum(sizes.values())}"
        )
    for file, digest in written.items():
        if ours.checksum(file) != digest:
            problem = f"{file} reads back from the destination with other bytes than were written"
            return Outcome(sizes, problem=problem)
    return Outcome(sizes, copied=True)


def _volume_writer(
    theirs: PixelFiles, name: str, files: list[str], written: dict[str, str]
) -> Callable[[Path], None]:
    """What `PixelRoot.write_volume` calls to make the volume `name`: its `files` downloaded
    into a hidden folder beside the new one, renamed into place when all are there; each
    file's SHA-256 goes into `written`."""

    def write(folder: Path) -> None:
        partial = folder.with_name(f".{folder.name}.copy.partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            for file in files:
                local = partial / PurePosixPath(file).relative_to(name)
                local.parent.mkdir(parents=True, exist_ok=True)
                written[file] = theirs.download(file, local)
            partial.rename(folder)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    return write
