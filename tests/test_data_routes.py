"""The data routes, called as an ASGI app (raw requests: no HTTP client needed, any URL length)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from starlette.applications import Starlette

from brainmap.server.data_routes import data_routes
from test_rma_sql import make_store


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    app = Starlette(routes=data_routes())
    app.state.store = make_store(Path(tmp_path_factory.mktemp("routes")))
    return app


def call(app: Starlette, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """One GET through the ASGI interface; `query` is sent byte for byte."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "root_path": "",
        "app": app,
    }
    sent: list[dict[str, Any]] = []

    async def exchange() -> None:
        done = anyio.Event()
        requests = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive() -> dict[str, Any]:
            request = next(requests, None)
            if request is None:
                await done.wait()
                return {"type": "http.disconnect"}
            return request

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app(scope, receive, send)

    anyio.run(exchange)
    start = sent[0]
    headers = {key.decode(): value.decode() for key, value in start["headers"]}
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], headers, body


def get_json(app: Starlette, path: str, query: str = "") -> dict[str, Any]:
    status, headers, body = call(app, path, query)
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)  # type: ignore[no-any-return]


ATLAS_IMAGES = (
    "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
    "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,[annotated$eqtrue],"
    "atlas_data_set(atlases[id$eq1]),alternate_images[image_type$eq$type_name],"
    "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
)


def test_allensdk_encoding(app: Starlette) -> None:
    # requests.utils.quote(url, ';/?:@&=+$,'): brackets, quotes, parentheses, spaces encoded.
    query = "q=" + quote(ATLAS_IMAGES, safe=";/?:@&=+$,")
    reply = get_json(app, "/api/v2/data/query.json", query)
    assert [record["id"] for record in reply["msg"]] == [2002, 2001]
    assert (reply["success"], reply["num_rows"], reply["total_rows"]) == (True, 2, 2)


def test_unencoded_brackets_quotes_and_plus_for_space(app: Starlette) -> None:
    query = (
        "criteria=model::AtlasImage,rma::criteria,[annotated$eqtrue],"
        "alternate_images[image_type$eq'Atlas+-+Adult+Mouse'],rma::options[only$eqid]"
    )
    reply = get_json(app, "/api/v2/data/query.json", query)
    assert reply["msg"] == [{"id": 2001}, {"id": 2002}, {"id": 2101}]


def test_json_envelope_bytes(app: Starlette) -> None:
    _, _, body = call(
        app, "/api/v2/data/query.json", "q=model::Gene,rma::options[only$eqid][num_rows$eq2]"
    )
    assert body == (
        b'{"success": true, "id": 0, "start_row": 0, "num_rows": 2, "total_rows": 120, '
        b'"msg": [{"id":1},{"id":2}]}'
    )


def test_all_rows_stream(app: Starlette) -> None:
    reply = get_json(app, "/api/v2/data/query.json", "q=model::Gene,rma::options[num_rows$eq'all']")
    assert len(reply["msg"]) == reply["num_rows"] == reply["total_rows"] == 120


def test_error_is_200_with_success_false(app: Starlette) -> None:
    reply = get_json(app, "/api/v2/data/query.json", "q=model::Nope")
    assert reply == {
        "success": False,
        "id": 0,
        "start_row": 0,
        "num_rows": 0,
        "total_rows": 0,
        "msg": "Error in query: model::Nope, unknown model Nope",
    }
    assert get_json(app, "/api/v2/data/query.json", "q=model::Gene,[")["success"] is False
    assert get_json(app, "/api/v2/data/query.json")["msg"] == "Error in query: , empty query"


def test_injection_in_the_url(app: Starlette) -> None:
    name = quote("'O''Brien; DROP TABLE genes; --'")
    reply = get_json(app, "/api/v2/data/query.json", f"q=model::Gene,rma::criteria,[name$eq{name}]")
    assert [record["id"] for record in reply["msg"]] == [17]
    assert get_json(app, "/api/v2/data/query.json", "q=model::Gene")["total_rows"] == 120


def test_xml_and_csv(app: Starlette) -> None:
    query = (
        "q=model::SectionDataSet,rma::criteria,[id$in100,102],"
        "rma::options[only$eq'id,failed,qc_date']"
    )
    status, headers, body = call(app, "/api/v2/data/query.xml", query)
    assert status == 200 and headers["content-type"] == "application/xml"
    assert b'<Response success="true" id="0" start_row="0" num_rows="2" total_rows="2">' in body
    assert b"<section-data-set><failed>false</failed><id>100</id>" in body
    status, headers, body = call(app, "/api/v2/data/query.csv", query)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert body == b"id,failed,qc_date\n100,f,\n102,f,2011-12-14T18:20:48Z\n"


def test_record_by_id(app: Starlette) -> None:
    reply = get_json(
        app, "/api/v2/data/SectionDataSet/100.json", "include=equalization,section_images"
    )
    (record,) = reply["msg"]
    assert record["id"] == 100 and record["equalization"]["red_upper"] == 923
    assert [image["id"] for image in record["section_images"]] == [1001, 1002, 1003]
    assert get_json(app, "/api/v2/data/SectionDataSet/999.json")["msg"] == []
    assert get_json(app, "/api/v2/data/Nope/1.json")["success"] is False


def test_legacy_model_query(app: Starlette) -> None:
    reply = get_json(
        app,
        "/api/v2/data/Gene/query.json",
        "criteria=[acronym$il'adora*']&include=organism&only=id,organisms.name",
    )
    assert reply["msg"] == [{"id": 15, "organism": {"name": "Mus musculus"}}]
    paged = get_json(app, "/api/v2/data/Gene/query.json", "order=id+desc&num_rows=2&start_row=1")
    assert [record["id"] for record in paged["msg"]] == [119, 118]
    assert paged["start_row"] == 1 and paged["total_rows"] == 120
    assert get_json(app, "/api/v2/data/Gene/query.json", "num_rows=x")["success"] is False


def test_include_model_variant(app: Starlette) -> None:
    reply = get_json(app, "/api/v2/data/query.json", "include=model::Gene[id$eq15]")
    assert [record["acronym"] for record in reply["msg"]] == ["Adora2a"]


def test_limits_and_unknown_formats(app: Starlette) -> None:
    status, _, _ = call(app, "/api/v2/data/query.json", "q=model::Gene" + "," * 70_000)
    assert status == 414
    status, _, _ = call(app, "/api/v2/data/query.txt", "q=model::Gene")
    assert status == 404
