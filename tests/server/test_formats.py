"""Response writers: JSON bytes as the real API writes them, XML and CSV shapes, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from brainmap.errors import RmaError
from brainmap.server.formats import FORMATS, csv_chunks, json_chunks, json_error, xml_chunks
from brainmap.store.query.result import QueryResult

# A real record (a ProjectionImage of specimen 313862022) and the wire bytes of a one-record
# page: the envelope with ": " and ", ", the records compact.
RECORD = {
    "annotated": False,
    "axes": "xy",
    "bits_per_component": 8,
    "data_set_id": None,
    "height": 7570,
    "id": 324089927,
    "image_type": "MaximumIntensityProjection - xy",
    "resolution": 0.1144,
}
WIRE = (
    b'{"success": true, "id": 0, "start_row": 0, "num_rows": 1, "total_rows": 4, "msg": '
    b'[{"annotated":false,"axes":"xy","bits_per_component":8,"data_set_id":null,"height":7570,'
    b'"id":324089927,"image_type":"MaximumIntensityProjection - xy","resolution":0.1144}]}'
)
EMPTY = b'{"success": true, "id": 0, "start_row": 0, "num_rows": 0, "total_rows": 0, "msg": []}'


def result(records: list[dict[str, Any]], total: int, **kw: Any) -> QueryResult:
    columns = kw.pop("columns", tuple(records[0]) if records else ())
    return QueryResult(
        kw.pop("model", "ProjectionImage"), columns, 0, len(records), total, iter(records)
    )


def body(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def test_json_bytes_match_the_wire() -> None:
    assert body(json_chunks(result([RECORD], 4))) == WIRE
    assert len(EMPTY) == 85
    assert body(json_chunks(result([], 0))) == EMPTY


def test_json_streams_many_records_in_chunks() -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(1000)]
    chunks = list(json_chunks(result(records, 1000)))
    assert len(chunks) > 3
    parsed = json.loads(b"".join(chunks))
    assert parsed["msg"] == records and parsed["num_rows"] == 1000


def test_json_keeps_unicode_and_floats() -> None:
    text = body(json_chunks(result([{"name": "Ünïcødé ☃", "thickness": 25.0}], 1)))
    assert '"msg": [{"name":"Ünïcødé ☃","thickness":25.0}]}'.encode() in text


def test_json_error_envelope() -> None:
    error = RmaError("model::Nope", "unknown model Nope")
    assert json_error(error) == (
        b'{"success": false, "id": 0, "start_row": 0, "num_rows": 0, "total_rows": 0, '
        b'"msg": "Error in query: model::Nope, unknown model Nope"}'
    )


def test_xml_shape() -> None:
    records = [
        {
            "id": 100,
            "failed": False,
            "name": None,
            "note": "a < b & c",
            "equalization": {"red_upper": 923},
            "sub_images": [{"id": 1}, {"id": 2}],
        }
    ]
    text = body(xml_chunks(result(records, 1, model="SectionDataSet"))).decode()
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Response success="true" id="0" start_row="0" num_rows="1" total_rows="1">'
        "<section-data-sets><section-data-set><id>100</id><failed>false</failed>"
        '<name nil="true"/><note>a &lt; b &amp; c</note>'
        "<equalization><red-upper>923</red-upper></equalization>"
        "<sub-images><sub-image><id>1</id></sub-image><sub-image><id>2</id></sub-image></sub-images>"
        "</section-data-set></section-data-sets></Response>"
    )


def test_xml_plural_of_atlas() -> None:
    text = body(xml_chunks(result([{"id": 1}], 1, model="Atlas"))).decode()
    assert "<atlases><atlas><id>1</id></atlas></atlases>" in text


def test_csv_header_booleans_nulls() -> None:
    records = [
        {
            "acronym": "root",
            "failed": False,
            "id": 997,
            "name": "root",
            "parent_structure_id": None,
        },
        {
            "acronym": "FRP",
            "failed": True,
            "id": 184,
            "name": "Frontal pole, cortex",
            "parent_structure_id": 315,
        },
    ]
    columns = ("id", "name", "acronym", "parent_structure_id", "failed")
    text = body(csv_chunks(result(records, 2, columns=columns)))
    assert text == (
        b"id,name,acronym,parent_structure_id,failed\n"
        b"997,root,root,,f\n"
        b'184,"Frontal pole, cortex",FRP,315,t\n'
    )


def test_formats_registry() -> None:
    assert {name: form.media_type for name, form in FORMATS.items()} == {
        "json": "application/json",
        "xml": "application/xml",
        "csv": "text/csv",
    }
    error = RmaError("model::X", "unknown model X")
    assert b"<msg>Error in query: model::X, unknown model X</msg>" in FORMATS["xml"].error(error)
    assert FORMATS["csv"].error(error) == b"Error in query: model::X, unknown model X\n"
