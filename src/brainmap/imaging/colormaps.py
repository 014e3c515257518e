"""The twelve 256-entry colour lookup tables of ``colormap=`` (ids as allensdk's COLORMAPS).

Each table is defined by a few control colours spaced along 0..255 and linearly interpolated:

==  ===========  ===============================================================
id  name         colours, low to high
==  ===========  ===============================================================
0   gray         black, white
1   hotmetal     black, red, yellow, white
2   jet          dark blue, blue, cyan, yellow, red, dark red
3   redtemp      black, dark red, red, orange, pale yellow
4   expression   blue, cyan, green, yellow, red (the expression heat map)
5   red          black, red
6   blue         black, blue
7   green        black, green
8   aba          dark violet, purple, magenta, orange, yellow
9   aibsmap_alt  black, navy, teal, lime, white
10  colormap     a full hue sweep: red, yellow, green, cyan, blue, magenta
11  projection   black, dark green, green, light green, white
==  ===========  ===============================================================
"""

from __future__ import annotations

from functools import cache

import numpy as np

Colour = tuple[int, int, int]

_CONTROL_COLOURS: dict[int, tuple[Colour, ...]] = {
    0: ((0, 0, 0), (255, 255, 255)),
    1: ((0, 0, 0), (255, 0, 0), (255, 255, 0), (255, 255, 255)),
    2: ((0, 0, 128), (0, 0, 255), (0, 255, 255), (255, 255, 0), (255, 0, 0), (128, 0, 0)),
    3: ((0, 0, 0), (128, 0, 0), (255, 0, 0), (255, 160, 0), (255, 255, 200)),
    4: ((0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0)),
    5: ((0, 0, 0), (255, 0, 0)),
    6: ((0, 0, 0), (0, 0, 255)),
    7: ((0, 0, 0), (0, 255, 0)),
    8: ((40, 0, 60), (110, 0, 160), (230, 0, 200), (255, 140, 0), (255, 255, 0)),
    9: ((0, 0, 0), (0, 0, 128), (0, 128, 128), (0, 255, 0), (255, 255, 255)),
    10: ((255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255)),
    11: ((0, 0, 0), (0, 100, 0), (0, 200, 0), (150, 255, 150), (255, 255, 255)),
}


@cache
def lookup_table(table_id: int) -> np.ndarray:
    """The 256 x 3 uint8 table for `table_id`; KeyError for an unknown id."""
    controls = np.array(_CONTROL_COLOURS[table_id], dtype=np.float64)
    positions = np.linspace(0, 255, len(controls))
    levels = np.arange(256)
    channels = [np.interp(levels, positions, controls[:, c]) for c in range(3)]
    table = np.rint(np.stack(channels, axis=1)).astype(np.uint8)
    table.setflags(write=False)
    return table


def table_ids() -> list[int]:
    """Every defined table id."""
    return sorted(_CONTROL_COLOURS)
