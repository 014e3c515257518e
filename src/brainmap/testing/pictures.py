"""JPEG answers of the image service: decoded, measured and compared."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import simplejpeg

from brainmap.testing.verdicts import Difference, expect_equal
from brainmap.testing.wire import Reply, Server

JPEG_START = b"\xff\xd8"
DQT = 0xDB
START_OF_SCAN = 0xDA
STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})
"""Markers without a length field (TEM and the restart markers)."""
SAME_PIXELS = 2.0
"""Largest mean difference (0..255 scale) between two JPEGs of the same pixels."""
DIFFERENT_PIXELS = 4.0
"""Smallest mean difference between two JPEGs of images said to differ."""


@dataclass(frozen=True)
class Picture:
    """A decoded JPEG answer: its bytes and its RGB pixels (rows, columns, 3)."""

    url: str
    body: bytes
    pixels: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]


def download(server: Server, endpoint: str, image_id: int, **params: object) -> Reply:
    """``/api/v2/{endpoint}/{image_id}?...``, parameters in the order given."""
    query = urlencode({name: str(value) for name, value in params.items()}, safe=",")
    return server.get(f"/{endpoint}/{image_id}", query)


def picture(reply: Reply) -> Picture:
    """The decoded image of a successful answer; a Difference for an error status, a body
    that is not a JPEG, or a JPEG without three colour channels."""
    expect_equal(reply.status, 200, f"HTTP status of {reply.url} ({reply.excerpt()!r})")
    if not reply.body.startswith(JPEG_START):
        raise Difference(f"{reply.url}: the body is not a JPEG: {reply.body[:40]!r}")
    try:
        colorspace = simplejpeg.decode_jpeg_header(reply.body)[2]
        pixels = simplejpeg.decode_jpeg(reply.body, colorspace="RGB")
    except ValueError as error:
        raise Difference(f"{reply.url}: the JPEG does not decode ({error})") from None
    if colorspace not in ("YCbCr", "RGB"):
        raise Difference(f"{reply.url}: a {colorspace} JPEG, not three colour channels")
    return Picture(reply.url, reply.body, pixels)


def fetch_picture(server: Server, endpoint: str, image_id: int, **params: object) -> Picture:
    """`download` then `picture`."""
    return picture(download(server, endpoint, image_id, **params))


def mean_difference(first: np.ndarray, second: np.ndarray) -> float:
    """Mean absolute difference of two pixel arrays of one shape, on the 0..255 scale."""
    return float(np.abs(first.astype(np.int16) - second.astype(np.int16)).mean())


def quantization_steps(body: bytes) -> list[int]:
    """Every entry of the JPEG's quantization tables, in file order: what an encoder's
    `quality` setting chooses (larger steps, lower quality)."""
    steps: list[int] = []
    position = 2
    while position + 4 <= len(body) and body[position] == 0xFF:
        marker = body[position + 1]
        if marker in STANDALONE_MARKERS or marker == 0xFF:
            position += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(body[position + 2 : position + 4], "big")
        if marker == DQT:
            steps += _table_entries(body[position + 4 : position + 2 + length])
        if marker == START_OF_SCAN:
            break
        position += 2 + length
    return steps


def _table_entries(segment: bytes) -> list[int]:
    """The entries of the tables in one DQT segment: each table is a byte whose high nibble
    says 8- or 16-bit entries, then 64 entries."""
    entries: list[int] = []
    position = 0
    while position < len(segment):
        width = 2 if segment[position] >> 4 else 1
        table = segment[position + 1 : position + 1 + 64 * width]
        entries += [
            int.from_bytes(table[i : i + width], "big") for i in range(0, len(table), width)
        ]
        position += 1 + 64 * width
    return entries
