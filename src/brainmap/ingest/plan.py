"""Everything ingest checks before it writes: options, the store's data set, every input
decoded in full, and what follows from them (bit depths, the Equalization).

One data set has one scale (docs/ingest.md, "Bit depth"): its 16-bit images are recorded as 12
when every sample of them fits 0..4095 (the scale of 8- and 12-bit images, 4095), else as 16
(scale 65535), and a 16-bit data set takes no 8- or 12-bit images.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.orm import Session

from brainmap.ingest import catalogue, depth
from brainmap.ingest.annotation import clashing_ids, read_structures
from brainmap.ingest.decode import LABEL_FORMATS, Checked, check
from brainmap.ingest.errors import IngestError, IngestUsageError
from brainmap.service import TWELVE_BIT_SCALE, image_scale
from brainmap.store.data_sets import image_bits
from brainmap.store.folder import Store
from brainmap.store.schema import DataSet, SectionDataSet


@dataclass(frozen=True)
class Inputs:
    """The files to ingest: images, and per image its masks (by image type) and label map."""

    images: Sequence[Path]
    masks: Mapping[str, Sequence[Path]] = field(default_factory=dict)
    labels: Sequence[Path] = ()
    structures: Path | None = None


@dataclass(frozen=True)
class Options:
    """Where and how: the data set, its window, pixel size, plane and product."""

    data_set_id: int
    window: tuple[int, ...] | None = None
    resolution: float | None = None
    plane: str | None = None
    product: str | None = None


@dataclass(frozen=True)
class Item:
    """One image checked, with its bit depth, its masks and its label map."""

    image: Checked
    bits: int
    masks: tuple[tuple[str, Checked], ...]
    labels: Checked | None


@dataclass(frozen=True)
class Plan:
    """An ingest checked in full, ready to write."""

    options: Options
    items: tuple[Item, ...]
    structures: list[dict[str, str]] | None
    equalization: tuple[int, ...] | None  # to set; None keeps the data set's (or has none)


@dataclass(frozen=True)
class _DataSet:
    """What the store already holds of the data set."""

    bits: set[int | None] = field(default_factory=set)
    equalized: bool = False


def _check_options(inputs: Inputs, options: Options) -> None:
    if not inputs.images:
        raise IngestUsageError("no images given")
    seen: set[Path] = set()
    for path in inputs.images:
        if path.resolve() in seen:
            raise IngestUsageError(f"{path}: given twice")
        seen.add(path.resolve())
    for what, paths in [*inputs.masks.items(), ("label map", inputs.labels)]:
        if paths and len(paths) != len(inputs.images):
            raise IngestUsageError(
                f"{len(paths)} {what.lower()} files for {len(inputs.images)} images"
            )
    if inputs.labels and inputs.structures is None:
        raise IngestUsageError("label maps need a structure table (--structures FILE.csv)")
    if options.resolution is not None and not 0 < options.resolution < math.inf:
        raise IngestUsageError(
            f"--resolution {options.resolution}: must be above 0 µm/pixel, and finite"
        )
    window = options.window
    if window is not None and (
        len(window) != 6 or any(h <= lo for lo, h in zip(window[::2], window[1::2], strict=True))
    ):
        raise IngestUsageError("--range: six numbers rl,ru,gl,gu,bl,bu with each upper > lower")


def _stored(session: Session | None, options: Options) -> _DataSet:
    """The data set as stored, after checking the options that name store rows."""
    catalogue.choose_product(session, options.product)
    plane = catalogue.choose_plane(session, options.plane)
    if session is None:
        return _DataSet()
    data_set = session.get(DataSet, options.data_set_id)
    if data_set is None:
        return _DataSet()
    if not isinstance(data_set, SectionDataSet):
        raise IngestUsageError(
            f"--data-set {options.data_set_id}: exists and is not a SectionDataSet"
        )
    stored_plane = data_set.plane_of_section_id
    if plane is not None and stored_plane is not None and stored_plane != plane.id:
        raise IngestUsageError(
            f"--plane {options.plane}: data set {options.data_set_id} is already cut in "
            f"plane {stored_plane}"
        )
    return _DataSet(image_bits(session, options.data_set_id), data_set.equalization is not None)


def _check_item(
    inputs: Inputs, index: int, image: Checked
) -> tuple[list[tuple[str, Checked]], Checked | None]:
    """The masks and label map of image `index`, decoded, checked, of the image's size."""
    masks = []
    for image_type, paths in inputs.masks.items():
        if paths:
            mask = check(paths[index])
            _same_size(mask, image, image_type.lower())
            masks.append((image_type, mask))
    labels = check(inputs.labels[index], LABEL_FORMATS) if inputs.labels else None
    if labels is not None:
        _same_size(labels, image, "label map")
        if labels.bands != 1:
            raise IngestError(f"{labels.path}: a label map needs one unsigned integer channel")
    return masks, labels


def _same_size(other: Checked, image: Checked, what: str) -> None:
    if (other.width, other.height) != (image.width, image.height):
        raise IngestError(
            f"{other.path}: {what} is {other.width} x {other.height}, "
            f"its image {image.width} x {image.height}"
        )


def _sixteen_bit(images: list[Checked], stored: _DataSet, data_set_id: int) -> bool:
    """Whether the data set's deep images are 16-bit; refuses mixing scales."""
    deep = [c for c in images if c.format == "ushort"]
    over = [c for c in deep if c.largest > TWELVE_BIT_SCALE]
    sixteen = bool(over) or 16 in stored.bits
    shallow = [c for c in images if c.format == "uchar"]
    if sixteen and (shallow or stored.bits - {16}):
        named = (over or shallow or images)[0].path
        raise IngestError(
            f"{named}: data set {data_set_id} would hold 16-bit images (samples above 4095, "
            "scale 65535) with 8- or 12-bit ones (scale 4095); a data set has one scale: "
            "ingest them into separate data sets"
        )
    return sixteen


def plan(
    store: Store | None,
    inputs: Inputs,
    options: Options,
    on_check: Callable[[Path], None] | None = None,
) -> Plan:
    """Check everything (`store` None: it does not exist yet); IngestError on the first
    problem, before anything is written."""
    _check_options(inputs, options)
    if store is None:
        stored = _stored(None, options)
    else:
        with store.session() as session:
            stored = _stored(session, options)
    structures = read_structures(inputs.structures) if inputs.structures and inputs.labels else None
    if structures and store is not None:
        with store.session() as session:
            clash = clashing_ids(session, options.data_set_id, structures)
        if clash:
            raise IngestError(
                f"{inputs.structures}: structure ids already in the store: {clash[:10]}"
            )
    images, extras, deep = [], [], depth.ChannelCounts()
    for index, path in enumerate(inputs.images):
        image = check(path)
        if image.format == "ushort" and image.histogram is not None:
            deep.add(image.histogram)
        images.append(replace(image, histogram=None))  # counted; not kept for a whole batch
        extras.append(_check_item(inputs, index, image))
        if on_check is not None:
            on_check(path)
    sixteen = _sixteen_bit(images, stored, options.data_set_id)
    bits = 16 if sixteen else 12
    scale = image_scale(bits)
    window = options.window
    if window is not None and (min(window) < 0 or max(window) > scale):
        raise IngestUsageError(f"--range: bounds are on the data set's scale, 0..{scale}")
    if window is None and not stored.equalized and any(c.format == "ushort" for c in images):
        window = deep.window(scale)
    items = tuple(
        Item(image, 8 if image.format == "uchar" else bits, tuple(masks), labels)
        for image, (masks, labels) in zip(images, extras, strict=True)
    )
    return Plan(options, items, structures, window)
