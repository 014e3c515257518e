"""The pixel side of `brainmap store copy`: each file the records name, and each reference
volume (a folder of files) as a whole, skipped when the destination holds it unchanged (the
same files, sizes and SHA-256), else copied through the destination root's own writes (whole
or not at all) and read back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from brainmap.errors import BrainmapError
from brainmap.store.copy_files import PixelFiles, volume_folder
from brainmap.store.copy_report import CopyReport, Progress
from brainmap.store.pixels import PixelRoot

NOT_REPLACED = "is at the destination with other bytes (another store's?); not replaced"


def copy_pixels(
    named: dict[str, str],
    source: PixelRoot,
    destination: PixelRoot,
    fresh: bool,
    report: CopyReport,
    progress: Progress,
) -> None:
    """Copy or skip each file and volume of `named` (name: the record naming it); a line in
    `report.problems` for each that fails. With `fresh` (a destination that held no records),
    what the destination holds with other bytes is another store's: it is not replaced."""
    theirs, ours = PixelFiles(source), PixelFiles(destination)
    progress.files(len(named))
    for name, named_by in sorted(named.items()):
        sizes: dict[str, int] = {}
        try:
            sizes = theirs.sizes(name)
            problem = _copy(name, sizes, theirs, ours, fresh, report) if sizes else None
            if not sizes:
                problem = "missing at the source"
        except (OSError, BrainmapError) as error:
            problem = f"not copied: {error}"
        if problem is not None:
            report.problems.append(f"{name} ({named_by}): {problem}")
        progress.file(name, sum(sizes.values()))


def _copy(
    name: str,
    sizes: dict[str, int],
    theirs: PixelFiles,
    ours: PixelFiles,
    fresh: bool,
    report: CopyReport,
) -> str | None:
    """Skip or copy the file or volume `name` of files `sizes`; the problem, if any."""
    held = ours.sizes(name)
    if held == sizes and all(ours.checksum(file) == theirs.checksum(file) for file in sizes):
        report.skipped(list(sizes.values()))
        return None
    if fresh and held:
        return NOT_REPLACED
    if volume_folder(name):
        written: dict[str, str] = {}
        ours.root.write_volume(name, _volume_writer(theirs, name, list(sizes), written))
    else:
        written = {name: ours.copy_from(theirs, name)}
    stored = ours.sizes(name)
    if stored != sizes:
        found = f"{len(stored)} files of {sum(stored.values())} bytes"
        return f"was stored as {found}, not {len(sizes)} of {sum(sizes.values())}"
    for file, digest in written.items():
        if ours.checksum(file) != digest:
            return f"{file} reads back from the destination with other bytes than were written"
    report.copied(list(sizes.values()))
    return None


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
