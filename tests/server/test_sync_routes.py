"""The image-sync services and reference_to_structure over loopback, and the ReferenceSpace
model they rest on."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from brainmap.cli import main
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from loopback import get_json

SPACE = {"id": 9, "name": "P56 Brain", "structure_graph_id": None, "age_id": 15}


def test_reference_space_imports_and_is_served(tmp_path: Path) -> None:
    records = tmp_path / "spaces.json"
    records.write_text(json.dumps([SPACE]))
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main, ["import", "--store", str(store), "--model", "ReferenceSpace", str(records)]
    )
    assert result.exit_code == 0, result.output
    with BackgroundServer(create_app(Store.open(store))) as server:
        reply = get_json(server.url, "/api/v2/data/ReferenceSpace/9.json")
    assert reply["msg"] == [
        {
            "age_id": 15,
            "id": 9,
            "name": "P56 Brain",
            "resolution_i": None,
            "resolution_p": None,
            "resolution_r": None,
            "structure_graph_id": None,
        }
    ]
