"""ImageRequest: allensdk's rendering, server-side parsing, and their round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainmap.errors import BadParameter
from brainmap.params import (
    COLORMAPS,
    VIEWS,
    ImageRequest,
    parse_colormap,
    with_older_filters,
)
from brainmap.service import image_scale


def render(**kwargs: object) -> str:
    return ImageRequest.from_kwargs(**kwargs).to_query()


def test_allensdk_parameter_order() -> None:
    everything = dict(
        height=40,
        width=30,
        top=20,
        left=10,
        view="expression",
        contrast=[0.5, 0.6],
        rgb=[1, 0.5, 0.25],
        range=[0, 825, 0, 943, 0, 4095],
        colormap="expression",
        expression=True,
        projection=True,
        atlas=1,
        annotation=True,
        tumor_feature_boundary=False,
        tumor_feature_annotation=True,
        quality=50,
        downsample=4,
        downsample_dimensions=True,
    )
    assert render(**everything) == (
        "downsample=4&quality=50&tumor_feature_annotation=true&tumor_feature_boundary=false"
        "&annotation=true&atlas=1&projection=true&expression=true&colormap=expression"
        "&range=0,825,0,943,0,4095&rgb=1,0.5,0.25&contrast=0.5,0.6&view=expression"
        "&left=10&top=20&width=30&height=40&downsample_dimensions=true"
    )


def test_logged_urls_of_the_allensdk_notebook() -> None:
    assert render(downsample=6, range=[0, 825, 0, 943, 0, 4095]) == (
        "downsample=6&range=0,825,0,943,0,4095"
    )
    assert render(downsample=6, annotation=False) == "downsample=6&annotation=false"
    assert render(downsample=6, quality=100, annotation=False) == (
        "downsample=6&quality=100&annotation=false"
    )


def test_allensdk_coercions() -> None:
    assert render(downsample=4, colormap=(0.9, "expression"), view="expression") == (
        "downsample=4&colormap=0.5,0.9,0,256,4&view=expression"
    )
    assert render(annotation=1, projection="yes") == "annotation=false&projection=false"
    assert render(expression=1, tumor_feature_boundary=0) == (
        "tumor_feature_boundary=false&expression=true"
    )
    assert render(downsample=2.9, left=10.7) == "downsample=2&left=10"
    assert render(range=[0.25, 0.5, 1]) == "range=0.25,0.5,1"
    assert render() == ""
    with pytest.raises(TypeError):
        render(downsample="4")
    with pytest.raises(KeyError):
        render(colormap=(0.5, "sepia"))
    with pytest.raises(ValueError, match="view argument should be 'expression'"):
        render(view="nissl")


def test_parse_reads_what_the_server_receives() -> None:
    request = ImageRequest.parse(
        [
            ("downsample", "3"),
            ("annotation", "true"),
            ("atlas", "1"),
            ("range", "0,923,0,987,0,4095"),
        ]
    )
    assert request == ImageRequest(
        downsample=3, annotation=True, atlas=1, range=(0, 923, 0, 987, 0, 4095)
    )
    assert ImageRequest.parse({"filters": "colormap", "quality": "50"}) == ImageRequest(quality=50)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("downsample", "-1", "must not be negative"),
        ("downsample", "1.5", "is not an integer"),
        ("quality", "101", "0..100"),
        ("width", "0", "must be positive"),
        ("height", "abc", "is not an integer"),
        ("left", "-5", "must not be negative"),
        ("annotation", "maybe", "is not true or false"),
        ("range", "0,10,0,10", "needs 6"),
        ("range", "0,10,20,10,0,10", "upper bound"),
        ("range", "0,10,-1,10,0,10", "g lower bound -1 is negative"),
        ("range", "0,1_0,0,1,0,1", "is not a number"),
        ("range", "0,\uff11\uff10,0,1,0,1", "is not a number"),  # fullwidth digits
        ("left", "\uff11", "is not an integer"),
        ("atlas", "99999999999999999999", "ids are at most"),
        ("structure", "1,99999999999999999999", "ids are at most"),
        ("range", "0,x,0,1,0,1", "is not a number"),
        ("rgb", "1,1,11", "0..10"),
        ("contrast", "0.5,2", "0..1"),
        ("colormap", "sepia", "expected a name"),
        ("colormap", "0.5,0,0,256,99", "unknown lookup table"),
        ("colormap", "0.5,0,256,0,1", "upper bound"),
        ("view", "nissl", "view should be"),
        ("structure", "1,a", "list of ids"),
        ("atlas", "9" * 5000, "a number of 5000 digits is too long"),
        ("structure", "1," + "9" * 5000, "a number of 5000 digits is too long"),
        ("downsample", "9" * 5000, "a number of 5000 digits is too long"),
        ("range", "0,1,0,1,0," + "9" * 5000, "a number of 5000 digits is too long"),
    ],
)
def test_bad_values_name_the_parameter(name: str, value: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as caught:
        ImageRequest.parse({name: value})
    assert caught.value.name == name


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("filter=range&filterVals=0,2000,0,2000,0,4095", "range=0,2000,0,2000,0,4095"),
        (
            "filter=colormap&filterVals=0.5,0,0,256,4&quality=80",
            "colormap=0.5,0,0,256,4&quality=80",
        ),
        ("filter=rgb&filterVals=1,0.5,0&downsample=2", "rgb=1,0.5,0&downsample=2"),
        ("filter=contrast&filterVals=0.6,0.4", "contrast=0.6,0.4"),
        # several pairs, in order; a repeated filter keeps its last values, as a repeated name=
        (
            "filter=range&filterVals=0,1,0,1,0,1&filter=colormap&filterVals=jet"
            "&filter=range&filterVals=0,9,0,9,0,9",
            "range=0,1,0,1,0,1&colormap=jet&range=0,9,0,9,0,9",
        ),
        ("filter=rgb&downsample=1&filterVals=1,1,1", "downsample=1&rgb=1,1,1"),
    ],
)
def test_the_older_filter_form_means_the_named_parameter(older: str, newer: str) -> None:
    expected = ImageRequest.parse(pairs(newer))
    assert ImageRequest.parse(pairs(older)) == expected
    assert with_older_filters(pairs(older)) == pairs(newer)


@pytest.mark.parametrize(
    ("query", "name", "message"),
    [
        ("filter=gamma&filterVals=2", "filter", "unknown filter 'gamma'"),
        ("filter=Range&filterVals=0,1,0,1,0,1", "filter", "unknown filter 'Range'"),
        ("filter=range", "filter", "filter=range has no filterVals"),
        ("filter=range&filter=rgb&filterVals=1,1,1", "filter", "filter=range has no filterVals"),
        ("filterVals=0,1,0,1,0,1", "filterVals", "has no filter= before it"),
        ("filterVals=1,1,1&filter=rgb", "filterVals", "has no filter= before it"),
        ("range=0,1,0,1,0,1&filter=range&filterVals=0,2,0,2,0,2", "range", "both as range="),
        ("filter=colormap&filterVals=jet&colormap=gray", "colormap", "both as colormap="),
        ("filter=range&filterVals=0,1", "range", "needs 6"),
        ("filter=colormap&filterVals=sepia", "colormap", "expected a name"),
    ],
)
def test_older_filter_form_errors_name_the_parameter(query: str, name: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as caught:
        ImageRequest.parse(pairs(query))
    assert caught.value.name == name


def test_range_bounds_are_checked_against_the_image_scale() -> None:
    deep = ImageRequest.parse({"range": "0,65535,100,60000,0,4095"})
    deep.check_scale(65535)
    with pytest.raises(BadParameter, match="at most 4095 for this image, got 65535") as caught:
        deep.check_scale(4095)
    assert caught.value.name == "range"
    ImageRequest().check_scale(4095)


@pytest.mark.parametrize(
    ("bits", "scale"), [(None, 4095), (1, 4095), (8, 4095), (12, 4095), (13, 8191), (16, 65535)]
)
def test_the_scale_of_a_bit_depth(bits: int | None, scale: int) -> None:
    assert image_scale(bits) == scale


def pairs(query: str) -> list[tuple[str, str]]:
    return [(name, value) for name, _, value in (part.partition("=") for part in query.split("&"))]


def test_colormap_names_and_values() -> None:
    assert parse_colormap("jet").table == COLORMAPS["jet"]
    spec = parse_colormap("0.5,0.9,0,256,4")
    assert (spec.gain, spec.threshold, spec.low, spec.high, spec.table) == (0.5, 0.9, 0, 256, 4)


numbers = st.one_of(
    st.integers(0, 4095), st.floats(0, 10, allow_nan=False).map(lambda f: round(f, 3))
)


@st.composite
def requests(draw: st.DrawFn) -> ImageRequest:
    optional = lambda strategy: draw(st.none() | strategy)  # noqa: E731
    low = draw(st.lists(st.integers(0, 2000), min_size=3, max_size=3))
    return ImageRequest(
        downsample=optional(st.integers(0, 12)),
        quality=optional(st.integers(0, 100)),
        tumor_feature_annotation=optional(st.booleans()),
        tumor_feature_boundary=optional(st.booleans()),
        annotation=optional(st.booleans()),
        atlas=optional(st.integers(0, 10**9)),
        projection=optional(st.booleans()),
        expression=optional(st.booleans()),
        colormap=optional(st.sampled_from(sorted(COLORMAPS))),
        range=optional(st.just(tuple(v for lo in low for v in (lo, lo + 100)))),
        rgb=optional(st.tuples(numbers, numbers, numbers).filter(lambda t: max(t) <= 10)),
        contrast=optional(st.tuples(st.sampled_from([0, 0.25, 0.5, 1]), st.sampled_from([0, 0.5]))),
        view=optional(st.sampled_from(VIEWS)),
        left=optional(st.integers(0, 10**6)),
        top=optional(st.integers(0, 10**6)),
        width=optional(st.integers(1, 10**5)),
        height=optional(st.integers(1, 10**5)),
        downsample_dimensions=optional(st.booleans()),
        structure=optional(st.lists(st.integers(1, 10**9), min_size=1, max_size=4).map(tuple)),
    )


@given(requests())
def test_every_rendered_request_parses_back(request: ImageRequest) -> None:
    assert ImageRequest.parse(request.to_pairs()) == request
    kwargs = {name: value for name, value in vars(request).items() if value is not None}
    assert ImageRequest.from_kwargs(**kwargs).to_query() == request.to_query()
