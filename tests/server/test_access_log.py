"""The access log: one line a request, JSON or text, from the app and from `brainmap serve`."""

from __future__ import annotations

import io
import json
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from brainmap.server.access_log import AccessLog, access_log_for
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from loopback import free_port, request
from small_store import ISH_IMAGE, SmallStore


def test_one_json_line_a_request(small_store: SmallStore) -> None:
    written = io.StringIO()
    app = create_app(small_store.store, access_log=AccessLog(True, written))
    with BackgroundServer(app) as server:
        answer = request(f"{server.url}/api/v2/data/query.json?q=model::Product")
        missing = request(f"{server.url}/api/v2/section_image_download/999999")
    first, second = (json.loads(line) for line in written.getvalue().splitlines())
    assert first["client"] == "127.0.0.1" and first["method"] == "GET"
    assert first["target"] == "/api/v2/data/query.json?q=model::Product"
    assert (first["status"], first["bytes"], first["family"]) == (200, len(answer.body), "data")
    assert first["seconds"] > 0
    assert second["target"] == "/api/v2/section_image_download/999999"
    assert (second["status"], second["bytes"], second["family"]) == (
        404,
        len(missing.body),
        "image",
    )


def test_text_lines_and_formats(small_store: SmallStore) -> None:
    written = io.StringIO()
    with BackgroundServer(
        create_app(small_store.store, access_log=AccessLog(False, written))
    ) as server:
        reply = request(f"{server.url}/iiif/3/{ISH_IMAGE}/info.json")
    (line,) = written.getvalue().splitlines()
    fields = line.split(" ")
    assert fields[1:] == [
        "127.0.0.1",
        "GET",
        f"'/iiif/3/{ISH_IMAGE}/info.json'",
        "200",
        str(len(reply.body)),
        fields[6],
        "iiif",
    ]
    assert fields[6].endswith("s") and float(fields[6][:-1]) > 0
    assert access_log_for("off") is None and access_log_for(None) is None
    with pytest.raises(ValueError, match="'xml' is not one of json, text, off"):
        access_log_for("xml")


def test_serve_writes_json_lines(small_store: SmallStore) -> None:
    port = free_port()
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store"]
    command += [str(small_store.store.root), "--port", str(port), "--access-log", "json"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
    )
    try:
        assert server.stdout is not None
        assert "brainmap: serving" in server.stdout.readline()
        assert request(f"http://127.0.0.1:{port}/api/v2/svg/999999").status == 404
        with selectors.DefaultSelector() as waiting:
            waiting.register(server.stdout, selectors.EVENT_READ)
            assert waiting.select(timeout=10), "no access log line within 10 s"
        line = json.loads(server.stdout.readline())
        assert (line["target"], line["status"], line["family"]) == (
            "/api/v2/svg/999999",
            404,
            "svg",
        )
    finally:
        server.terminate()
        server.communicate(timeout=30)
