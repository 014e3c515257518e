"""The whole pixel pipeline before encoding against a plain numpy chain, and the parameters that
need the server (sizes, quality, highlight, statuses), over loopback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pyvips

from brainmap.imaging.colormaps import lookup_table
from brainmap.imaging.filters import LUMINANCE
from brainmap.imaging.render import render_pixels
from brainmap.params import ImageRequest, parse_colormap
from loopback import fetch, image
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE


def half_up(values: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(values + 0.5), 0, 255)


def reference(pixels: np.ndarray, request: ImageRequest) -> np.ndarray:
    """docs/rules.md, "Pixel pipeline" steps 3-6 in numpy, rounding after each step as the rules
    say."""
    deep = pixels.dtype != np.uint8
    out = pixels.astype(np.float64)
    if request.range is not None or deep:
        bounds = request.range or (0, 4095) * 3
        scale = 1.0 if deep else 4095 / 255
        for c in range(3):
            lo, hi = bounds[2 * c], bounds[2 * c + 1]
            out[..., c] = half_up((out[..., c] * scale - lo) * 255 / (hi - lo))
    if request.rgb is not None:
        out = half_up(out * np.array(request.rgb, dtype=np.float64))
    if request.contrast is not None:
        gain, bias = (float(v) for v in request.contrast)
        slope = min(gain, 0.999) / (1 - min(gain, 0.999))
        out = half_up(out * slope + 127.5 * (1 - slope) + (bias - 0.5) * 255)
    if request.colormap is not None:
        spec = parse_colormap(request.colormap)
        lum = half_up(out @ np.array(LUMINANCE))
        t = np.clip((lum - spec.low) / (spec.high - spec.low), 0, 1)
        index = np.rint(t ** (math.log(0.5) / math.log(spec.gain)) * 255).astype(int)
        out = lookup_table(spec.table)[index].astype(np.float64)
        out[t < spec.threshold] = 0
    return out.astype(int)


def random_request(rng: np.random.Generator) -> ImageRequest:
    values: dict[str, object] = {}
    if rng.random() < 0.7:
        lows = rng.integers(0, 2000, 3)
        highs = lows + rng.integers(1, 2500, 3)
        values["range"] = tuple(int(v) for pair in zip(lows, highs, strict=True) for v in pair)
    if rng.random() < 0.5:
        values["rgb"] = tuple(float(g) for g in rng.choice([0.0, 0.25, 0.5, 1.0, 1.5, 3.0], 3))
    if rng.random() < 0.5:
        values["contrast"] = (float(rng.choice([0.2, 0.5, 0.7, 1.0])), float(rng.random()))
    if rng.random() < 0.3:
        values["colormap"] = f"0.5,{rng.choice([0, 0.3])},0,256,{rng.integers(0, 12)}"
    return ImageRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(40))
def test_pipeline_before_encoding_matches_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    deep = seed % 2 == 0
    pixels = rng.integers(0, 4096 if deep else 256, size=(24, 40, 3))
    pixels = pixels.astype(np.uint16 if deep else np.uint8)
    request = random_request(rng)
    got = render_pixels(pyvips.Image.new_from_array(pixels), request).numpy().astype(int)
    expected = reference(pixels, request)
    if request.colormap is None:
        assert np.abs(got - expected).max() <= 1, request
    else:  # a one-level luminance difference can move a pixel one table entry
        assert (np.abs(got - expected) > 1).mean() < 0.01, request


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("downsample=2&width=400&height=200&downsample_dimensions=true", (50, 100)),
        # 400 output pixels from x = 10 need 1600 full-res ones: clipped to 1190, i.e. 297
        ("downsample=2&width=400&height=200&downsample_dimensions=false", (200, 297)),
        ("downsample=2&width=400&height=200", (200, 297)),
        ("downsample=30", (100, 137)),
        ("left=1190&top=890&width=50&height=50", (10, 10)),
    ],
)
def test_output_sizes(small_server: str, query: str, size: tuple[int, int]) -> None:
    assert image(small_server, ISH_IMAGE, query).shape[:2] == size


def test_quality_trades_size(small_server: str) -> None:
    url = f"{small_server}/api/v2/image_download/{ISH_IMAGE}?downsample=1"
    sizes = [len(fetch(f"{url}&quality={q}")[1]) for q in (0, 10, 50, 100)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] // 3
    assert fetch(url)[1] == fetch(f"{url}&quality=100")[1]  # the default is the highest quality


def test_structure_highlight_dims_the_rest(small_server: str) -> None:
    query = "annotation=true&structure=315"
    plate = image(small_server, ATLAS_IMAGE, query, "atlas_image_download")
    assert plate[300, 200].tolist() == pytest.approx([0x70, 0xFF, 0x71], abs=12)  # highlighted
    faded = [0xFF * 0.25 + 191.25, 0x70 * 0.25 + 191.25, 0x80 * 0.25 + 191.25]
    assert plate[300, 600].tolist() == pytest.approx(faded, abs=12)
    parent = image(small_server, ATLAS_IMAGE, "annotation=true&structure=8")  # descendants kept
    assert parent[300, 600].tolist() == pytest.approx([0xFF, 0x70, 0x80], abs=12)


def test_filters_apply_to_masks_and_windows(small_server: str) -> None:
    heat = image(small_server, ISH_IMAGE, "view=expression&colormap=expression&downsample=2")
    assert heat[100, 150].tolist() == pytest.approx(lookup_table(4)[190].tolist(), abs=16)
    assert heat[5, 5].tolist() == pytest.approx(lookup_table(4)[0].tolist(), abs=16)
    dark = image(small_server, CONNECTIVITY_IMAGE, "downsample=2&rgb=0,0,0")
    assert dark.max() <= 8


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("range=0,10,0,10,5,5", 400, "b upper bound 5 <= lower 5"),
        ("range=0,10,0,10", 400, "needs 6"),
        ("rgb=1,1,11", 400, "0..10"),
        ("contrast=2,0.5", 400, "within 0..1"),
        ("colormap=sepia", 400, "expected a name"),
        ("colormap=0.5,0,0,256,12", 400, "unknown lookup table id 12"),
        ("colormap=1,0,0,256,2", 400, "strictly between 0 and 1"),
        ("quality=101", 400, "0..100"),
        ("width=0", 400, "positive"),
        ("left=-100", 400, "left: must not be negative"),
        ("view=tumor_feature_boundary", 404, "has no tumor feature boundary"),
        ("tumor_feature_boundary=true", 404, "has no tumor feature boundary"),
        ("downsample=0&width=3000&height=3000", 200, ""),
        ("downsample=0&left=0&top=0&width=5000&height=5000", 200, ""),
    ],
)
def test_statuses_and_messages(small_server: str, query: str, status: int, message: str) -> None:
    got, body, _ = fetch(f"{small_server}/api/v2/image_download/{ISH_IMAGE}?{query}")
    assert got == status
    if message:
        assert message in body.decode()


def test_tumour_feature_blocks_are_never_averaged(small_server: str) -> None:
    for query in ("view=tumor_feature_annotation", "tumor_feature_annotation=true"):
        blocks = image(small_server, ISH_IMAGE, f"{query}&downsample=1&left=0&top=0")
        assert blocks[100:300, 100:400].mean(axis=(0, 1)).tolist() == pytest.approx(
            [255, 0, 0], abs=4
        )
