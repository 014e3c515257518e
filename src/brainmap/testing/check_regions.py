"""Checks of the image service's geometry: downsampling, regions, clipping and bad values."""

from __future__ import annotations

from brainmap.testing.frame import Frame
from brainmap.testing.kit import Basis, CheckGroup
from brainmap.testing.pictures import SAME_PIXELS, Picture, download, mean_difference, picture
from brainmap.testing.samples import Probe
from brainmap.testing.verdicts import expect, expect_equal, require
from brainmap.testing.wire import Reply

REGIONS = CheckGroup()

ENDPOINT = "image_download"
EDGE_PIXELS = 10
"""Output pixels of the image left inside a region that runs over its right and bottom edges."""
BEYOND_CLAMP = 3
"""Levels past the last tier asked for by the clamping check."""


def _section(probe: Probe) -> Frame:
    return Frame.of(probe.samples.section_image)


def _reply(probe: Probe, frame: Frame, **params: object) -> Reply:
    """The image download of the frame's image with `params`, whatever it answers."""
    return download(probe.server, ENDPOINT, frame.image_id, **params)


def _picture(probe: Probe, frame: Frame, **params: object) -> Picture:
    """The image download of the frame's image with `params`, decoded."""
    return picture(_reply(probe, frame, **params))


def _downsamples(frame: Frame) -> list[int]:
    """The preview downsample and the last tier's."""
    return sorted({frame.preview_downsample, frame.top_downsample})


@REGIONS.add("downsample-size", Basis.ALLEN_API, "§6.2, §6.3")
def downsample_size(probe: Probe) -> None:
    """downsample=d halves the record's box d times: its size divided by 2**d, give or take the
    rounding"""
    frame = _section(probe)
    for downsample in _downsamples(frame):
        found = _picture(probe, frame, downsample=downsample)
        scale = 2**downsample
        boxes = (frame.width, frame.height)
        for side, size, box in zip(("width", "height"), found.size, boxes, strict=True):
            expect(
                size in (box // scale, -(-box // scale)),
                f"{side} at downsample {downsample} is {size}, not {box}/{scale} rounded",
            )


@REGIONS.add("downsample-rounding", Basis.ALLEN_API, "§6.3")
def downsample_rounding(probe: Probe) -> None:
    """the downsampled box is rounded down: floor(width / 2**d) x floor(height / 2**d)"""
    frame = _section(probe)
    for downsample in _downsamples(frame):
        found = _picture(probe, frame, downsample=downsample)
        expect_equal(found.size, frame.default_size(downsample), f"size at downsample {downsample}")


@REGIONS.add("region-size", Basis.ALLEN_API, "§6.1, §6.2")
def region_size(probe: Probe) -> None:
    """left, top, width and height at full resolution return a width x height image"""
    frame = _section(probe)
    width, height = min(64, frame.width // 3), min(48, frame.height // 3)
    require(width > 0 and height > 0, "the image's box is under 3 pixels a side")
    found = _picture(
        probe,
        frame,
        left=frame.x + frame.width // 3,
        top=frame.y + frame.height // 3,
        width=width,
        height=height,
    )
    expect_equal(found.size, (width, height), "size of the region")


@REGIONS.add("region-coordinates", Basis.ALLEN_API, "§6.2, §6.3")
def region_coordinates(probe: Probe) -> None:
    """with downsample, left and top stay full-resolution pixels and width and height are output
    pixels: the region shows the same pixels as that box of the whole downsampled image"""
    frame = _section(probe)
    downsample = frame.preview_downsample
    require(downsample > 0, "the image has a single tier")
    whole = _picture(probe, frame, downsample=downsample)
    columns, rows = whole.size
    first_column, first_row, width, height = columns // 4, rows // 4, columns // 2, rows // 2
    require(width > 0 and height > 0, "the downsampled image is under 2 pixels a side")
    scale = 2**downsample
    region = _picture(
        probe,
        frame,
        downsample=downsample,
        left=frame.x + first_column * scale,
        top=frame.y + first_row * scale,
        width=width,
        height=height,
    )
    expect_equal(region.size, (width, height), "size of the region")
    box = whole.pixels[first_row : first_row + height, first_column : first_column + width]
    difference = mean_difference(region.pixels, box)
    expect(
        difference <= SAME_PIXELS,
        f"the region differs from the same box of the whole image by {difference:.1f} a pixel",
    )


@REGIONS.add("region-clipped", Basis.BRAINMAP_RULE, '"Geometry"')
def region_clipped(probe: Probe) -> None:
    """a region running over the image's right and bottom edges is clipped to the image"""
    frame = _section(probe)
    downsample = frame.preview_downsample
    inside = EDGE_PIXELS * 2**downsample
    require(
        frame.image_width > inside and frame.image_height > inside,
        f"the image is under {inside} pixels a side",
    )
    found = _picture(
        probe,
        frame,
        downsample=downsample,
        left=frame.image_width - inside,
        top=frame.image_height - inside,
        width=3 * EDGE_PIXELS,
        height=3 * EDGE_PIXELS,
    )
    expect_equal(found.size, (EDGE_PIXELS, EDGE_PIXELS), "size of the clipped region")


@REGIONS.add("region-outside", Basis.BRAINMAP_RULE, '"Geometry"')
def region_outside(probe: Probe) -> None:
    """a region wholly outside the image is HTTP 400 naming left or top"""
    frame = _section(probe)
    reply = _reply(probe, frame, left=frame.image_width + 16, top=frame.y, width=16, height=16)
    expect_equal(reply.status, 400, f"HTTP status of {reply.url}")
    expect(
        "left" in reply.text(),
        f"{reply.url}: the message {reply.excerpt()!r} does not name left",
    )


@REGIONS.add("downsample-clamp", Basis.BRAINMAP_RULE, '"Geometry"')
def downsample_clamp(probe: Probe) -> None:
    """downsample above tier_count - 1 is taken as tier_count - 1"""
    frame = _section(probe)
    top = _picture(probe, frame, downsample=frame.top_downsample)
    beyond = frame.top_downsample + BEYOND_CLAMP
    found = _picture(probe, frame, downsample=beyond)
    expect_equal(found.size, top.size, f"size at downsample {beyond}")
    difference = mean_difference(found.pixels, top.pixels)
    expect(difference <= SAME_PIXELS, f"differs from the last tier by {difference:.1f} a pixel")


@REGIONS.add("downsample-dimensions", Basis.BRAINMAP_RULE, '"Geometry"')
def downsample_dimensions(probe: Probe) -> None:
    """downsample_dimensions=true takes width and height as full-resolution pixels; false as output
    pixels"""
    frame = _section(probe)
    downsample = frame.preview_downsample
    full = (frame.width, frame.height)
    output = (frame.width >> (downsample + 1), frame.height >> (downsample + 1))
    require(min(output) > 0, "the downsampled image is under 2 pixels a side")
    for flag, (width, height), expected in (
        ("true", full, frame.default_size(downsample)),
        ("false", output, output),
    ):
        found = _picture(
            probe,
            frame,
            downsample=downsample,
            left=frame.x,
            top=frame.y,
            width=width,
            height=height,
            downsample_dimensions=flag,
        )
        expect_equal(found.size, expected, f"size with downsample_dimensions={flag}")


@REGIONS.add("bad-parameters", Basis.BRAINMAP_RULE, '"Geometry", "Errors"')
def bad_parameters(probe: Probe) -> None:
    """a negative or fractional downsample, a zero width, a range with upper <= lower: HTTP 400
    naming the parameter"""
    frame = _section(probe)
    downsample = frame.preview_downsample
    for name, params in (
        ("downsample", {"downsample": -1}),
        ("downsample", {"downsample": "1.5"}),
        ("width", {"downsample": downsample, "width": 0}),
        ("range", {"downsample": downsample, "range": "0,4095,100,100,0,4095"}),
    ):
        reply = _reply(probe, frame, **params)
        expect_equal(reply.status, 400, f"HTTP status of {reply.url}")
        expect(
            name in reply.text(), f"{reply.url}: the message {reply.excerpt()!r} names no {name}"
        )
