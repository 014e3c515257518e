"""`brainmap mirror` from a real brainmap server A (the demo store) into store B, then B served:
the seed queries and image requests at the mirrored level agree with A; other levels are 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import simplejpeg
from click.testing import CliRunner
from sqlalchemy import delete, select

from brainmap import ImageDownloadApi
from brainmap.cli import main
from brainmap.client.async_client import AsyncClient
from brainmap.demo.phantom import build_demo_store
from brainmap.mirror.metadata import Selection, fetch_metadata
from brainmap.mirror.run import mirror
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import mirrored_pyramids
from loopback import request
from postgres import DATABASES, databases

LEVELS = (1, 2)
ATLAS = 1
JPEG_TOLERANCE = 4.0
"""Largest mean absolute difference (0..255) between A's and B's pictures: B re-encodes A's
JPEG once more in its pyramid tiles and once more in its response."""


@dataclass
class Pair:
    """Server A (the source), server B (the mirror, its store's folder and database) and the ids
    mirrored."""

    a: str
    b: str
    b_root: Path
    b_database: str | None
    products: list[int]
    data_sets: list[int]


@dataclass
class Source:
    """Server A and what the mirror selects from it."""

    url: str
    products: list[int]
    data_sets: list[int]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    store = build_demo_store(tmp_path_factory.mktemp("mirror") / "a", scale=0.12)  # 3+ tiers
    with BackgroundServer(create_app(store)) as a:
        api = ImageDownloadApi(base_uri=a.url)
        products = sorted({p["id"] for p in api.model_query("Product", num_rows="all")})
        by_product = api.get_section_data_sets_by_product(products, include_failed=True)
        chosen = products[:2]
        data_sets = [d["id"] for d in api.get_section_data_sets_by_product(chosen, True)]
        assert by_product and data_sets
        yield Source(a.url, chosen, data_sets)
    store.close()


@pytest.fixture(scope="module", params=DATABASES)
def pair(
    request: pytest.FixtureRequest, source: Source, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """A mirrored into B on each database: by the command on SQLite (it has no --db yet), by
    `mirror` into a store on PostgreSQL."""
    root = tmp_path_factory.mktemp("mirrored") / "b"
    database = databases(request)("mirror")
    if database is None:
        arguments = ["mirror", "--from", source.url, "--store", str(root), "--quiet"]
        arguments += [f"--product={product}" for product in source.products]
        arguments += ["--atlas", str(ATLAS), "--downsample", ",".join(map(str, LEVELS))]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, result.output
        assert " 0 already held, 0 failed" in result.output
    else:
        selection = Selection(products=tuple(source.products), atlases=(ATLAS,))
        target = Store.create(root, database)
        report = asyncio.run(mirror(source.url, target, selection, list(LEVELS), quiet=True))
        target.close()
        assert report.fetched > 0 and (report.skipped, report.failures) == (0, {})
    mirrored = Store.open(root, database)
    with BackgroundServer(create_app(mirrored)) as b:
        yield Pair(source.url, b.url, root, database, source.products, source.data_sets)
    mirrored.close()


def test_seed_queries_agree(pair: Pair) -> None:
    a, b = ImageDownloadApi(base_uri=pair.a), ImageDownloadApi(base_uri=pair.b)
    for product in pair.products:
        assert b.get_section_data_sets_by_product([product]) == (
            a.get_section_data_sets_by_product([product])
        )
    image_ids = []
    for data_set in pair.data_sets:
        images = a.section_image_query(data_set)
        assert b.section_image_query(data_set) == images
        image_ids += [image["id"] for image in images]
    assert b.get_section_image_ranges(image_ids) == a.get_section_image_ranges(image_ids)
    assert b.atlas_image_query(ATLAS) == a.atlas_image_query(ATLAS)
    include = "products,equalization,plane_of_section"
    mirrored = b.model_query("SectionDataSet", include=include, num_rows="all")
    source = a.model_query("SectionDataSet", include=include, num_rows="all")
    assert mirrored == [d for d in source if d["id"] in pair.data_sets]


def picture(url: str, endpoint: str, image_id: int, query: str) -> np.ndarray:
    reply = request(f"{url}/api/v2/{endpoint}/{image_id}?{query}")
    assert reply.status == 200, reply.body
    return simplejpeg.decode_jpeg(reply.body).astype(np.int16)


def test_pictures_agree_at_the_mirrored_level(pair: Pair) -> None:
    a = ImageDownloadApi(base_uri=pair.a)
    section = a.section_image_query(pair.data_sets[0])[0]["id"]
    plate = a.atlas_image_query(ATLAS)[0]["id"]
    requests = [("section_image_download", section, "downsample=7&quality=90")]
    for level in LEVELS:
        requests += [
            ("section_image_download", section, f"downsample={level}"),
            ("section_image_download", section, f"downsample={level}&view=expression"),
            (
                "section_image_download",
                section,
                f"downsample={level}&left=40&top=30&width=50&height=40",
            ),
            ("atlas_image_download", plate, f"downsample={level}"),
            ("atlas_image_download", plate, f"downsample={level}&annotation=true&atlas={ATLAS}"),
        ]
    for endpoint, image_id, query in requests:
        expected = picture(pair.a, endpoint, image_id, query)
        got = picture(pair.b, endpoint, image_id, query)
        assert got.shape == expected.shape, query
        assert np.abs(got - expected).mean() < JPEG_TOLERANCE, query
    reply = request(f"{pair.b}/api/v2/section_image_download/{section}?downsample=0")
    assert reply.status == 404
    assert "holds downsample 1, 2 only, not 0" in reply.text


def test_rerun_fetches_nothing_new_and_resumes(pair: Pair) -> None:
    store = Store.open(pair.b_root, pair.b_database)
    selection = Selection(products=tuple(pair.products), atlases=(ATLAS,))
    report = asyncio.run(mirror(pair.a, store, selection, list(LEVELS), quiet=True))
    assert (report.fetched, report.failures) == (0, {})
    held = report.skipped
    with store.session() as session:  # as if the run had stopped before the last pyramid
        last = session.execute(select(mirrored_pyramids).limit(1)).one()
        table = mirrored_pyramids.c
        held_level = (table.path == last.path) & (table.downsample == last.downsample)
        session.execute(delete(mirrored_pyramids).where(held_level))
    report = asyncio.run(mirror(pair.a, store, selection, list(LEVELS), quiet=True))
    store.close()
    assert (report.fetched, report.skipped, report.failures) == (1, held - 1, {})


async def selected_data_sets(url: str, selection: Selection) -> list[int]:
    async with AsyncClient(url) as client:
        metadata = await fetch_metadata(client, selection)
    return [record["id"] for record in metadata.records[0][1]]


def test_gene_and_plane_selectors(source: Source) -> None:
    a = ImageDownloadApi(base_uri=source.url)
    data_sets = a.model_query("SectionDataSet", include="genes,plane_of_section", num_rows="all")
    gene = data_sets[0]["genes"][0]["acronym"]
    plane = data_sets[0]["plane_of_section"]
    cases = {
        Selection(genes=(gene,)): lambda d: gene in {g["acronym"] for g in d["genes"]},
        Selection(planes=(plane["name"],)): lambda d: d["plane_of_section_id"] == plane["id"],
        Selection(planes=(str(plane["id"]),), data_sets=(data_sets[0]["id"],)): (
            lambda d: d["id"] == data_sets[0]["id"]
        ),
    }
    for selection, keep in cases.items():
        expected = [d["id"] for d in data_sets if keep(d)]
        assert asyncio.run(selected_data_sets(source.url, selection)) == expected, selection


@pytest.mark.parametrize("where", ["pixels under a file", "a damaged database"])
def test_a_store_that_cannot_be_made_or_opened_is_one_line_exit_2(
    source: Source, tmp_path: Path, where: str
) -> None:
    file = tmp_path / "file"
    file.write_text("not a store")
    folder = tmp_path / "b"
    chosen = ["--pixels", str(file / "pixels")]
    if where == "a damaged database":
        folder.mkdir()
        (folder / "brainmap.sqlite").write_text("not a database")
        chosen = []
    arguments = ["mirror", "--from", source.url, "--store", str(folder), *chosen, "--quiet"]
    arguments += [f"--data-set={source.data_sets[0]}", "--downsample", "4"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "is not a brainmap store" in result.output and "Traceback" not in result.output
    assert sorted(path.name for path in tmp_path.rglob("*")) == sorted(
        ["file", *(["b", "brainmap.sqlite"] if not chosen else [])]
    )
