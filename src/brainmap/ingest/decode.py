"""Open an input file strictly and decode it in full before anything is written.

libvips decodes lazily and, by default, fills what it cannot read with black. Here every file
is opened with ``fail_on`` (any libtiff warning for TIFF: a short strip or tile is only a
warning there; any error for PNG and JPEG) and decoded in full once, into its histogram, so a
truncated or corrupt file is refused before the store is touched. Slide-scanner files go
through OpenSlide (`brainmap.ingest.slides`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvips

from brainmap.ingest import slides
from brainmap.ingest.depth import largest_sample
from brainmap.ingest.errors import IngestError
from brainmap.ingest.pages import MAX_CHANNELS, Page, channel_pages, page_header

_LOADERS = {"Tiff": "warning", "Png": "error", "Jpeg": "error"}
PICTURE_FORMATS = ("uchar", "ushort")
LABEL_FORMATS = ("uchar", "ushort", "uint")
_BITS = {"uchar": 8, "ushort": 16, "uint": 32}


@dataclass(frozen=True)
class Checked:
    """An input decoded in full: what its image holds and how to read it again."""

    path: Path
    width: int
    height: int
    bands: int
    format: str
    histogram: np.ndarray | None  # 2**bits x bands, for pictures
    largest: int = 0  # the largest sample (pictures)
    pages: int = 1  # leading pages joined as channels
    drop_alpha: bool = False
    slide: bool = False
    resolution: float | None = None  # µm per pixel, when the file says

    def pixels(self, scratch: Path) -> pyvips.Image:
        """The image again, lazily (`scratch`: a folder for a slide's decoded pixels)."""
        if self.slide:
            return slides.level_zero(self.path, scratch)
        image = _compose(self.path, _loader(self.path), self.pages)
        return image[: self.bands] if self.drop_alpha else image


def _detail(error: pyvips.Error) -> str:
    """libvips' reason, as " (reason)", or nothing when it gave none."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith("unable to call")]
    return f" ({reasons[-1]})" if reasons else ""


def _loader(path: Path) -> str:
    """Which of libvips' TIFF, PNG and JPEG loaders reads `path`; IngestError for others."""
    try:
        header = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
        found = str(header.get("vips-loader"))
    except pyvips.Error as error:
        detail = _detail(error)
    else:
        name = next((key for key in _LOADERS if found.startswith(key.lower())), None)
        if name is not None:
            return name
        detail = f" (libvips reads it as {found})"
    raise IngestError(
        f"{path}: not a readable TIFF, PNG or JPEG image or slide-scanner file{detail}"
    )


def _open(path: Path, loader: str, page: int = 0) -> pyvips.Image:
    options: dict[str, object] = {"access": "sequential", "fail_on": _LOADERS[loader]}
    if loader == "Tiff":
        options["page"] = page
    return pyvips.Image.new_from_file(str(path), **options)


def _compose(path: Path, loader: str, pages: int) -> pyvips.Image:
    first = _open(path, loader)
    if pages == 1:
        return first
    return first.bandjoin([_open(path, loader, page) for page in range(1, pages)])


def _page_count(path: Path, loader: str, first: pyvips.Image) -> int:
    if loader != "Tiff" or "n-pages" not in first.get_fields():
        return 1
    pages = int(first.get("n-pages"))
    if pages == 1:
        return 1
    headers: list[Page] = [page_header(first)]
    headers += [page_header(_open(path, loader, page)) for page in range(1, pages)]
    return channel_pages(path, first, headers)


def _readable(path: Path) -> None:
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if path.is_dir():
        raise IngestError(f"{path}: is a directory, not an image file")
    if not path.is_file():  # a socket, a FIFO (which would block), a device
        raise IngestError(f"{path}: not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise IngestError(f"{path}: {error.strerror}") from None


def _histogram(path: Path, image: pyvips.Image) -> np.ndarray:
    """Decode every pixel once (a truncated or corrupt file fails here): 2**bits x bands
    counts (libvips stops a 16-bit histogram at the largest value; the rest are zeros)."""
    try:
        counts = np.asarray(image.hist_find().numpy()).reshape(-1, image.bands)
    except pyvips.Error as error:
        raise IngestError(f"{path}: truncated or corrupt{_detail(error)}") from None
    full = np.zeros((2 ** _BITS[image.format], image.bands), dtype=np.int64)
    full[: counts.shape[0]] = counts
    return full


def _has_alpha(image: pyvips.Image, pages: int) -> bool:
    """Whether the last band is alpha (never for channels joined from pages)."""
    return pages == 1 and bool(image.hasalpha())


def _alpha_dropped(path: Path, image: pyvips.Image, histogram: np.ndarray, pages: int) -> bool:
    """True when the image has an alpha channel, which must then be fully opaque."""
    if not _has_alpha(image, pages):
        return False
    opaque = 2 ** _BITS[image.format] - 1
    if histogram[:opaque, -1].any():
        raise IngestError(
            f"{path}: its alpha channel is not fully opaque; brainmap keeps no transparency: "
            "flatten the image onto a background (or, if that channel holds data, save at "
            f"most {MAX_CHANNELS} channels a file)"
        )
    return True


def check(path: Path, formats: tuple[str, ...] = PICTURE_FORMATS) -> Checked:
    """`path` decoded in full and checked; IngestError naming the file and the problem."""
    _readable(path)
    if slides.vendor(path) is not None:
        width, height, histogram, resolution = slides.check(path)
        return Checked(
            path,
            width,
            height,
            3,
            "uchar",
            histogram,
            largest_sample(histogram),
            slide=True,
            resolution=resolution,
        )
    loader = _loader(path)
    try:
        pages = _page_count(path, loader, _open(path, loader))
        image = _compose(path, loader, pages)
    except pyvips.Error as error:
        raise IngestError(f"{path}: not a readable image{_detail(error)}") from None
    if image.format not in formats:
        raise IngestError(
            f"{path}: {image.format} samples; brainmap ingests "
            + " or ".join(f"{_BITS[f]}-bit" for f in formats)
            + " unsigned integers"
        )
    if image.format not in PICTURE_FORMATS:  # 32-bit label maps: decode without a histogram
        try:
            image.max()
        except pyvips.Error as error:
            raise IngestError(f"{path}: truncated or corrupt{_detail(error)}") from None
        return Checked(
            path, image.width, image.height, image.bands, image.format, None, pages=pages
        )
    bands = image.bands - _has_alpha(image, pages)
    if bands > MAX_CHANNELS:
        raise IngestError(
            f"{path}: {image.bands} channels; brainmap keeps 1 to {MAX_CHANNELS} an image: "
            "save each channel (or each group of up to three) as its own file and ingest those"
        )
    histogram = _histogram(path, image)
    drop_alpha = _alpha_dropped(path, image, histogram, pages)
    kept = histogram[:, :bands]
    return Checked(
        path,
        image.width,
        image.height,
        bands,
        image.format,
        kept,
        largest_sample(kept),
        pages,
        drop_alpha,
    )


def open_image(path: Path) -> pyvips.Image:
    """The full-resolution image of a TIFF, PNG or JPEG file, checked in full."""
    return check(path).pixels(path.parent)
