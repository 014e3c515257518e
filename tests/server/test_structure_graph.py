"""`structure_graph_download/{id}.json` over loopback: nesting, field order, unknown graphs."""

from __future__ import annotations

import json

from loopback import call

FIELDS = [
    "id",
    "atlas_id",
    "ontology_id",
    "acronym",
    "name",
    "color_hex_triplet",
    "graph_order",
    "st_level",
    "hemisphere_id",
    "parent_structure_id",
    "children",
]


def test_nested_ontology_in_download_order(rma_server: str) -> None:
    status, headers, body = call(rma_server, "/api/v2/structure_graph_download/1.json")
    assert status == 200 and headers["content-type"] == "application/json"
    reply = json.loads(body)
    assert (reply["success"], reply["num_rows"], reply["total_rows"]) == (True, 1, 1)
    (root,) = reply["msg"]
    assert list(root) == FIELDS
    assert [child["acronym"] for child in root["children"]] == ["grey", "fiber"]
    grey = root["children"][0]
    assert grey["parent_structure_id"] == 997
    assert [child["id"] for child in grey["children"]] == [567]
    assert grey["children"][0]["children"] == []


def test_unknown_graph_is_empty(rma_server: str) -> None:
    status, _, body = call(rma_server, "/api/v2/structure_graph_download/999.json")
    assert status == 200
    assert body == (
        b'{"success": true, "id": 0, "start_row": 0, "num_rows": 0, "total_rows": 0, "msg": []}'
    )
