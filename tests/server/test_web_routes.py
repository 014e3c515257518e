"""The viewer's routes without a browser: page and assets when built, 503 saying how otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.applications import Starlette

from brainmap.server.background import BackgroundServer
from brainmap.server.routes.web import web_routes
from loopback import request
from viewer_build import require_built_viewer


@contextmanager
def server_for(static_dir: Path) -> Iterator[str]:
    """The base URL of a real server on loopback with the web routes over `static_dir`."""
    with BackgroundServer(Starlette(routes=web_routes(static_dir))) as server:
        yield server.url


def test_a_built_folder_serves_the_page_and_its_assets(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>viewer</title>")
    (tmp_path / "viewer.js").write_text("export {};")
    with server_for(tmp_path) as base:
        page = request(base + "/")
        script = request(base + "/static/viewer.js")
        missing = request(base + "/static/missing.js")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")
    assert script.status == 200
    assert "javascript" in script.headers["content-type"]
    assert missing.status == 404


def test_without_a_build_the_viewer_answers_503_saying_how_to_build_it(tmp_path: Path) -> None:
    with server_for(tmp_path / "not-built") as base:
        replies = [request(base + path) for path in ("/", "/static/viewer.js")]
    for reply in replies:
        assert reply.status == 503
        assert reply.headers["content-type"].startswith("text/plain")
        assert "not built" in reply.text
        assert "Node.js" in reply.text and "npm" in reply.text and "reinstall" in reply.text


def test_the_server_serves_the_installed_viewer_beside_the_api(small_server: str) -> None:
    require_built_viewer()
    page = request(f"{small_server}/")
    assert page.status == 200
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page.text)
    assert {"static/viewer.js", "static/viewer.css"} <= set(assets)
    for asset in [*assets, "static/images/zoomin_rest.png"]:
        assert request(f"{small_server}/{asset}").status == 200, asset
    query = request(f"{small_server}/api/v2/data/query.json?q=model::Product")
    assert query.json()["total_rows"] == 2
