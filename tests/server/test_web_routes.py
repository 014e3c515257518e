"""The viewer's routes without a browser: page and assets when built, 503 saying how otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette

from brainmap.server.background import BackgroundServer
from brainmap.server.routes.web import web_routes
from viewer_build import require_built_viewer


@contextmanager
def client_for(static_dir: Path) -> Iterator[httpx.Client]:
    """A client of a real server on loopback with the web routes over `static_dir`."""
    with (
        BackgroundServer(Starlette(routes=web_routes(static_dir))) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        yield client


def test_a_built_folder_serves_the_page_and_its_assets(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>viewer</title>")
    (tmp_path / "viewer.js").write_text("export {};")
    with client_for(tmp_path) as client:
        page = client.get("/")
        script = client.get("/static/viewer.js")
        missing = client.get("/static/missing.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert missing.status_code == 404


def test_without_a_build_the_viewer_answers_503_saying_how_to_build_it(tmp_path: Path) -> None:
    with client_for(tmp_path / "not-built") as client:
        replies = [client.get(path) for path in ("/", "/static/viewer.js")]
    for reply in replies:
        assert reply.status_code == 503
        assert reply.headers["content-type"].startswith("text/plain")
        assert "not built" in reply.text
        assert "Node.js" in reply.text and "npm" in reply.text and "reinstall" in reply.text


def test_the_server_serves_the_installed_viewer_beside_the_api(small_server: str) -> None:
    require_built_viewer()
    page = httpx.get(f"{small_server}/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page.text)
    assert {"static/viewer.js", "static/viewer.css"} <= set(assets)
    for asset in [*assets, "static/images/zoomin_rest.png"]:
        assert httpx.get(f"{small_server}/{asset}", timeout=10).status_code == 200, asset
    query = httpx.get(f"{small_server}/api/v2/data/query.json?q=model::Product", timeout=10)
    assert query.json()["total_rows"] == 2
