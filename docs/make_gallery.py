"""Regenerate docs/colormaps.png: each of the twelve colormap= tables applied to a grey ramp.

Each row is what the server returns for ``colormap=<name>`` over a horizontal ramp 0..255
(the full pipeline step 6, not just the raw table), labelled with its id and name.

    .venv/bin/python docs/make_gallery.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvips

from brainmap.imaging.filters import apply_colormap
from brainmap.params import COLORMAPS, parse_colormap

ROW_HEIGHT = 28
RAMP_WIDTH = 512
LABEL_WIDTH = 150
OUTPUT = Path(__file__).with_name("colormaps.png")


def label(text: str) -> pyvips.Image:
    """White text on a dark strip, LABEL_WIDTH x ROW_HEIGHT."""
    glyphs = pyvips.Image.text(text, font="sans 11", dpi=96)
    strip = pyvips.Image.black(LABEL_WIDTH, ROW_HEIGHT).bandjoin([0, 0]).cast("uchar") + 40
    ink = glyphs.extract_area(0, 0, min(glyphs.width, LABEL_WIDTH - 8), glyphs.height)
    top = (ROW_HEIGHT - ink.height) // 2
    return strip.composite2(
        ink.new_from_image([255, 255, 255]).bandjoin(ink).copy(interpretation="srgb"),
        "over",
        x=6,
        y=top,
    ).flatten()


def row(name: str) -> pyvips.Image:
    ramp = np.tile(np.linspace(0, 255, RAMP_WIDTH).round().astype(np.uint8), (ROW_HEIGHT, 1))
    coloured = apply_colormap(pyvips.Image.new_from_array(ramp), parse_colormap(name))
    return label(f"{COLORMAPS[name]:>2}  {name}").cast("uchar").join(coloured, "horizontal")


def main() -> None:
    names = sorted(COLORMAPS, key=COLORMAPS.__getitem__)
    gallery = pyvips.Image.arrayjoin([row(name) for name in names], across=1, shim=2)
    gallery.pngsave(str(OUTPUT), compression=9, strip=True)
    print(f"wrote {OUTPUT.name}: {gallery.width} x {gallery.height}")


if __name__ == "__main__":
    main()
