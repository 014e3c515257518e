"""``brainmap demo-store DIR --db URL --pixels URL``: the demo store built, then copied into the
database and pixel root named, answering as the demo store on disk does."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import fsspec
import pytest
from click.testing import CliRunner
from demo_scale import SCALE
from sqlalchemy import select

from brainmap.cli import main
from brainmap.demo import phantom
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.schema import SectionImage
from loopback import request
from postgres import NewDatabase

QUERIES = [
    "/api/v2/data/query.json?criteria=model::SectionImage,rma::options[num_rows$eq5]",
    "/api/v2/data/query.json?criteria=model::ReferenceSpace",
]


def _answers(store: Store, image_id: int) -> list[tuple[int, bytes]]:
    paths = [*QUERIES, f"/api/v2/image_download/{image_id}?downsample=1"]
    paths.append("/api/v2/reference_to_structure/9.json?x=5000&y=3000&z=5000")
    with BackgroundServer(create_app(store)) as server:
        return [(reply.status, reply.body) for reply in (request(server.url + p) for p in paths)]


def test_the_demo_store_is_copied_where_db_and_pixels_say(
    tmp_path: Path,
    bucket: str,
    new_database: NewDatabase,
    demo_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(phantom, "build_demo_store", partial(phantom.build_demo_store, scale=SCALE))
    database = new_database("demo")
    pixels = f"s3://{bucket}/demo"
    chosen = ["--db", database] if database else []
    folder = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo-store", str(folder), *chosen, "--pixels", pixels])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output and "demo store ready in" in result.output
    assert not (folder / "pyramids").exists() and not (folder / "reference").exists()
    assert fsspec.filesystem("s3").find(f"{bucket}/demo/pyramids")
    with demo_store.session() as session:
        image_id = min(session.scalars(select(SectionImage.id)))
    copied = Store.open(folder, database, pixels)
    try:
        expected, found = _answers(demo_store, image_id), _answers(copied, image_id)
    finally:
        copied.close()
    assert [status for status, _ in expected] == [200] * len(expected)
    assert found == expected


@pytest.mark.parametrize("elsewhere", [[], ["--pixels", "{file}/pixels"], ["--db", "bogus://x"]])
def test_a_target_that_cannot_be_made_is_one_line_before_any_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: list[str]
) -> None:
    def never(*_args: object, **_kwargs: object) -> Store:
        raise AssertionError("the demo store was built for a target that cannot be made")

    if elsewhere:
        monkeypatch.setattr(phantom, "build_demo_store", never)
    file = tmp_path / "file"
    file.write_text("a file, not a folder")
    folder = tmp_path / "demo" if elsewhere else file / "demo"
    options = [option.format(file=file) for option in elsewhere]
    result = CliRunner().invoke(main, ["demo-store", str(folder), *options])
    assert result.exit_code == 2, result.output
    assert "is not a brainmap store" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "demo").exists()
