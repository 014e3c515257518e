"""Which pages of an input file make its image: channels stored one a page, or one page.

* An OME-TIFF (or ImageJ TIFF) says how many channels, z-planes and time points it holds. Its
  channels become the image's channels; more than one plane or time point is refused (each is
  an image of its own).
* Any other TIFF whose leading pages share page 0's size, one sample each, stores one channel
  a page (up to 3). Pages smaller than page 0 are reduced copies (a pyramid TIFF's levels,
  a thumbnail) and are not read: the image is page 0.
* Anything else is refused, with how to ingest it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pyvips

from brainmap.ingest.errors import IngestError

MAX_CHANNELS = 3
_OME_SIZE = re.compile(r'\bSize([CZT])="(\d+)"')
_IMAGEJ_SIZE = re.compile(r"^(channels|slices|frames)=(\d+)$", re.MULTILINE)
SPLIT_ADVICE = "save each page as its own file and ingest the files as separate images"


class Page(NamedTuple):
    """The header of one page: size, samples a pixel and sample format."""

    width: int
    height: int
    bands: int
    format: str


def page_header(image: pyvips.Image) -> Page:
    """The header of an opened page."""
    return Page(image.width, image.height, image.bands, image.format)


def _declared(description: str) -> tuple[int, int] | None:
    """(channels, planes x time points) an OME-XML or ImageJ description declares."""
    if "<OME" in description:
        sizes = {axis: int(value) for axis, value in _OME_SIZE.findall(description)}
    elif description.startswith("ImageJ="):
        names = {"channels": "C", "slices": "Z", "frames": "T"}
        sizes = {names[key]: int(value) for key, value in _IMAGEJ_SIZE.findall(description)}
    else:
        return None
    return sizes.get("C", 1), sizes.get("Z", 1) * sizes.get("T", 1)


def _too_many(path: Path, count: int, what: str) -> IngestError:
    return IngestError(
        f"{path}: {count} {what}; brainmap keeps 1 to {MAX_CHANNELS} channels an image: "
        f"{SPLIT_ADVICE}, or save at most {MAX_CHANNELS} of them as one image"
    )


def _leading_run(path: Path, pages: list[Page]) -> list[Page]:
    """The pages of page 0's size before the first smaller one; refuses layouts that mix."""
    size = (pages[0].width, pages[0].height)
    count = next((i for i, p in enumerate(pages) if (p.width, p.height) != size), len(pages))
    later = pages[count:]
    if any((p.width, p.height) == size for p in later):
        raise IngestError(
            f"{path}: pages of page 0's size come after pages of another size; cannot tell "
            f"channels from reduced copies: {SPLIT_ADVICE}"
        )
    if any(p.width > size[0] or p.height > size[1] for p in later):
        raise IngestError(
            f"{path}: a later page is larger than page 0, which brainmap reads as the "
            f"full-resolution image: {SPLIT_ADVICE}"
        )
    return pages[:count]


def channel_pages(path: Path, first: pyvips.Image, pages: list[Page]) -> int:
    """How many leading pages (one sample each) are the image's channels; 1 for page 0 alone.

    `first` is page 0 opened, `pages` every page's header (page 0 first).
    """
    fields = first.get_fields()
    description = str(first.get("image-description")) if "image-description" in fields else ""
    declared = _declared(description)
    if declared is None:
        leading = _leading_run(path, pages)
    else:
        channels, planes = declared
        if planes > 1:
            raise IngestError(
                f"{path}: {planes} z-planes or time points; brainmap stores one plane an "
                f"image: {SPLIT_ADVICE}"
            )
        if channels == pages[0].bands:
            return 1
        leading = pages[:channels]
        if len(leading) != channels:
            raise IngestError(f"{path}: declares {channels} channels but has {len(pages)} pages")
    if len(leading) == 1:
        return 1
    if any(p != leading[0] for p in leading):
        raise IngestError(
            f"{path}: its {len(leading)} pages of one size differ in samples or sample format"
        )
    if leading[0].bands != 1:
        raise IngestError(
            f"{path}: {len(leading)} pages of {leading[0].width} x {leading[0].height} with "
            f"{leading[0].bands} samples each: a stack of images, not channels: {SPLIT_ADVICE}"
        )
    if len(leading) > MAX_CHANNELS:
        raise _too_many(path, len(leading), "channels (one a page)")
    return len(leading)
