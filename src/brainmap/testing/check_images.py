"""Checks of the image service's answers: JPEG, endpoints, quality, alternate images, errors
and the range window."""

from __future__ import annotations

import numpy as np

from brainmap.testing.frame import Frame
from brainmap.testing.kit import Basis, CheckGroup
from brainmap.testing.pictures import (
    DIFFERENT_PIXELS,
    SAME_PIXELS,
    Picture,
    download,
    fetch_picture,
    mean_difference,
    quantization_steps,
)
from brainmap.testing.samples import Probe
from brainmap.testing.verdicts import expect, expect_equal

IMAGES = CheckGroup()

ENDPOINT = "image_download"
LOW_QUALITY = 10
DOUBLING_WINDOW = "0,2047,0,2047,0,2047"
FULL_WINDOW = "0,4095,0,4095,0,4095"
DOUBLED_PIXELS = 2 * SAME_PIXELS
"""Largest mean difference once doubling has doubled the JPEG error too."""


def _preview(probe: Probe, frame: Frame, endpoint: str = ENDPOINT, **params: object) -> Picture:
    """The image at its preview downsample, with further parameters."""
    return fetch_picture(
        probe.server,
        endpoint,
        frame.image_id,
        downsample=frame.preview_downsample,
        **params,
    )


def _section(probe: Probe) -> Frame:
    return Frame.of(probe.samples.section_image)


def _expect_preview_size(frame: Frame, *found: Picture) -> None:
    """Each picture is the frame's box at its preview downsample."""
    expected = frame.default_size(frame.preview_downsample)
    for picture in found:
        expect_equal(picture.size, expected, f"size of {picture.url}")


def _expect_different(first: Picture, second: Picture, said: str) -> None:
    """The two pictures differ; when they do not, a Difference saying `said` and by how much."""
    difference = mean_difference(first.pixels, second.pixels)
    expect(difference >= DIFFERENT_PIXELS, f"{said} (they differ by {difference:.1f} a pixel)")


@IMAGES.add("image-jpeg", Basis.ALLEN_API, "§6.5")
def image_jpeg(probe: Probe) -> None:
    """an image download answers 200 with a three-channel JPEG"""
    _preview(probe, _section(probe))


@IMAGES.add("endpoint-aliases", Basis.ALLEN_API, "§6.1")
def endpoint_aliases(probe: Probe) -> None:
    """image_download and section_image_download return exactly the same image"""
    frame = _section(probe)
    general = _preview(probe, frame)
    section = _preview(probe, frame, "section_image_download")
    expect(general.body == section.body, f"{general.url} and {section.url} differ")


@IMAGES.add("quality", Basis.ALLEN_API, "§6.2")
def quality(probe: Probe) -> None:
    """quality sets the JPEG quality; without it the quality is the highest, 100"""
    frame = _section(probe)
    default = quantization_steps(_preview(probe, frame).body)
    highest = quantization_steps(_preview(probe, frame, quality=100).body)
    low = quantization_steps(_preview(probe, frame, quality=LOW_QUALITY).body)
    expect(bool(highest), "no quantization tables in the JPEG")
    expect_equal(default, highest, "quantization tables without quality, against quality=100")
    expect(
        sum(low) > sum(highest),
        f"quality={LOW_QUALITY} quantizes no coarser than quality=100",
    )


@IMAGES.add("expression-mask", Basis.ALLEN_API, "§5.5, §6.1, §6.2, §6.4")
def expression_mask(probe: Probe) -> None:
    """view=expression (image_download) and expression=true (section_image_download) return the
    expression mask, in the geometry of the image"""
    frame = Frame.of(probe.samples.masked_image)
    primary = _preview(probe, frame)
    by_view = _preview(probe, frame, view="expression")
    by_flag = _preview(probe, frame, "section_image_download", expression="true")
    _expect_preview_size(frame, by_view, by_flag)
    difference = mean_difference(by_view.pixels, by_flag.pixels)
    expect(difference <= SAME_PIXELS, f"the two masks differ by {difference:.1f} a pixel")
    _expect_different(by_view, primary, "the mask is the primary image")


@IMAGES.add("annotation-plate", Basis.ALLEN_API, "§5.5, §6.1, §6.3, §6.4")
def annotation_plate(probe: Probe) -> None:
    """atlas_image_download with annotation=true and atlas= returns the annotated plate, in the
    geometry of the Nissl plate (annotation=false)"""
    plate = probe.samples.atlas_plate
    frame = Frame.of(plate.record)
    endpoint = "atlas_image_download"
    drawn = _preview(probe, frame, endpoint, annotation="true", atlas=plate.atlas_id)
    nissl = _preview(probe, frame, endpoint, annotation="false")
    _expect_preview_size(frame, drawn, nissl)
    _expect_different(drawn, nissl, "the annotated plate is the Nissl plate")


@IMAGES.add("unknown-image", Basis.ALLEN_API, "§4.2, §6.6")
def unknown_image(probe: Probe) -> None:
    """an image id that does not exist (-1) is HTTP 404"""
    for endpoint in ("atlas_image_download", ENDPOINT):
        reply = download(probe.server, endpoint, -1)
        expect_equal(reply.status, 404, f"HTTP status of {reply.url}")


@IMAGES.add("missing-alternate", Basis.BRAINMAP_RULE, '"Pixel pipeline"')
def missing_alternate(probe: Probe) -> None:
    """view=expression on an image without an expression mask is HTTP 404 naming it"""
    frame = Frame.of(probe.samples.unmasked_image)
    reply = download(
        probe.server,
        ENDPOINT,
        frame.image_id,
        downsample=frame.preview_downsample,
        view="expression",
    )
    expect_equal(reply.status, 404, f"HTTP status of {reply.url}")
    expect(
        "expression" in reply.text().lower(),
        f"{reply.url}: the message {reply.excerpt()!r} does not name the expression mask",
    )


@IMAGES.add("range-window", Basis.BRAINMAP_RULE, '"Pixel pipeline"')
def range_window(probe: Probe) -> None:
    """range windows each channel on the 12-bit scale: 0..4095 leaves the image as it is, 0..2047
    doubles it"""
    frame = _section(probe)
    plain = _preview(probe, frame)
    full = _preview(probe, frame, range=FULL_WINDOW)
    doubled = _preview(probe, frame, range=DOUBLING_WINDOW)
    difference = mean_difference(full.pixels, plain.pixels)
    expect(difference <= SAME_PIXELS, f"range={FULL_WINDOW} changes the image by {difference:.1f}")
    twice = np.minimum(plain.pixels.astype(np.int16) * 2, 255).astype(np.uint8)
    difference = mean_difference(doubled.pixels, twice)
    expect(
        difference <= DOUBLED_PIXELS,
        f"range={DOUBLING_WINDOW} is {difference:.1f} a pixel from twice the image",
    )
