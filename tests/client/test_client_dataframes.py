"""Optional pandas output of the metadata methods, against the real server on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas
import pytest

from brainmap.client import Client, ImageDownloadApi
from bulk_store import DATA_SET, FIRST_ID, IMAGES


def test_client_queries_return_dataframes(bulk_server: str) -> None:
    with Client(bulk_server) as client:
        rows = client.section_images(DATA_SET)
        frame = client.section_images(DATA_SET, dataframe=True)
        paged = client.query("model::SectionImage", page_size=25, dataframe=True)
    assert isinstance(frame, pandas.DataFrame) and len(frame) == IMAGES
    assert frame.to_dict("records") == rows
    assert sorted(paged["id"]) == list(range(FIRST_ID, FIRST_ID + IMAGES))


def test_cacheable_methods_return_dataframes_from_cache_too(
    bulk_server: str, tmp_path: Path
) -> None:
    api = ImageDownloadApi(bulk_server)
    cache = str(tmp_path / "images.json")
    fresh = api.section_image_query(DATA_SET, path=cache, dataframe=True)
    cached = api.section_image_query(DATA_SET, path=cache, strategy="file", dataframe=True)
    assert isinstance(fresh, pandas.DataFrame) and len(fresh) == IMAGES
    pandas.testing.assert_frame_equal(fresh, cached)
    assert isinstance(api.section_image_query(DATA_SET, path=cache), list)


def test_dataframe_without_pandas_names_the_extra(
    bulk_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with Client(bulk_server) as client, pytest.raises(ImportError, match=r"brainmap\[pandas\]"):
        client.section_images(DATA_SET, dataframe=True)
