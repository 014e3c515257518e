"""Pixels of a mirrored store: which levels it holds for a record path, and reading from them.

A mirror (``brainmap mirror``) keeps each image as downloaded at each downsample it copied, as
a pyramid whose level 0 is that downsample (table ``mirrored_pyramids``). A request is answered
from the coarsest held level at or below the one asked for; a finer level than any held is
NotFound saying which levels the mirror has. Mirrored pixels are already rendered (annotation
plates are RGB as the source served them), so they are never painted again.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from brainmap.errors import NotFound
from brainmap.geometry import Box, RegionPlan
from brainmap.store.lookups import ImageSource
from brainmap.store.schema import mirrored_pyramids

_HELD = select(mirrored_pyramids.c.downsample, mirrored_pyramids.c.file).where(
    mirrored_pyramids.c.path == bindparam("path")
)


def held_levels(session: Session, path: str) -> dict[int, str]:
    """Downsample -> local pyramid file for a record path; empty when it is not mirrored.

    One prepared statement on the session's connection (about 40 us a request)."""
    rows = session.connection().execute(_HELD, {"path": path})
    return {downsample: file for downsample, file in rows}


def mirrored_levels(session: Session) -> set[tuple[str, int]]:
    """Every (record path, downsample) the mirror holds."""
    rows = session.execute(select(mirrored_pyramids.c.path, mirrored_pyramids.c.downsample))
    return {(path, downsample) for path, downsample in rows}


def record_mirrored_level(session: Session, path: str, downsample: int, file: str) -> None:
    """Record that the pyramid `file` holds the record `path` at `downsample` (replacing any
    earlier file for it)."""
    table = mirrored_pyramids
    where = (table.c.path == path) & (table.c.downsample == downsample)
    session.execute(delete(table).where(where))
    session.execute(insert(table).values(path=path, downsample=downsample, file=file))


def from_held_level(
    image_id: int, source: ImageSource, plan: RegionPlan, levels: dict[int, str]
) -> tuple[ImageSource, RegionPlan]:
    """The source and plan rebased on the held pyramid that answers `plan`."""
    usable = [level for level in levels if level <= plan.downsample]
    if not usable:
        held = ", ".join(str(level) for level in sorted(levels))
        raise NotFound(
            f"image {image_id}: this mirror holds downsample {held} only, not {plan.downsample}"
        )
    base = max(usable)
    scale = 2**base
    box = plan.box
    left, top = box.left // scale, box.top // scale
    width = -(-box.right // scale) - left
    height = -(-box.bottom // scale) - top
    rebased = replace(plan, downsample=plan.downsample - base, box=Box(left, top, width, height))
    return replace(source, path=levels[base], graph_id=None, nearest=False), rebased
