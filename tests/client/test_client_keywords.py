"""The typed keywords of `AsyncClient` (`brainmap.client.keywords`) spell out the fields of
`ImageRequest` again, for type checkers; they must name the same parameters, or a new image
parameter would be refused by mypy at every call site while working at run time."""

from __future__ import annotations

from dataclasses import fields

from brainmap.client.keywords import (
    BulkOptions,
    ImageDownload,
    ImageParams,
    PlateDownload,
    PlateParams,
)
from brainmap.params import ImageRequest

IMAGE_PARAMETERS = {item.name for item in fields(ImageRequest)}


def test_image_keywords_are_the_image_request_fields() -> None:
    assert set(ImageParams.__optional_keys__) == IMAGE_PARAMETERS
    assert set(PlateParams.__optional_keys__) == IMAGE_PARAMETERS - {"annotation"}


def test_download_keywords_are_bulk_options_and_image_parameters() -> None:
    bulk = set(BulkOptions.__optional_keys__)
    assert not bulk & IMAGE_PARAMETERS
    assert set(ImageDownload.__optional_keys__) == bulk | IMAGE_PARAMETERS
    assert set(PlateDownload.__optional_keys__) == bulk | (IMAGE_PARAMETERS - {"annotation"})
    for keywords in (ImageParams, PlateParams, BulkOptions, ImageDownload, PlateDownload):
        assert not keywords.__required_keys__
