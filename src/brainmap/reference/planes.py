"""The planes of section and the reference axes they leave as a grid's rows and columns."""

from __future__ import annotations

PLANES = {"coronal": 0, "horizontal": 1, "sagittal": 2}
"""A plane of section -> the index of its normal among the reference axes (p, i, r)."""
AXES = ("p", "i", "r")
CCF_EXTENT_UM = (13200.0, 8000.0, 11400.0)
"""The mouse CCF's extent along p, i, r (registration.md §1)."""


def plane_axes(plane: str) -> tuple[int, int, int]:
    """The normal's index and the grid's row and column axes' indices for a plane's name."""
    if plane not in PLANES:
        raise ValueError(f"plane must be one of {', '.join(PLANES)}, not {plane!r}")
    normal = PLANES[plane]
    rows, cols = (axis for axis in range(3) if axis != normal)
    return normal, rows, cols
