"""Ingested data sets appear in the viewer's catalogue: linked to a product (the default "lab"
product, made once, or one named by id or name), with their plane of section, found by the
catalogue's own queries against the real server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import pyvips
from click.testing import CliRunner
from sqlalchemy import func, select

from brainmap.cli import main
from brainmap.ingest.errors import IngestNotFound, IngestUsageError
from brainmap.ingest.images import ingest_images
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import PlaneOfSection, Product
from brainmap.store.writes import OWN_IDS_FROM as FIRST
from loopback import get_json

# The viewer's catalogue (web/src/catalog.js): products, then a product's data sets.
PRODUCTS = "model::Product,rma::options[order$eqid][num_rows$eq'all']"
DATA_SETS = (
    "model::DataSet,rma::criteria,products[id$eq{product}],rma::include,genes,plane_of_section,"
    "rma::options[order$eqid][num_rows$eq50][start_row$eq0]"
)


def _image(path: Path) -> Path:
    pyvips.Image.new_from_array(np.full((64, 96), 120, np.uint8)).write_to_file(str(path))
    return path


def _query(url: str, criteria: str) -> list[dict[str, object]]:
    answer = get_json(url, "/api/v2/data/query.json", f"criteria={quote(criteria)}")
    assert answer["success"] is True
    return answer["msg"]  # type: ignore[no-any-return]


def test_ingested_data_sets_are_listed_under_their_product(tmp_path: Path) -> None:
    store = Store.create(tmp_path / "store")
    first = ingest_images(store, [_image(tmp_path / "a.png")], data_set_id=10, plane="coronal")
    second = ingest_images(store, [_image(tmp_path / "b.png")], data_set_id=11, plane="2")
    named = ingest_images(
        store,
        [_image(tmp_path / "c.png")],
        data_set_id=12,
        product="Lab of Cortex",
        plane="Horizontal",
    )
    by_id = ingest_images(
        store, [_image(tmp_path / "d.png")], data_set_id=13, product=str(named.product_id)
    )
    assert first.product_id == second.product_id != named.product_id == by_id.product_id
    assert (first.product_name, named.product_name) == ("lab", "Lab of Cortex")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 2
        planes = {p.id: p.name for p in session.scalars(select(PlaneOfSection))}
        assert planes == {1: "coronal", 2: "sagittal", 3: "horizontal"}
    with BackgroundServer(create_app(store)) as server:
        products = {p["id"]: p["name"] for p in _query(server.url, PRODUCTS)}
        assert products == {first.product_id: "lab", named.product_id: "Lab of Cortex"}
        lab = _query(server.url, DATA_SETS.format(product=first.product_id))
        assert [(d["id"], d["plane_of_section"]["name"]) for d in lab] == [  # type: ignore[index]
            (10, "coronal"),
            (11, "sagittal"),
        ]
        cortex = _query(server.url, DATA_SETS.format(product=named.product_id))
        assert [d["id"] for d in cortex] == [12, 13]


def test_an_unknown_product_id_or_plane_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    store = Store.create(tmp_path / "store")
    image = _image(tmp_path / "a.png")
    with pytest.raises(IngestNotFound, match="--product 999: no product with that id"):
        ingest_images(store, [image], data_set_id=1, product="999")
    with pytest.raises(IngestUsageError, match="--plane diagonal: not a plane of section"):
        ingest_images(store, [image], data_set_id=1, plane="diagonal")
    ingest_images(store, [image], data_set_id=1, plane="coronal")
    with pytest.raises(IngestUsageError, match="data set 1 is already cut in plane 1"):
        ingest_images(store, [_image(tmp_path / "b.png")], data_set_id=1, plane="sagittal")


def test_the_cli_prints_the_ids_and_the_viewer_link(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    images = [str(_image(tmp_path / f"{n}.png")) for n in "abc"]
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            "--store",
            str(store_dir),
            "--data-set",
            "8",
            "--resolution",
            "1.5",
            "--plane",
            "sagittal",
            *images,
        ],
    )
    assert result.exit_code == 0, result.output
    ids = f"ids {FIRST}-{FIRST + 2}"
    assert f'data set 8: 3 new section images ({ids}), listed under product {FIRST} "lab"' in (
        result.output
    )
    assert f"brainmap serve --store {store_dir}" in result.output
    assert f"http://127.0.0.1:8080/#image={FIRST}\n" in result.output
