"""IIIF request syntax, planning and the info document, checked against the specification's own
examples (a 300 x 200 image) and against the tile arithmetic of its implementation notes."""

from __future__ import annotations

import pytest
import pyvips
from hypothesis import given
from hypothesis import strategies as st

from brainmap.errors import BadParameter
from brainmap.geometry import Box
from brainmap.iiif.info import image_information
from brainmap.iiif.plan import IiifPlan, Limits, plan_iiif, rotated_size
from brainmap.iiif.syntax import IiifRequest, Region, Size, parse_region, parse_size
from iiif_strategies import regions, sizes

ROOMY = Limits(max_pixels=10**9, max_side=65_535)


def plan(
    path: str, width: int = 300, height: int = 200, tiers: int = 1, limits: Limits = ROOMY
) -> IiifPlan:
    region, size, rotation, quality_format = path.split("/")
    request = IiifRequest.parse(region, size, rotation, quality_format)
    return plan_iiif(request, width, height, tiers, limits)


def size_of(path: str, **kw: object) -> tuple[int, int]:
    result = plan(path, **kw)  # type: ignore[arg-type]
    return result.width, result.height


def test_every_region_form_parses() -> None:
    assert parse_region("full") == Region("full")
    assert parse_region("square") == Region("square")
    assert parse_region("125,15,120,140") == Region("pixels", (125, 15, 120, 140))
    assert parse_region("pct:41.6,7.5,40,70") == Region("percent", (41.6, 7.5, 40, 70))


def test_every_size_form_parses() -> None:
    assert parse_size("max") == Size("max")
    assert parse_size("^max") == Size("max", upscale=True)
    assert parse_size("150,") == Size("width", 150)
    assert parse_size("^360,") == Size("width", 360, upscale=True)
    assert parse_size(",150") == Size("height", None, 150)
    assert parse_size("^,240") == Size("height", None, 240, upscale=True)
    assert parse_size("pct:50") == Size("percent", percent=50)
    assert parse_size("^pct:120") == Size("percent", percent=120, upscale=True)
    assert parse_size("225,100") == Size("exact", 225, 100)
    assert parse_size("^360,360") == Size("exact", 360, 360, upscale=True)
    assert parse_size("!225,100") == Size("confined", 225, 100)
    assert parse_size("^!360,360") == Size("confined", 360, 360, upscale=True)


def test_rotation_quality_and_format_parse() -> None:
    request = IiifRequest.parse("full", "max", "!22.5", "gray.png")
    assert (request.rotation, request.mirror, request.quality, request.format) == (
        22.5,
        True,
        "gray",
        "png",
    )
    assert IiifRequest.parse("full", "max", "360", "default.jpg").rotation == 0


@pytest.mark.parametrize(
    ("segments", "name"),
    [
        (("1,2,3", "max", "0", "default.jpg"), "region"),
        (("pct:1,2,3,x", "max", "0", "default.jpg"), "region"),
        (("-1,0,10,10", "max", "0", "default.jpg"), "region"),
        (("0,0,1.5,10", "max", "0", "default.jpg"), "region"),
        (("pct:1e1,0,10,10", "max", "0", "default.jpg"), "region"),
        (("everything", "max", "0", "default.jpg"), "region"),
        (("full", "big", "0", "default.jpg"), "size"),
        (("full", ",", "0", "default.jpg"), "size"),
        (("full", "!10,", "0", "default.jpg"), "size"),
        (("full", "pct:+5", "0", "default.jpg"), "size"),
        (("full", "10,-1", "0", "default.jpg"), "size"),
        (("full", "max", "-90", "default.jpg"), "rotation"),
        (("full", "max", "361", "default.jpg"), "rotation"),
        (("full", "max", "!!0", "default.jpg"), "rotation"),
        (("full", "max", "0", "sepia.jpg"), "quality"),
        (("full", "max", "0", "default.tif"), "format"),
        (("full", "max", "0", "default"), "format"),
    ],
)
def test_malformed_segments_name_their_parameter(
    segments: tuple[str, str, str, str], name: str
) -> None:
    with pytest.raises(BadParameter) as raised:
        IiifRequest.parse(*segments)
    assert raised.value.name == name


@pytest.mark.parametrize(
    ("region", "box"),
    [
        ("full", Box(0, 0, 300, 200)),
        ("square", Box(50, 0, 200, 200)),
        ("125,15,120,140", Box(125, 15, 120, 140)),
        ("pct:41.6,7.5,40,70", Box(125, 15, 120, 140)),
        ("125,15,200,200", Box(125, 15, 175, 185)),  # the specification's example: cropped
        ("pct:41.6,7.5,66.6,100", Box(125, 15, 175, 185)),
        ("299,199,5,5", Box(299, 199, 1, 1)),
    ],
)
def test_regions_resolve_and_clip_at_the_edges(region: str, box: Box) -> None:
    assert plan(f"{region}/max/0/default.jpg").region == box


def test_square_of_a_tall_image_is_centred_vertically() -> None:
    assert plan("square/max/0/default.jpg", 200, 301).region == Box(0, 50, 200, 200)


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("10,10,0,5", "zero width or height"),
        ("10,10,5,0", "zero width or height"),
        ("pct:10,10,0.1,10", "zero width or height"),  # 0.3 px rounds to none
        ("300,0,10,10", "outside the 300 x 200 image"),
        ("0,200,10,10", "outside the 300 x 200 image"),
        ("pct:100,0,10,10", "outside the 300 x 200 image"),
    ],
)
def test_empty_or_outside_regions_are_refused(region: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as raised:
        plan(f"{region}/max/0/default.jpg")
    assert raised.value.name == "region"


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("max", (300, 200)),
        ("150,", (150, 100)),
        (",150", (225, 150)),
        ("pct:50", (150, 100)),
        ("225,100", (225, 100)),
        ("!225,100", (150, 100)),  # the specification's example
        ("!100,225", (100, 67)),  # 66.67 rounds half up
        ("!1000,1000", (300, 200)),  # never larger than the region without ^
        ("^!360,360", (360, 240)),
        ("^360,", (360, 240)),
        ("^,240", (360, 240)),
        ("^pct:120", (360, 240)),
        ("^360,360", (360, 360)),
        ("^150,", (150, 100)),  # ^ allows upscaling, it does not require it
        ("1,", (1, 1)),  # the derived side is at least one pixel
    ],
)
def test_size_forms(size: str, expected: tuple[int, int]) -> None:
    assert size_of(f"full/{size}/0/default.jpg") == expected


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("301,", "larger than the 300 x 200 region; prefix the size with \\^"),
        (",201", "larger than the 300 x 200 region"),
        ("300,201", "larger than the 300 x 200 region"),
        ("pct:101", "above 100; use \\^pct: to upscale"),
        ("0,", "less than one pixel"),
        ("pct:0", "less than one pixel"),
        ("pct:0.1", "less than one pixel"),
        ("!0,10", "less than one pixel"),
        ("^100000,", "exceeds the limits"),
    ],
)
def test_sizes_refused(size: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as raised:
        plan(f"full/{size}/0/default.jpg")
    assert raised.value.name == "size"


def test_limits_shrink_max_and_confined_but_refuse_explicit_sizes() -> None:
    narrow = Limits(max_pixels=10**9, max_side=200)
    assert size_of("full/max/0/default.jpg", limits=narrow) == (200, 133)  # the spec's example
    wide = Limits(max_pixels=10**9, max_side=360)
    assert size_of("full/^max/0/default.jpg", limits=wide) == (360, 240)
    assert size_of("full/^!1000,1000/0/default.jpg", limits=narrow) == (200, 133)
    area = Limits(max_pixels=6000, max_side=65_535)
    width, height = size_of("full/max/0/default.jpg", limits=area)
    assert width * height <= 6000 and (width, height) == (94, 63)
    with pytest.raises(BadParameter, match="maxWidth and maxHeight 200, maxArea"):
        plan("full/250,/0/default.jpg", limits=narrow)


@pytest.mark.parametrize(
    ("path", "name", "message"),
    [
        ("0,0," + "9" * 5000 + ",10/max/0/default.jpg", "region", "5000-digit number is too large"),
        ("full/" + "9" * 5000 + ",/0/default.jpg", "size", "5000-digit number is too large"),
        ("full/,1" + "0" * 4500 + "/0/default.jpg", "size", "4501-digit number is too large"),
        ("full/^pct:1" + "0" * 300 + "/0/default.jpg", "size", "exceeds the limits"),
        ("full/^pct:21846/0/default.jpg", "size", "pct:21846 of the 300 x 200 region exceeds"),
        ("full/^pct:21845.2/0/default.jpg", "size", "65536 x 43690 exceeds the limits"),
    ],
)
def test_huge_numbers_are_refused_by_name(path: str, name: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as raised:
        plan(path)
    assert raised.value.name == name


def test_huge_percentages_of_a_region_clip_at_the_edge() -> None:
    assert plan("pct:0,50," + "1" * 300 + ",50/max/0/default.jpg").region == Box(0, 100, 300, 100)
    with pytest.raises(BadParameter, match="outside"):
        plan("pct:1" + "0" * 300 + ",0,10,10/max/0/default.jpg")


def test_the_rotated_output_must_fit_the_limits() -> None:
    roomy = Limits(max_pixels=10**9, max_side=400)
    assert plan("full/max/90/default.jpg", limits=roomy).pixels == 300 * 200
    assert plan("full/max/30/default.png", limits=roomy).pixels == 360 * 324
    tight = Limits(max_pixels=100_000, max_side=400)
    with pytest.raises(
        BadParameter, match="45 turns the 300 x 200 output into 354 x 354"
    ) as raised:
        plan("full/max/45/default.png", limits=tight)
    assert raised.value.name == "rotation"


@given(st.integers(1, 3000), st.integers(1, 3000), st.integers(0, 36000))
def test_rotated_sizes_bound_libvips_output_within_a_pixel(
    width: int, height: int, centidegrees: int
) -> None:
    degrees = centidegrees / 100
    turned = pyvips.Image.black(width, height).rotate(degrees)
    got = rotated_size(width, height, degrees)
    assert turned.width <= got[0] <= turned.width + 1
    assert turned.height <= got[1] <= turned.height + 1


def test_canonical_forms() -> None:
    assert plan("full/max/0/default.jpg").canonical == "full/max/0/default.jpg"
    assert plan("0,0,300,200/pct:100/360/color.png").canonical == "full/max/0/color.png"
    assert (
        plan("pct:41.6,7.5,40,70/60,/!90/gray.jpg").canonical == "125,15,120,140/60,70/!90/gray.jpg"
    )
    assert plan("full/^pct:200/22.50/default.png").canonical == "full/^600,400/22.5/default.png"
    limited = Limits(max_pixels=10**9, max_side=360)
    assert (
        plan("full/^!400,400/0/default.jpg", limits=limited).canonical == "full/^max/0/default.jpg"
    )


def tiles(width: int, height: int, scale: int, tile: int = 256) -> list[tuple[str, str]]:
    """Every tile's region and size by the implementation notes' algorithm."""
    found = []
    for m in range(-(-height // (tile * scale))):
        for n in range(-(-width // (tile * scale))):
            xr, yr = n * tile * scale, m * tile * scale
            wr, hr = min(tile * scale, width - xr), min(tile * scale, height - yr)
            ws, hs = -(-wr // scale), -(-hr // scale)
            found.append((f"{xr},{yr},{wr},{hr}", f"{ws},{hs}"))
    return found


@pytest.mark.parametrize(("width", "height"), [(1200, 900), (999, 517), (300, 200)])
def test_every_advertised_tile_and_size_is_its_level_untouched(width: int, height: int) -> None:
    info = image_information("x", width, height, 4, ROOMY)
    requests = [
        (f"full/{size['width']},{size['height']}", len(info["sizes"]) - 1 - index)
        for index, size in enumerate(info["sizes"])
    ]
    for scale in info["tiles"][0]["scaleFactors"]:
        requests += [
            (f"{region}/{size}", scale.bit_length() - 1)
            for region, size in tiles(width, height, scale)
        ]
    for path, level in requests:
        result = plan(f"{path}/0/default.jpg", width, height, tiers=4)
        assert result.read.downsample == level, path
        assert (result.scale, result.offset) == ((1.0, 1.0), (0, 0))
        assert (result.read.out_width, result.read.out_height) == (result.width, result.height)


def test_levels_between_scales_read_the_finer_level_and_resample() -> None:
    result = plan("full/400,/0/default.jpg", 1200, 900, tiers=4)
    assert result.read.downsample == 1  # 600 px at level 1, 300 at level 2: too few
    assert (result.read.out_width, result.read.out_height) == (600, 450)
    assert result.scale == pytest.approx((2 / 3, 2 / 3))
    unaligned = plan("101,0,400,400/100,/0/default.jpg", 1200, 900, tiers=4)
    assert unaligned.read.downsample == 2 and unaligned.read.box == Box(101, 0, 400, 400)
    assert unaligned.offset == (0, 0)  # 1 full-res px = 0.25 output px
    assert plan("103,0,400,400/100,/0/default.jpg", 1200, 900, tiers=4).offset == (1, 0)


def test_small_regions_read_the_level_their_size_needs() -> None:
    inside = plan("5,5,1,1/1,/0/default.jpg", 1200, 900, tiers=4)
    assert (inside.read.downsample, inside.offset) == (0, (0, 0))
    shrunk = plan("7,0,8,8/1,/0/default.jpg", 1200, 900, tiers=4)
    assert shrunk.read.downsample == 3 and shrunk.read.out_width == 2  # straddles two pixels
    # at the far edge the last level pixel is partial: one pixel of level 3 is the answer
    edge = plan("1199,899,1,1/1,/0/default.jpg", 1200, 900, tiers=4)
    assert (edge.read.downsample, edge.scale, edge.offset) == (3, (1.0, 1.0), (0, 0))


def test_information_document() -> None:
    limits = Limits(max_pixels=2_000_000, max_side=4096)
    info = image_information("http://h/iiif/3/7", 1200, 900, 4, limits)
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert (info["id"], info["type"], info["protocol"], info["profile"]) == (
        "http://h/iiif/3/7",
        "ImageService3",
        "http://iiif.io/api/image",
        "level2",
    )
    assert (info["width"], info["height"]) == (1200, 900)
    assert (info["maxWidth"], info["maxHeight"], info["maxArea"]) == (4096, 4096, 2_000_000)
    assert info["sizes"] == [
        {"width": 150, "height": 113},
        {"width": 300, "height": 225},
        {"width": 600, "height": 450},
        {"width": 1200, "height": 900},
    ]
    assert info["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}]
    assert set(info["extraQualities"]) == {"color", "gray", "bitonal"}
    assert "sizeUpscaling" in info["extraFeatures"] and "mirroring" in info["extraFeatures"]
    small = image_information("i", 1200, 900, 4, Limits(max_pixels=100_000, max_side=4096))
    assert [size["width"] for size in small["sizes"]] == [150, 300]  # within maxArea only
    mirrored = image_information("i", 1200, 900, 4, limits, first_level=2)
    assert mirrored["tiles"][0]["scaleFactors"] == [4, 8]
    assert [size["width"] for size in mirrored["sizes"]] == [150, 300]


REGIONS = regions(1500, 12000)
SIZES = st.one_of(st.sampled_from(["max", "^max"]), sizes(0, 2000, 30000))


ROTATIONS = st.one_of(st.just(0), st.integers(0, 36000).map(lambda v: f"{v / 100:g}"))


@given(REGIONS, SIZES, ROTATIONS, st.integers(1, 1300), st.integers(1, 1300), st.integers(1, 5))
def test_any_plan_stays_inside_the_image_and_the_limits(
    region: str, size: str, rotation: str, width: int, height: int, tiers: int
) -> None:
    limits = Limits(max_pixels=1_000_000, max_side=1500)
    try:
        result = plan(f"{region}/{size}/{rotation}/default.png", width, height, tiers, limits)
    except BadParameter:
        return
    box = result.region
    assert 0 <= box.left < box.right <= width and 0 <= box.top < box.bottom <= height
    assert min(result.width, result.height) >= 1 and limits.admit(result.width, result.height)
    turned = rotated_size(result.width, result.height, result.rotation)
    assert limits.admit(*turned) and result.pixels == turned[0] * turned[1]
    step = result.read.scale
    assert result.read.downsample < tiers
    assert -(-box.width // step) >= result.width or result.read.downsample == 0
    assert result.read.out_width * step >= box.width
