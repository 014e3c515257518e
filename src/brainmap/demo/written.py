"""A file the demo wrote, for its summary table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyvips


@dataclass(frozen=True)
class Download:
    """One file the demo wrote (an image or an SVG drawing), and how long it took."""

    what: str
    path: Path
    seconds: float

    def describe(self) -> tuple[str, str, str, str]:
        image = pyvips.Image.new_from_file(str(self.path))
        size = f"{image.width} x {image.height}"
        kib = f"{self.path.stat().st_size / 1024:,.0f}"
        return self.what, self.path.name, size, f"{kib} KiB in {self.seconds:.2f} s"
